import Foundation
import WireVocabulary

/// `GET /v1/cache`: what this box's cache holds, how full it is, and why each replica is there.
public struct CacheReport: Sendable, Codable, Equatable {
    /// One replica in the cache.
    public struct Replica: Sendable, Codable, Equatable {
        public var id: ContentID
        public var title: String
        public var size: Int64
        /// Bytes of its verified chunks (its size once complete).
        public var bytesHeld: Int64
        public var complete: Bool
        public var pinned: Bool
        /// What keeps it in use, if anything: "fetching", "playing", or "served" (read by a player or a neighbour
        /// lately). A replica in use is not evicted.
        public var use: String?
        /// Its demand, from the replication policy; nil until a policy runs.
        public var demand: Double?
        /// Its value per byte, from the replication policy; nil until a policy runs.
        public var valuePerByte: Double?
        /// Why the policy keeps it; nil until a policy runs.
        public var keptBecause: String?

        public init(
            id: ContentID, title: String, size: Int64, bytesHeld: Int64, complete: Bool, pinned: Bool, use: String?,
            demand: Double? = nil, valuePerByte: Double? = nil, keptBecause: String? = nil
        ) {
            self.id = id
            self.title = title
            self.size = size
            self.bytesHeld = bytesHeld
            self.complete = complete
            self.pinned = pinned
            self.use = use
            self.demand = demand
            self.valuePerByte = valuePerByte
            self.keptBecause = keptBecause
        }
    }

    /// Bytes the replicas take, or will once complete (a fetch reserves its whole size when it starts).
    public var usedBytes: Int64
    /// `cache_max` in bytes on the cache's file system.
    public var quotaBytes: Int64
    /// `cache_max` as configured, such as "20%" or "2GiB".
    public var quota: String
    /// `replication`: "auto" or "off".
    public var replication: String
    public var highWatermark: Double
    public var lowWatermark: Double
    /// Bytes fetches wrote into the cache today (the box's local day).
    public var writtenToday: Int64
    /// `replication_daily_budget`.
    public var dailyBudget: Int64
    /// Least recently used first.
    public var replicas: [Replica]

    public init(
        usedBytes: Int64, quotaBytes: Int64, quota: String, replication: String, highWatermark: Double,
        lowWatermark: Double, writtenToday: Int64, dailyBudget: Int64, replicas: [Replica]
    ) {
        self.usedBytes = usedBytes
        self.quotaBytes = quotaBytes
        self.quota = quota
        self.replication = replication
        self.highWatermark = highWatermark
        self.lowWatermark = lowWatermark
        self.writtenToday = writtenToday
        self.dailyBudget = dailyBudget
        self.replicas = replicas
    }
}

/// `POST /v1/cache/evict`: which replica to remove.
public struct EvictRequest: Sendable, Codable, Equatable {
    /// A content id, an id prefix of 8+ hex digits, or words of a title.
    public var reference: String
    /// Evict it even if a player or a neighbour read it lately (a read under way keeps its open file).
    public var force: Bool

    public init(reference: String, force: Bool = false) {
        self.reference = reference
        self.force = force
    }
}

/// The answer to `POST /v1/cache/evict`.
public struct CacheEviction: Sendable, Codable, Equatable {
    public var id: ContentID
    public var title: String
    /// Bytes the replica took in the cache.
    public var bytesFreed: Int64
    /// It was pinned (the user's own eviction overrides a pin).
    public var wasPinned: Bool

    public init(id: ContentID, title: String, bytesFreed: Int64, wasPinned: Bool) {
        self.id = id
        self.title = title
        self.bytesFreed = bytesFreed
        self.wasPinned = wasPinned
    }
}

/// The answer to `POST /v1/pins` and `POST /v1/pins/remove`.
public struct PinChange: Sendable, Codable, Equatable {
    public var id: ContentID
    public var title: String
    public var pinned: Bool
    /// The title was not in the cache: a fetch started, and pins it once it is recorded.
    public var fetchStarted: Bool
    /// Something worth saying, such as that the title is in this box's media folders (always kept).
    public var message: String?

    public init(id: ContentID, title: String, pinned: Bool, fetchStarted: Bool, message: String? = nil) {
        self.id = id
        self.title = title
        self.pinned = pinned
        self.fetchStarted = fetchStarted
        self.message = message
    }
}
