/// A title with what the policy made of it.
struct AssessedTitle {
    let facts: TitleFacts
    /// Weighted plays lately that a copy here serves.
    let value: Double
    /// Why it must stay if it is in the cache, or nil when it may be evicted.
    var protection: KeepReason?
    /// Why it should be copied here, or nil when it should not.
    var replicateReason: ReplicateReason?

    init(facts: TitleFacts, value: Double) {
        self.facts = facts
        self.value = value
    }

    var valuePerByte: Double { value / Double(max(facts.size, 1)) }

    /// The bytes it takes in the cache now.
    var cacheBytes: Int64 {
        switch facts.here {
        case .replica: facts.size
        case .partial(let bytes): bytes
        case .none, .original: 0
        }
    }

    /// The bytes a replication must still write.
    var missingBytes: Int64 { facts.size - cacheBytes }

    var isInCache: Bool {
        switch facts.here {
        case .replica, .partial: true
        case .none, .original: false
        }
    }

    var isEvictable: Bool { isInCache && protection == nil }
}

/// The cache as the planned actions leave it: the bytes used and written, what may still be evicted, and the actions
/// so far.
struct CachePlan {
    private(set) var used: Int64
    let highWatermark: Int64
    let lowWatermark: Int64
    private var writeBudgetLeft: Int64
    /// What may be evicted, cheapest first; those before `nextEvictable` are evicted already (evictions always take
    /// the cheapest left, so they are a prefix, but for titles replicated meanwhile, which `replicated` skips).
    private let evictable: [AssessedTitle]
    private var nextEvictable = 0
    private var replicated: Set<String> = []
    private(set) var actions: [PolicyAction] = []
    private(set) var evicted: Set<String> = []
    /// The most valuable per byte of the replicas evicted so far: a title worth no more must not take their room,
    /// or the decision itself would be churn.
    private var evictedValuePerByte = 0.0

    init(cache: CacheFacts, evictable: [AssessedTitle]) {
        let quota = max(cache.quota, 0)
        used = max(cache.used, 0)
        highWatermark = min(max(cache.highWatermark, 0), quota)
        lowWatermark = min(max(cache.lowWatermark, 0), highWatermark)
        writeBudgetLeft = max(cache.writeBudgetLeft, 0)
        self.evictable = evictable.sorted(by: Self.cheapestFirst)
    }

    /// Eviction order: lowest value per byte first, then by id.
    static func cheapestFirst(_ lhs: AssessedTitle, _ rhs: AssessedTitle) -> Bool {
        (lhs.valuePerByte, lhs.facts.id) < (rhs.valuePerByte, rhs.facts.id)
    }

    /// Replication order: highest value per byte first, then by id.
    static func mostValuableFirst(_ lhs: AssessedTitle, _ rhs: AssessedTitle) -> Bool {
        if lhs.valuePerByte != rhs.valuePerByte { return lhs.valuePerByte > rhs.valuePerByte }
        return lhs.facts.id < rhs.facts.id
    }

    /// Above the high watermark, evicts the cheapest until the cache is down to the low one (or nothing may go).
    mutating func evictAboveHighWatermark() {
        guard used > highWatermark else { return }
        while used > lowWatermark, nextEvictable < evictable.count {
            evict(evictable[nextEvictable], reason: .aboveHighWatermark)
            nextEvictable += 1
        }
    }

    /// Plans copying `title` (or keeping what its play brings) if it fits under the high watermark and the write
    /// budget, evicting (cheapest first) what it must and may: replicas worth less per byte than the title divided by
    /// `margin`, or any when `margin` is nil (a pinned title). Plans nothing at all when it would not fit even so.
    mutating func replicate(_ title: AssessedTitle, reason: ReplicateReason, margin: Double?) {
        let missing = title.missingBytes
        // What a play brings is written whatever the policy says: keeping it costs no budget.
        let writes = reason == .playedHere ? 0 : missing
        guard !evicted.contains(title.facts.id), writes <= writeBudgetLeft, missing <= highWatermark else { return }
        if let margin, title.valuePerByte <= evictedValuePerByte * margin { return }
        var room = highWatermark - used
        var victims: [Int] = []
        var index = nextEvictable
        while room < missing, index < evictable.count {
            let victim = evictable[index]
            index += 1
            if victim.facts.id == title.facts.id || replicated.contains(victim.facts.id) { continue }
            if let margin, victim.valuePerByte * margin >= title.valuePerByte { break }
            victims.append(index - 1)
            room = room.addingReportingOverflow(victim.cacheBytes).overflow ? .max : room + victim.cacheBytes
        }
        guard room >= missing else { return }
        for victim in victims { evict(evictable[victim], reason: .displacedBy(id: title.facts.id)) }
        if let last = victims.last { nextEvictable = last + 1 }
        used += missing
        writeBudgetLeft -= writes
        replicated.insert(title.facts.id)
        actions.append(.replicate(id: title.facts.id, reason: reason))
    }

    private mutating func evict(_ title: AssessedTitle, reason: EvictReason) {
        used -= min(title.cacheBytes, used)
        evicted.insert(title.facts.id)
        evictedValuePerByte = max(evictedValuePerByte, title.valuePerByte)
        actions.append(.evict(id: title.facts.id, reason: reason))
    }
}
