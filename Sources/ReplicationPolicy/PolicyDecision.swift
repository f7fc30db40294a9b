/// Why the policy wants a copy of a title here.
public enum ReplicateReason: Sendable, Hashable, CustomStringConvertible {
    /// The user pinned it here.
    case pinned
    /// Being played here: keep what the play's fetch brings (it costs the network nothing more).
    case playedHere
    /// Likely to be played here soon (watched here lately, or played a lot in the home and small), worth fetching
    /// ahead of that play, while the home holds fewer copies than the title's square-root target.
    case underTarget(copies: Int, target: Int)
    /// Every box holding it is rarely online: without another copy its plays fail most of the time.
    case holdersRarelyOnline

    public var description: String {
        switch self {
        case .pinned: "pinned here"
        case .playedHere: "played here"
        case .underTarget(let copies, let target):
            "likely played here soon; \(copies) of \(target) wanted copies in the home"
        case .holdersRarelyOnline: "every box holding it is rarely online"
        }
    }
}

/// Why the policy evicts a replica.
public enum EvictReason: Sendable, Hashable, CustomStringConvertible {
    /// The cache is above its high watermark; this replica is worth the least per byte of those that may go.
    case aboveHighWatermark
    /// A title worth clearly more per byte needs its room.
    case displacedBy(id: String)

    public var description: String {
        switch self {
        case .aboveHighWatermark: "cache above its high watermark; least value per byte"
        case .displacedBy(let id): "makes room for \(id), worth more per byte"
        }
    }
}

/// Why a replica stays.
public enum KeepReason: Sendable, Hashable, CustomStringConvertible {
    /// The user pinned it.
    case pinned
    /// It is being played or fetched.
    case inUse
    /// No other box that is still around holds it.
    case lastCopy
    /// Wanted lately, and every other box holding it is rarely online: the only copy the home can count on.
    case lastReachableCopy
    /// Worth more per byte than what was evicted or what would take its room.
    case worthItsRoom
    /// The cache is below its high watermark and nothing needs the room.
    case roomToSpare

    public var description: String {
        switch self {
        case .pinned: "pinned"
        case .inUse: "in use"
        case .lastCopy: "last copy in the home"
        case .lastReachableCopy: "every other holder is rarely online"
        case .worthItsRoom: "worth its room"
        case .roomToSpare: "cache has room to spare"
        }
    }
}

/// One thing to do; a decision lists them in the order to do them.
public enum PolicyAction: Sendable, Hashable, CustomStringConvertible {
    case replicate(id: String, reason: ReplicateReason)
    case evict(id: String, reason: EvictReason)

    /// The title acted on.
    public var id: String {
        switch self {
        case .replicate(let id, _), .evict(let id, _): id
        }
    }

    public var description: String {
        switch self {
        case .replicate(let id, let reason): "replicate \(id): \(reason)"
        case .evict(let id, let reason): "evict \(id): \(reason)"
        }
    }
}

/// What a title held here in the cache is worth here, and why it stays (or that it goes).
public struct ReplicaValuation: Sendable, Hashable {
    public var id: String
    /// The bytes it takes in the cache.
    public var size: Int64
    /// Its worth here: weighted plays lately that this copy serves (see ``ReplicationPolicy``).
    public var value: Double
    /// ``value`` per byte of cache, the figure evictions are ordered by.
    public var valuePerByte: Double
    /// Why it stays, or nil when this decision evicts it.
    public var keptBecause: KeepReason?

    public init(id: String, size: Int64, value: Double, valuePerByte: Double, keptBecause: KeepReason?) {
        self.id = id
        self.size = size
        self.value = value
        self.valuePerByte = valuePerByte
        self.keptBecause = keptBecause
    }
}

/// What the policy decided.
public struct PolicyDecision: Sendable, Hashable {
    /// What to do, first things first: evictions come before the replications they make room for.
    public var actions: [PolicyAction]
    /// Every replica and partial fetch in this box's cache, most valuable per byte first.
    public var replicas: [ReplicaValuation]
    /// Each demanded title's home-wide target number of copies (originals included), by id.
    public var targets: [String: Int]

    public init(actions: [PolicyAction], replicas: [ReplicaValuation], targets: [String: Int]) {
        self.actions = actions
        self.replicas = replicas
        self.targets = targets
    }
}
