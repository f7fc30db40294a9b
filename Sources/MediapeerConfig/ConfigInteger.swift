/// The integers of a configuration file, read as `Int64` on every architecture.
///
/// TOMLKit's `int` is `Int(int64_t)`, which traps on a 32-bit box (armhf) for any value past 2^31 - 1, such as the
/// documented `cache_max = 10737418240`, and so does every other TOMLKit accessor of an integer. toml++ has checked
/// the document by then, so a value TOMLKit calls an integer is a valid TOML integer literal within 64 bits; the
/// reader reads it from the text (``SourceMap/bareValue(of:)``) with this, on 64-bit machines too, so the tests here
/// run the code an armhf box runs.
enum ConfigInteger {
    /// The value of a TOML integer literal: decimal with an optional sign, or `0x`, `0o` or `0b` digits, with `_`
    /// between digits; nil if the text is not one or does not fit in 64 bits.
    static func parse(_ literal: String) -> Int64? {
        let digits = literal.filter { $0 != "_" }
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where digits.hasPrefix(prefix) {
            let rest = digits.dropFirst(prefix.count)
            // Int64(_:radix:) would take a sign here; TOML does not.
            guard let first = rest.first, first.isHexDigit else { return nil }
            return Int64(rest, radix: radix)
        }
        return Int64(digits)
    }
}
