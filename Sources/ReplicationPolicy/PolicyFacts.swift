/// What this box has of a title.
public enum LocalCopy: Sendable, Hashable {
    /// Nothing.
    case none
    /// A fetch started and stopped: `bytes` of it are in the cache (and count in ``CacheFacts/used``).
    case partial(bytes: Int64)
    /// A whole copy in the cache, which the policy may evict.
    case replica
    /// The file is in this box's own media folders: never the cache's to evict.
    case original
}

/// Another box holding a whole copy of a title.
public struct HolderFacts: Sendable, Hashable {
    /// The box's id (its peer id in the daemon).
    public var box: String
    /// The share of time the box was online lately, 0...1.
    public var availability: Double
    /// Whether the box answers now: only an online holder can be fetched from.
    public var isOnline: Bool
    /// Whether the copy is in the box's own media folders (an original) rather than in its cache (a replica).
    public var isOriginal: Bool

    public init(box: String, availability: Double, isOnline: Bool, isOriginal: Bool) {
        self.box = box
        self.availability = availability
        self.isOnline = isOnline
        self.isOriginal = isOriginal
    }
}

/// One title known in the home, as this box sees it.
public struct TitleFacts: Sendable, Hashable {
    /// The title's key: its content id in hex in the daemon, any unique string in the simulator.
    public var id: String
    /// Its size in bytes.
    public var size: Int64
    /// Its demand on this box lately (a ``DecayedCount``'s value: plays and fetches here).
    public var localDemand: Double
    /// Its demand across the home lately, this box's included.
    public var homeDemand: Double
    /// The other boxes holding a whole copy (never this box).
    public var holders: [HolderFacts]
    /// What this box has of it.
    public var here: LocalCopy
    /// Whether the user pinned it here: a pinned title is fetched if missing and never evicted.
    public var pinned: Bool
    /// Whether it is being played or fetched here now: never evicted. For a title not whole here, set it only while a
    /// play or fetch is bringing it into this box's cache (the daemon's plays fetch into the cache): the policy then
    /// plans keeping it (``ReplicateReason/playedHere``) from the minimum demand on, as that costs the network nothing
    /// more, and the replicator lets the fetch under way finish rather than start another.
    public var inUse: Bool

    public init(
        id: String, size: Int64, localDemand: Double, homeDemand: Double, holders: [HolderFacts],
        here: LocalCopy = .none, pinned: Bool = false, inUse: Bool = false
    ) {
        self.id = id
        self.size = size
        self.localDemand = localDemand
        self.homeDemand = homeDemand
        self.holders = holders
        self.here = here
        self.pinned = pinned
        self.inUse = inUse
    }
}

/// This box's cache, in bytes.
public struct CacheFacts: Sendable, Hashable {
    /// The most the cache may ever hold (`cache_max`).
    public var quota: Int64
    /// What replicas and partial fetches take now.
    public var used: Int64
    /// Above this, replicas are evicted, lowest value per byte first; replication never fills past it.
    public var highWatermark: Int64
    /// Where eviction stops.
    public var lowWatermark: Int64
    /// The bytes replication may still write today (flash wears out).
    public var writeBudgetLeft: Int64

    public init(quota: Int64, used: Int64, highWatermark: Int64, lowWatermark: Int64, writeBudgetLeft: Int64) {
        self.quota = quota
        self.used = used
        self.highWatermark = highWatermark
        self.lowWatermark = lowWatermark
        self.writeBudgetLeft = writeBudgetLeft
    }

    /// Watermarks given as shares of the quota (0.9 and 0.8, say), rounded down to bytes.
    public init(
        quota: Int64, used: Int64, highWatermarkShare: Double, lowWatermarkShare: Double, writeBudgetLeft: Int64
    ) {
        self.init(
            quota: quota, used: used, highWatermark: Self.share(highWatermarkShare, of: quota),
            lowWatermark: Self.share(lowWatermarkShare, of: quota), writeBudgetLeft: writeBudgetLeft)
    }

    private static func share(_ fraction: Double, of quota: Int64) -> Int64 {
        guard fraction.isFinite, quota > 0 else { return 0 }
        return Int64((Double(quota) * min(max(fraction, 0), 1)).rounded(.down))
    }
}

/// A box of the home, as far as this box knows.
public struct HomeBox: Sendable, Hashable {
    public var id: String
    /// Whether it answers now: only an online box can be expected to take a copy soon.
    public var isOnline: Bool

    public init(id: String, isOnline: Bool) {
        self.id = id
        self.isOnline = isOnline
    }
}

/// The home this box is part of.
public struct HomeFacts: Sendable, Hashable {
    /// This box's id.
    public var thisBox: String
    /// Every other box known in the home, online or not.
    public var otherBoxes: [HomeBox]
    /// The bytes all the home's caches give to replicas together: the room the square-root targets are scaled to
    /// fill. A box that does not know its neighbours' quotas passes the number of boxes times its own.
    public var cacheRoom: Int64

    public init(thisBox: String, otherBoxes: [HomeBox], cacheRoom: Int64) {
        self.thisBox = thisBox
        self.otherBoxes = otherBoxes
        self.cacheRoom = cacheRoom
    }

    /// How many distinct boxes the home has, this one included: the most copies a title can have.
    public var boxCount: Int {
        Set(otherBoxes.map(\.id)).subtracting([thisBox]).count + 1
    }
}
