import WireVocabulary

/// What this box holds of an object, for serving it.
public enum LocalObject: Sendable, Equatable {
    /// A file in a media folder, whose size, mtime and inode still match what was hashed.
    case mediaFile(path: String, size: Int64, mimeType: String)
    /// A replica in the cache: complete, or the chunks in `have`.
    case replica(ReplicaRecord)
}

/// A replica's row.
public struct ReplicaRecord: Sendable, Equatable {
    public var id: ContentID
    public var complete: Bool
    public var have: ChunkBitmap
    public var size: Int64
    public var mimeType: String
    public var lastUsed: Int64
    /// Whether its fetch is marked running: set while a fetch runs, cleared when it stops cleanly, so a start that
    /// finds it set knows the daemon died during the fetch.
    public var fetchRunning: Bool
    /// Starts of the daemon in a row that found the fetch still marked running (crashes during it).
    public var crashCount: Int
    /// Pinned by the user (`mediapeerctl pin`): automatic replication never evicts it.
    public var pinned: Bool

    public init(
        id: ContentID, complete: Bool, have: ChunkBitmap, size: Int64, mimeType: String, lastUsed: Int64,
        fetchRunning: Bool = false, crashCount: Int = 0, pinned: Bool = false
    ) {
        self.pinned = pinned
        self.id = id
        self.complete = complete
        self.have = have
        self.size = size
        self.mimeType = mimeType
        self.lastUsed = lastUsed
        self.fetchRunning = fetchRunning
        self.crashCount = crashCount
    }
}

/// The sync position of a neighbour's catalog.
public struct RemoteSyncState: Sendable, Equatable {
    /// Nil until a sync finished.
    public var epoch: String?
    public var syncedGeneration: Int64

    public init(epoch: String?, syncedGeneration: Int64) {
        self.epoch = epoch
        self.syncedGeneration = syncedGeneration
    }
}

/// A neighbour whose catalog lists an object.
public struct RemoteHolder: Sendable, Equatable {
    public var peerID: String
    /// False when it holds only some of the chunks.
    public var complete: Bool

    public init(peerID: String, complete: Bool) {
        self.peerID = peerID
        self.complete = complete
    }
}

/// How much of one neighbour's catalog this box keeps.
public struct RemoteCatalogLimits: Sendable, Equatable {
    /// The most objects.
    public var maxObjects: Int
    /// The most bytes: the UTF-8 bytes of the stored strings plus ``PeerLimits/catalogRowOverheadBytes`` per
    /// object.
    public var maxBytes: Int64

    public init(maxObjects: Int, maxBytes: Int64) {
        self.maxObjects = maxObjects
        self.maxBytes = maxBytes
    }

    /// No bound: for tests of other rules.
    public static let unlimited = RemoteCatalogLimits(maxObjects: .max, maxBytes: .max)
}

/// What applying a page of a neighbour's catalog did.
public struct RemoteDeltaOutcome: Sendable, Equatable {
    /// Which limit of ``RemoteCatalogLimits`` stopped a page.
    public enum Limit: String, Sendable, Equatable {
        case objects, bytes
    }

    /// How many of the page's entries were applied, from the first: all of them unless a limit was reached.
    public var applied: Int
    /// The limit the entry after the applied ones would have exceeded; nil when the whole page was applied.
    public var limitReached: Limit?

    public init(applied: Int, limitReached: Limit?) {
        self.applied = applied
        self.limitReached = limitReached
    }
}

/// Bytes fetches wrote into the cache on one day (the box's local calendar day, counted from the Unix epoch), what
/// `replication_daily_budget` is checked against.
public struct DailyCacheWrites: Sendable, Equatable {
    public var day: Int64
    public var bytes: Int64

    public init(day: Int64, bytes: Int64) {
        self.day = day
        self.bytes = bytes
    }
}
