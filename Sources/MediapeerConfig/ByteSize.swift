/// A size in bytes as the configuration writes it: an integer number of bytes, or a number with a unit such as
/// `"64MiB"` or `"1.5G"` (the units of ``CacheLimit``, which adds percentages).
enum ByteSize {
    /// Keys are lowercased, because people write "mb", "MB" and "Mb" alike
    /// and mean the same thing by them.
    private static let units: [String: Int64] = [
        "b": 1,
        "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40,
        "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
        "kb": 1_000, "mb": 1_000_000, "gb": 1_000_000_000, "tb": 1_000_000_000_000,
    ]

    static let formsHint = #"write a size such as "64MiB" or "500MB", or an integer number of bytes"#

    /// Parses a size that must leave room for `what` (named in the errors), such as `"a neighbour's catalog"`.
    static func parse(_ text: String, what: String) throws(InvalidValue) -> Int64 {
        let trimmed = text.trimmingBlanks()
        if trimmed.isEmpty {
            throw InvalidValue("is empty; \(formsHint)")
        }
        if trimmed.hasPrefix("-") {
            throw InvalidValue("\(quoted(text)) is negative; \(formsHint)")
        }
        if trimmed.hasSuffix("%") {
            throw InvalidValue("\(quoted(text)) is a percentage, which means nothing here; \(formsHint)")
        }
        return try parse(trimmed: trimmed, text: text, formsHint: formsHint, what: what)
    }

    /// The number and unit of a size that is not empty, negative or a percentage.
    ///
    /// - parameter percentForm: whether the key also takes a percentage, which the hints then mention.
    static func parse(trimmed: String, text: String, formsHint: String, what: String, percentForm: Bool = false)
        throws(InvalidValue) -> Int64
    {
        let numberPart = trimmed.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let unit = trimmed.dropFirst(numberPart.count).trimmingBlanks()
        let pieces = numberPart.split(separator: ".", omittingEmptySubsequences: false)
        guard !numberPart.isEmpty, pieces.count <= 2, let whole = pieces.first, !whole.isEmpty else {
            throw InvalidValue("\(quoted(text)) is not a size; \(formsHint)")
        }
        if unit.isEmpty {
            throw InvalidValue(
                percentForm
                    ? #"\#(quoted(text)) has no unit; write "\#(numberPart)MB", "\#(numberPart)GiB" or "\#(numberPart)%", or, for bytes, an integer without quotes"#
                    : #"\#(quoted(text)) has no unit; write "\#(numberPart)MB" or "\#(numberPart)MiB", or, for bytes, an integer without quotes"#
            )
        }
        guard let multiplier = units[unit.lowercased()] else {
            throw InvalidValue(
                #"\#(quoted(text)) has an unknown unit \#(quoted(unit)); use B, kB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB, K, M, G, T (powers of 1024)"#
            )
        }
        // Bytes are whole, so digits past the sixth decimal cannot change the
        // result by more than a rounding error, and dropping them keeps the
        // arithmetic within Int64 (10^6 * 1024^4 < 2^63).
        let fraction = pieces.count == 2 ? String(pieces[1].prefix(6)) : ""
        guard let wholeValue = Int64(whole) else {
            throw InvalidValue("\(quoted(text)) is too large")
        }
        let fractionValue = Int64(fraction) ?? 0
        let fractionScale = (0..<fraction.count).reduce(Int64(1)) { scale, _ in scale * 10 }
        let (wholeBytes, overflow) = wholeValue.multipliedReportingOverflow(by: multiplier)
        let (bytes, overflow2) = wholeBytes.addingReportingOverflow(fractionValue * multiplier / fractionScale)
        if overflow || overflow2 {
            throw InvalidValue("\(quoted(text)) is too large")
        }
        if bytes <= 0 {
            throw InvalidValue("\(quoted(text)) leaves no room for \(what); \(formsHint)")
        }
        return bytes
    }
}
