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

    public init(
        id: ContentID, complete: Bool, have: ChunkBitmap, size: Int64, mimeType: String, lastUsed: Int64,
        fetchRunning: Bool = false, crashCount: Int = 0
    ) {
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
