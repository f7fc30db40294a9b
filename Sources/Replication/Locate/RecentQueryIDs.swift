/// The locate query ids seen lately: each for `memory` at most, and `capacity` of them at most, the oldest
/// forgotten first when more arrive. A ring of the ids in arrival order and an index into it, so that checking an
/// id costs the same however many unique ids peers have sent (a query id is chosen by the asking box).
///
/// Forgetting an id early only matters if the same query comes back after `capacity` others, within `memory`: it
/// is then answered twice, which its `ttl` still bounds.
struct RecentQueryIDs {
    private struct Entry {
        var id: String
        var seen: Duration
    }

    let capacity: Int
    let memory: Duration
    private var ring: [Entry] = []
    /// The slot of the oldest entry, once the ring is full.
    private var oldest = 0
    private var slots: [String: Int] = [:]

    init(capacity: Int, memory: Duration) {
        precondition(capacity > 0)
        self.capacity = capacity
        self.memory = memory
        ring.reserveCapacity(capacity)
    }

    /// How many ids are remembered.
    var count: Int { slots.count }

    /// Remembers `id` at `now`; false if it was seen less than `memory` ago (a loop, or the same query by another
    /// path).
    mutating func insert(_ id: String, at now: Duration) -> Bool {
        if let slot = slots[id] {
            if now - ring[slot].seen < memory { return false }
            // Stale: remembered anew in its own slot would break the ring's order, so it takes a fresh one.
        }
        if ring.count < capacity {
            slots[id] = ring.count
            ring.append(Entry(id: id, seen: now))
            return true
        }
        let forgotten = ring[oldest]
        if slots[forgotten.id] == oldest { slots[forgotten.id] = nil }
        ring[oldest] = Entry(id: id, seen: now)
        slots[id] = oldest
        oldest = (oldest + 1) % capacity
        return true
    }
}
