/// A `Range` request header (RFC 9110 §14), for one representation of `size` bytes.
///
/// Written here rather than taken from Hummingbird's file middleware because that one reads `bytes=-N` as the
/// first N bytes and answers malformed headers with 416. Offsets are `Int64` on every architecture and parsed
/// without a sum that can overflow: a number past `Int64.max` is malformed, a start at or past the end (even
/// `Int64.max`) unsatisfiable, an end past the object clamped to its last byte. ``FileBodySender`` keeps them
/// `Int64` down to `pread64`, so a box whose `Int` is 32 bits can serve ranges past 2 GiB too (tested here with
/// offsets past 2^32 on x86_64; no armhf build runs).
public enum ByteRangeRequest: Equatable, Sendable {
    /// No usable Range: send the whole object (no header, another unit, or several ranges, which a server may
    /// ignore).
    case whole
    /// One satisfiable range, clamped to the object.
    case partial(ClosedRange<Int64>)
    /// Syntactically valid, but starts past the end (or asks for the last 0 bytes): 416.
    case unsatisfiable
    /// `bytes=` followed by something that is not a byte range: 400.
    case malformed

    public init(header: String?, size: Int64) {
        guard let header else {
            self = .whole
            return
        }
        let trimmed = header.trimmingWhitespace()
        guard let equals = trimmed.firstIndex(of: "=") else {
            self = .malformed
            return
        }
        guard trimmed[..<equals].lowercased() == "bytes" else {
            self = .whole
            return
        }
        let spec = String(trimmed[trimmed.index(after: equals)...]).trimmingWhitespace()
        // Empty list elements are allowed and ignored (RFC 9110 §5.6.1.2).
        let parts = spec.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
            .filter { !$0.isEmpty }
        switch parts.count {
        case 0: self = .malformed
        case 1: self = Self.parse(parts[0], size: size)
        // Several ranges: served whole (a server may ignore Range), but only if every part is well-formed.
        default: self = parts.allSatisfy({ Self.parse($0, size: size) != .malformed }) ? .whole : .malformed
        }
    }

    private static func parse(_ spec: String, size: Int64) -> ByteRangeRequest {
        guard let dash = spec.firstIndex(of: "-") else { return .malformed }
        let first = spec[..<dash]
        let last = spec[spec.index(after: dash)...]
        guard first.allSatisfy(\.isASCIIDigit), last.allSatisfy(\.isASCIIDigit), first.count <= 19, last.count <= 19
        else {
            return .malformed
        }
        if first.isEmpty {
            // Suffix range: the last N bytes.
            guard let count = Int64(last) else { return .malformed }
            guard count > 0, size > 0 else { return .unsatisfiable }
            return .partial(max(0, size - count)...(size - 1))
        }
        guard let start = Int64(first) else { return .malformed }
        let end: Int64
        if last.isEmpty {
            end = size - 1
        } else {
            guard let value = Int64(last), value >= start else { return .malformed }
            end = min(value, size - 1)
        }
        guard start < size else { return .unsatisfiable }
        return .partial(start...end)
    }
}

extension String {
    /// Without the spaces and tabs HTTP allows around values (OWS).
    package func trimmingWhitespace() -> String {
        var view = Substring(self)
        while view.first == " " || view.first == "\t" { view = view.dropFirst() }
        while view.last == " " || view.last == "\t" { view = view.dropLast() }
        return String(view)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
