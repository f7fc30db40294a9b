/// How much mediapeerd logs, from the most verbose to the least.
///
/// The raw values are the words accepted by the `log_level` key. They match
/// swift-log's `Logger.Level`, so `Logger.Level(rawValue: level.rawValue)`
/// converts one into the other.
public enum LogLevel: String, Sendable, Hashable, CaseIterable, Comparable {
    case trace
    case debug
    case info
    case notice
    case warning
    case error
    case critical

    /// Orders levels by severity: `.trace < .debug < ... < .critical`.
    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool {
        lhs.severity < rhs.severity
    }

    private var severity: Int {
        Self.allCases.firstIndex(of: self)!
    }
}
