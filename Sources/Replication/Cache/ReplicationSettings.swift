import MediapeerConfig
import Synchronization

/// The settings of the cache and of automatic replication that SIGHUP reloads, in one place that every reader
/// shares: the fetcher's space checks read the quota from here at each check, so a lowered `cache_max` applies to
/// new fetches and running ones, and the auto-replicator reads the rest (or waits on ``changes()``).
///
/// ```swift
/// let settings = ReplicationSettings(ReplicationSettings.Values(configuration))
/// settings.update(ReplicationSettings.Values(reloaded))   // the reloader, on SIGHUP
/// ```
public final class ReplicationSettings: Sendable {
    /// One consistent set of values.
    public struct Values: Sendable, Equatable {
        /// `replication`.
        public var mode: ReplicationMode
        /// `cache_max`.
        public var cacheLimit: CacheLimit
        /// `cache_high_watermark`, a share of the quota.
        public var highWatermark: Double
        /// `cache_low_watermark`, a share of the quota below ``highWatermark``.
        public var lowWatermark: Double
        /// `replication_daily_budget`, bytes a day.
        public var dailyBudget: Int64

        public init(
            mode: ReplicationMode = .auto, cacheLimit: CacheLimit, highWatermark: Double = 0.9,
            lowWatermark: Double = 0.8, dailyBudget: Int64 = 20_000_000_000
        ) {
            self.mode = mode
            self.cacheLimit = cacheLimit
            self.highWatermark = highWatermark
            self.lowWatermark = lowWatermark
            self.dailyBudget = dailyBudget
        }

        /// The values a configuration sets.
        public init(_ configuration: MediapeerConfiguration) {
            self.init(
                mode: configuration.replication, cacheLimit: configuration.cacheMax,
                highWatermark: configuration.cacheHighWatermark, lowWatermark: configuration.cacheLowWatermark,
                dailyBudget: configuration.replicationDailyBudget)
        }
    }

    private struct State {
        var values: Values
        var watchers: [Int: AsyncStream<Values>.Continuation] = [:]
        var nextWatcher = 0
    }

    private let state: Mutex<State>

    public init(_ values: Values) {
        state = Mutex(State(values: values))
    }

    /// The values in force now.
    public var current: Values {
        state.withLock { $0.values }
    }

    /// Replaces the values; returns whether they changed (every watcher then gets the new ones).
    @discardableResult
    public func update(_ values: Values) -> Bool {
        let watchers: [AsyncStream<Values>.Continuation]? = state.withLock { state in
            guard state.values != values else { return nil }
            state.values = values
            return Array(state.watchers.values)
        }
        guard let watchers else { return false }
        for watcher in watchers { watcher.yield(values) }
        return true
    }

    /// The values each time they change from now on (only the latest if the reader falls behind). The stream ends
    /// when the task iterating it is cancelled.
    public func changes() -> AsyncStream<Values> {
        let (stream, continuation) = AsyncStream.makeStream(of: Values.self, bufferingPolicy: .bufferingNewest(1))
        let key = state.withLock { state in
            state.nextWatcher += 1
            state.watchers[state.nextWatcher] = continuation
            return state.nextWatcher
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.watchers.removeValue(forKey: key) }
        }
        return stream
    }
}
