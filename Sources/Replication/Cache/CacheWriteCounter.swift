import Foundation
import MediaIndex
import Synchronization

/// Bytes fetches wrote into the cache today, what the auto-replicator checks against `replication_daily_budget`.
/// It counts in memory; the fetches store it with the chunks they record (no write of its own, none while idle),
/// and the daemon's start restores it, so a restart does not hand replication a fresh budget.
public final class CacheWriteCounter: Sendable {
    private let writes: Mutex<DailyCacheWrites>
    private let today: @Sendable () -> Int64

    /// - parameter today: the day now, as ``localDay(_:)`` counts (tests pass their own).
    public init(today: @escaping @Sendable () -> Int64 = { CacheWriteCounter.localDay(Date()) }) {
        self.today = today
        writes = Mutex(DailyCacheWrites(day: today(), bytes: 0))
    }

    /// The local calendar day of `date`, counted from the Unix epoch: budgets reset at the box's midnight.
    public static func localDay(_ date: Date, timeZone: TimeZone = .current) -> Int64 {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down)) + Int64(timeZone.secondsFromGMT(for: date))
        return seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    }

    /// Today's writes (zero once the day has turned since the last one).
    public var current: DailyCacheWrites {
        let day = today()
        return writes.withLock { $0.day == day ? $0 : DailyCacheWrites(day: day, bytes: 0) }
    }

    /// Counts bytes just written.
    public func add(_ bytes: Int64) {
        let day = today()
        writes.withLock { writes in
            if writes.day != day { writes = DailyCacheWrites(day: day, bytes: 0) }
            writes.bytes += bytes
        }
    }

    /// Adds what an earlier run of the daemon recorded, if it was today.
    public func restore(_ recorded: DailyCacheWrites) {
        let day = today()
        guard recorded.day == day else { return }
        writes.withLock { writes in
            if writes.day != day { writes = DailyCacheWrites(day: day, bytes: 0) }
            writes.bytes += recorded.bytes
        }
    }
}
