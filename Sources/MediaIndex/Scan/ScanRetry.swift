/// When to scan again after the index could not record what a scan or a live update found (its disk full, an I/O
/// error): soon at first, then less and less often, so that a box whose disk stays full loses no change once there
/// is room again, and yet does not write an error to its log every few seconds. A scan that records everything ends
/// the retries.
struct ScanRetry: Equatable {
    static let firstDelay: Duration = .seconds(5)
    static let longestDelay: Duration = .seconds(600)

    /// The wait before the pending retry; nil when none is pending.
    private(set) var delay: Duration?

    /// Notes a failure and returns how long to wait before scanning again.
    mutating func failed() -> Duration {
        let next = delay.map { min($0 * 2, Self.longestDelay) } ?? Self.firstDelay
        delay = next
        return next
    }

    /// Notes a scan that recorded everything: no retry is pending.
    mutating func succeeded() { delay = nil }
}
