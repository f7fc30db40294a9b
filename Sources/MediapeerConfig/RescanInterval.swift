/// The `rescan_interval` syntax: `"0"` for off, or numbers with units
/// (`s`, `m`, `h`, `d`) such as `"30m"`, `"6h"` or `"1h30m"`.
enum RescanInterval {
    private static let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]

    /// The longest `rescan_interval`: a year. Longer is the same as never in practice, and a bound keeps the
    /// daemon's wait in range of every platform's timer arithmetic.
    static let longest = Duration.seconds(365 * 86_400)

    static let formsHint =
        #"write "0" for off, or a duration such as "30m", "6h" or "1d", or an integer number of seconds"#

    /// Returns nil for "off".
    static func parse(_ text: String) throws(InvalidValue) -> Duration? {
        let trimmed = text.trimmingBlanks()
        if trimmed == "0" { return nil }
        if trimmed.isEmpty {
            throw InvalidValue("is empty; \(formsHint)")
        }
        if trimmed.hasPrefix("-") {
            throw InvalidValue(#"\#(quoted(text)) is negative; \#(formsHint)"#)
        }
        if trimmed.allSatisfy({ $0.isASCII && $0.isNumber }) {
            throw InvalidValue(
                #"\#(quoted(text)) has no unit; write "\#(trimmed)s", or the number without quotes, for seconds"#)
        }
        var seconds: Int64 = 0
        var rest = Substring(trimmed)
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            rest = rest.dropFirst(digits.count).drop { $0 == " " }
            let unitText = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unitText.count).drop { $0 == " " }
            guard !digits.isEmpty, !unitText.isEmpty else {
                throw InvalidValue("\(quoted(text)) is not a duration; \(formsHint)")
            }
            guard unitText.count == 1, let multiplier = units[unitText.first!] else {
                throw InvalidValue(
                    #"\#(quoted(text)) has an unknown unit \#(quoted(unitText)); use s, m, h or d, as in "30m" or "6h""#
                )
            }
            guard let count = Int64(digits) else {
                throw InvalidValue("\(quoted(text)) is too long")
            }
            let (part, overflow) = count.multipliedReportingOverflow(by: multiplier)
            let (sum, overflow2) = seconds.addingReportingOverflow(part)
            if overflow || overflow2 {
                throw InvalidValue("\(quoted(text)) is too long")
            }
            seconds = sum
        }
        return try interval(seconds: seconds)
    }

    static func interval(seconds: Int64) throws(InvalidValue) -> Duration? {
        if seconds < 0 {
            throw InvalidValue("\(seconds) is negative; \(formsHint)")
        }
        return seconds == 0 ? nil : .seconds(seconds)
    }

    /// The largest unit that expresses the interval exactly, so that a
    /// rendered configuration reads the way a person would write it.
    static func render(_ interval: Duration?) -> String {
        guard let interval else { return "0" }
        let seconds = interval.components.seconds
        for (unit, multiplier) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60)] where seconds % multiplier == 0 {
            return "\(seconds / multiplier)\(unit)"
        }
        return "\(seconds)s"
    }
}
