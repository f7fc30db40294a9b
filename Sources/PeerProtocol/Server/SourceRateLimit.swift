import ElapsedTime
import PeerWire
import Synchronization

/// A token bucket per source address: each source may spend `burst` requests at once and `perSecond` a second
/// after that. Pure: the caller passes the instant, so the rule is tested on hand-built instants.
///
/// The table of sources is bounded too (`sources`): past it, the source seen least recently is forgotten, which
/// costs it nothing worse than a full bucket (the state of a source idle for `burst / perSecond` seconds anyway).
struct SourceRateLimit: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Duration
    }

    let perSecond: Int
    let burst: Int
    let sources: Int
    private var buckets: [String: Bucket] = [:]

    init(
        perSecond: Int = PeerLimits.locatesPerSecond, burst: Int = PeerLimits.locateBurst,
        sources: Int = PeerLimits.locateRateSources
    ) {
        precondition(perSecond > 0 && burst > 0 && sources > 0)
        self.perSecond = perSecond
        self.burst = burst
        self.sources = sources
    }

    /// How many sources are tracked (never more than `sources`).
    var trackedSources: Int { buckets.count }

    /// Whether `source` may make one more request at `now`; if so, it is counted.
    mutating func admit(_ source: String, at now: Duration) -> Bool {
        var bucket: Bucket
        if let known = buckets[source] {
            bucket = known
            let (seconds, attoseconds) = (now - known.updated).components
            let elapsed = max(0, Double(seconds) + Double(attoseconds) / 1e18)
            bucket.tokens = min(Double(burst), bucket.tokens + elapsed * Double(perSecond))
        } else {
            if buckets.count >= sources { forgetLeastRecentlySeen() }
            bucket = Bucket(tokens: Double(burst), updated: now)
        }
        bucket.updated = now
        let admitted = bucket.tokens >= 1
        if admitted { bucket.tokens -= 1 }
        buckets[source] = bucket
        return admitted
    }

    /// A linear scan, only when a new source arrives at a full table: `sources` is small.
    private mutating func forgetLeastRecentlySeen() {
        guard let oldest = buckets.min(by: { $0.value.updated < $1.value.updated })?.key else { return }
        buckets[oldest] = nil
    }
}

/// ``SourceRateLimit`` on a clock, shared by the requests of the peer API (locate).
final class SourceRateLimiter: Sendable {
    private let clock: ElapsedClock
    private let limit: Mutex<SourceRateLimit>

    init(_ limit: SourceRateLimit = SourceRateLimit(), clock: any Clock<Duration> = ContinuousClock()) {
        self.clock = ElapsedClock(clock)
        self.limit = Mutex(limit)
    }

    func admit(_ source: String) -> Bool {
        let now = clock.now.sinceOrigin
        return limit.withLock { $0.admit(source, at: now) }
    }
}
