/// When to scan again after the index could not record what a scan or a live update found (its disk full, an I/O
/// error): soon at first, then less and less often, so that a box whose disk stays full loses no change once there
/// is room again, and yet does not write an error to its log every few seconds. A scan that records everything ends
/// the retries.
struct ScanRetry: Equatable {
    static let firstDelay: Duration = .seconds(5)
    static let longestDelay: Duration = .seconds(600)

    /// The wait before the last retry scheduled; nil when no failure is unresolved.
    private(set) var delay: Duration?
    /// A retry is scheduled and has not started: the failures meanwhile (each live change the full disk refused,
    /// dozens in a second) are the ones it will cover, so they neither postpone it nor lengthen the next wait.
    private(set) var scheduled = false

    /// Notes a failure and returns how long to wait before scanning again, or nil when a retry is scheduled already.
    mutating func failed() -> Duration? {
        guard !scheduled else { return nil }
        let next = delay.map { min($0 * 2, Self.longestDelay) } ?? Self.firstDelay
        delay = next
        scheduled = true
        return next
    }

    /// Notes that the scheduled retry starts: a failure from now on schedules the next one, after twice the wait.
    mutating func retryStarted() { scheduled = false }

    /// Notes a scan that recorded everything: no retry is pending.
    mutating func succeeded() {
        delay = nil
        scheduled = false
    }
}
