import ElapsedTime
import MediaIndex
import ReplicationPolicy
import WireVocabulary

/// What a title's demand figures on this box count.
public enum DemandEvent: Sendable, Equatable {
    /// A play started on this box (the player endpoint, DLNA included).
    case play
    /// A fetch asked for by hand (`mediapeerctl fetch`).
    case fetch
    /// Another box asked this one for the title's bytes.
    case served
}

/// This box's decayed counts of one title.
struct TitleCounts: Sendable, Equatable {
    var plays = DecayedCount.zero
    var fetches = DecayedCount.zero
    var served = DecayedCount.zero

    mutating func add(_ event: DemandEvent, at instant: Double, halfLife: Duration) {
        switch event {
        case .play: plays = plays.adding(1, at: instant, halfLife: halfLife)
        case .fetch: fetches = fetches.adding(1, at: instant, halfLife: halfLife)
        case .served: served = served.adding(1, at: instant, halfLife: halfLife)
        }
    }

    /// The stored row's counts plus these, as of `instant`.
    func merged(into stored: LocalDemandRecord?, id: ContentID, at instant: Double, halfLife: Duration)
        -> LocalDemandRecord
    {
        let at = max(instant, stored?.at ?? instant)
        let storedCount = { (value: Double?) in DecayedCount(value: value ?? 0, updatedAt: stored?.at ?? at) }
        let sum = { (mine: DecayedCount, theirs: Double?) in
            storedCount(theirs).adding(mine, halfLife: halfLife).value(at: at, halfLife: halfLife)
        }
        return LocalDemandRecord(
            id: id, plays: sum(plays, stored?.plays), fetches: sum(fetches, stored?.fetches),
            served: sum(served, stored?.served), at: at)
    }

    init() {}

    init(_ record: LocalDemandRecord) {
        plays = DecayedCount(value: record.plays, updatedAt: record.at)
        fetches = DecayedCount(value: record.fetches, updatedAt: record.at)
        served = DecayedCount(value: record.served, updatedAt: record.at)
    }
}

/// Which served requests count: one per asking box and title within a window, however many chunk requests a fetch
/// makes. Bounded: past ``capacity`` remembered pairs, the oldest is forgotten.
struct ServedRequests: Sendable {
    static let capacity = 4096
    let window: Duration
    private var counted: [Key: ElapsedInstant] = [:]

    private struct Key: Hashable {
        var asker: String
        var id: ContentID
    }

    init(window: Duration) {
        self.window = window
    }

    /// Whether a request from `asker` for `id` at `now` counts (and remembers it when it does).
    mutating func counts(asker: String, id: ContentID, now: ElapsedInstant) -> Bool {
        let key = Key(asker: asker, id: id)
        if let last = counted[key], now < last + window { return false }
        if counted[key] == nil, counted.count >= Self.capacity {
            counted = counted.filter { now < $0.value + window }
            if counted.count >= Self.capacity, let oldest = counted.min(by: { $0.value < $1.value })?.key {
                counted[oldest] = nil
            }
        }
        counted[key] = now
        return true
    }
}

/// A neighbour's presence, decayed: the share of the time it was watched lately that it was online. Each interval
/// between two events weighs `∫ 2^(−s / halfLife) ds` over its age, so the share is exact between events and
/// needs writing only when a neighbour arrives or leaves.
enum Presence {
    /// The record brought up to `instant`, the interval since its last event counted as it was (online or not).
    static func advanced(_ record: PresenceRecord, to instant: Double, halfLife: Duration) -> PresenceRecord {
        guard let at = record.at, instant > at else { return record }
        let elapsed = instant - at
        let decay = DecayedCount(value: 1, updatedAt: at).value(at: instant, halfLife: halfLife)
        let halfLifeSeconds = Double(halfLife.components.seconds) + Double(halfLife.components.attoseconds) * 1e-18
        // The interval's weight decayed to `instant`: halfLife / ln 2 × (1 − decay); without a half-life, its length.
        let weight = halfLifeSeconds > 0 ? halfLifeSeconds / 0.693_147_180_559_945_3 * (1 - decay) : elapsed
        var advanced = record
        advanced.knownSeconds = record.knownSeconds * decay + weight
        advanced.seenSeconds = record.seenSeconds * decay + (record.present ? weight : 0)
        advanced.at = instant
        return advanced
    }

    static func arrived(_ record: PresenceRecord, at instant: Double, halfLife: Duration) -> PresenceRecord {
        var updated = advanced(record, to: instant, halfLife: halfLife)
        if updated.at == nil { updated.at = instant }
        updated.present = true
        return updated
    }

    static func departed(_ record: PresenceRecord, at instant: Double, halfLife: Duration) -> PresenceRecord {
        var updated = advanced(record, to: instant, halfLife: halfLife)
        updated.present = false
        return updated
    }

    /// The time this box was not running is not watched: the record starts again at `instant`, offline until it
    /// is seen.
    static func resumed(_ record: PresenceRecord, at instant: Double) -> PresenceRecord {
        guard let at = record.at else { return record }
        var updated = record
        updated.at = max(at, instant)
        updated.present = false
        return updated
    }

    /// The share of the watched time it was online, 0...1; a neighbour only just seen counts as it is now.
    static func availability(_ record: PresenceRecord, at instant: Double, halfLife: Duration) -> Double {
        let now = advanced(record, to: instant, halfLife: halfLife)
        guard now.knownSeconds > 0, now.knownSeconds.isFinite else { return now.present ? 1 : 0 }
        return min(1, max(0, now.seenSeconds / now.knownSeconds))
    }
}
