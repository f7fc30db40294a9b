/// Which cached title a cache-on-play box deletes first.
public enum EvictionRule: Sendable, CaseIterable {
    /// Least recently played.
    case leastRecentlyUsed
    /// Fewest plays on this box since the run began (counts outlive evictions: "perfect" LFU); ties by recency.
    case leastFrequentlyUsed
    /// Squid's heap LFUDA: key = age + plays; evicting sets the age to the key evicted, so titles
    /// popular long ago age out. Keeps big popular titles (byte hit rate).
    case lfuda
    /// Squid's heap GDSF: key = age + plays ÷ size: many small popular titles (hit rate).
    case gdsf

    var label: String {
        switch self {
        case .leastRecentlyUsed: "cache on play, LRU"
        case .leastFrequentlyUsed: "cache on play, LFU"
        case .lfuda: "cache on play, LFUDA"
        case .gdsf: "cache on play, GDSF"
        }
    }
}

/// Every box keeps what it streamed for a play, deleting by `rule` until it fits (titles bigger than the quota are
/// only streamed). The classic caches the issue names as baselines.
public struct CacheOnPlay: ReplicationStrategy {
    public let rule: EvictionRule
    public var name: String { rule.label }
    private var boxes: [BoxCache] = []

    public init(rule: EvictionRule) {
        self.rule = rule
    }

    struct Entry {
        var lastPlayed: Double
        var key: Double
    }

    /// One box's cache bookkeeping.
    struct BoxCache {
        var entries: [Int: Entry] = [:]
        var plays: [Int: Int] = [:]
        var age = 0.0
    }

    public mutating func played(_ play: SimulatedPlay, outcome: PlayOutcome, in household: inout Household) {
        if boxes.isEmpty { boxes = Array(repeating: BoxCache(), count: household.boxes) }
        guard outcome != .failed else { return }
        let box = play.box
        boxes[box].plays[play.title, default: 0] += 1
        let size = household.workload.titles[play.title].size
        if household.holdsReplica(box, play.title) {
            boxes[box].entries[play.title] = entry(for: play.title, size: size, box: box, at: play.time)
            return
        }
        guard case .streamed = outcome, size <= household.quota else { return }
        while household.freeRoom(box) < size, let victim = victim(on: box) {
            boxes[box].entries[victim.title] = nil
            if rule == .lfuda || rule == .gdsf { boxes[box].age = victim.key }
            household.evict(victim.title, from: box)
        }
        if household.storeStreamed(play.title, on: box) {
            boxes[box].entries[play.title] = entry(for: play.title, size: size, box: box, at: play.time)
        }
    }

    private func entry(for title: Int, size: Int64, box: Int, at time: Double) -> Entry {
        let plays = Double(boxes[box].plays[title, default: 0])
        // Squid subtracts a recency tie that is 0 when the key is made at a reference, as here; ties between equal
        // keys go to the least recently played instead (`victim`).
        let key: Double
        switch rule {
        case .leastRecentlyUsed: key = time
        case .leastFrequentlyUsed: key = plays
        case .lfuda: key = boxes[box].age + plays
        case .gdsf: key = boxes[box].age + plays / Double(max(size, 1)) * 1e9
        }
        return Entry(lastPlayed: time, key: key)
    }

    /// The entry with the lowest key; ties to the least recently played, then the lowest title.
    private func victim(on box: Int) -> (title: Int, key: Double)? {
        let chosen = boxes[box].entries.min { left, right in
            (left.value.key, left.value.lastPlayed, left.key) < (right.value.key, right.value.lastPlayed, right.key)
        }
        return chosen.map { ($0.key, $0.value.key) }
    }
}
