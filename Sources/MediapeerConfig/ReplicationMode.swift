/// Whether a box copies popular titles into its cache by itself (`replication`).
public enum ReplicationMode: String, Sendable, Hashable, CaseIterable {
    /// The box replicates what the home watches and evicts within its quota and daily budget.
    case auto
    /// Only `mediapeerctl fetch` and plays put titles in the cache; nothing is evicted by itself.
    case off
}

/// A share of the cache quota (`cache_high_watermark`, `cache_low_watermark`): a number above 0 and at most 1, or a
/// percentage string such as `"90%"`.
enum Watermark {
    static let formsHint = #"write a share of cache_max such as 0.9, or a percentage such as "90%""#

    /// The number as the configuration file writes it back (`0.9`).
    static func render(_ share: Double) -> String {
        "\(share)"
    }

    static func parse(number: Double, text: String) throws(InvalidValue) -> Double {
        guard number.isFinite, number > 0, number <= 1 else {
            throw InvalidValue("\(text) is out of range; a share of cache_max is above 0 and at most 1")
        }
        return number
    }

    static func parse(percentage text: String) throws(InvalidValue) -> Double {
        let trimmed = text.trimmingBlanks()
        guard trimmed.hasSuffix("%"), let percent = Double(trimmed.dropLast().trimmingBlanks()) else {
            throw InvalidValue("\(quoted(text)) is not a share; \(formsHint)")
        }
        return try parse(number: percent / 100, text: quoted(text))
    }
}
