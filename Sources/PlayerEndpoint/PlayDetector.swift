import ElapsedTime
import Synchronization
import WireVocabulary

/// Which player requests start a play. A play is many requests (ranges, seeks, a reconnect after a pause), so a
/// request counts as a new play only when its client has not asked for that title for ``quietPeriod``. Pure: the
/// caller passes the instant, so the rule is tested on hand-built instants.
///
/// Memory is bounded: at most ``capacity`` (client, title) pairs are remembered; past it, the pairs quiet for
/// longer than the quiet period are dropped, then the least recently seen one. Forgetting a pair costs at most one
/// extra play counted.
public struct PlayDetector: Sendable {
    private struct Pair: Hashable {
        var client: String
        var title: ContentID
    }

    public let quietPeriod: Duration
    public let capacity: Int
    private var lastSeen: [Pair: Duration] = [:]

    public init(quietPeriod: Duration = .seconds(300), capacity: Int = 1024) {
        precondition(capacity > 0)
        self.quietPeriod = quietPeriod
        self.capacity = capacity
    }

    /// How many pairs are remembered (never more than ``capacity``).
    public var rememberedPairs: Int { lastSeen.count }

    /// Records that `client` asked for the bytes of `title` at `now`; true when that starts a new play.
    public mutating func request(from client: String, for title: ContentID, at now: Duration) -> Bool {
        let pair = Pair(client: client, title: title)
        if let previous = lastSeen[pair] {
            lastSeen[pair] = now
            return now - previous >= quietPeriod
        }
        if lastSeen.count >= capacity { makeRoom(at: now) }
        lastSeen[pair] = now
        return true
    }

    /// A linear scan, only when a new pair arrives at a full table.
    private mutating func makeRoom(at now: Duration) {
        lastSeen = lastSeen.filter { now - $0.value < quietPeriod }
        if lastSeen.count >= capacity, let oldest = lastSeen.min(by: { $0.value < $1.value })?.key {
            lastSeen[oldest] = nil
        }
    }
}

/// ``PlayDetector`` on a clock, shared by the player endpoint's requests.
final class PlayDetection: Sendable {
    private let clock: ElapsedClock
    private let detector: Mutex<PlayDetector>

    init(_ detector: PlayDetector, clock: any Clock<Duration>) {
        self.clock = ElapsedClock(clock)
        self.detector = Mutex(detector)
    }

    func isNewPlay(from client: String, for title: ContentID) -> Bool {
        let now = clock.now.sinceOrigin
        return detector.withLock { $0.request(from: client, for: title, at: now) }
    }
}
