import ContentID
import MediaProbe

/// One object of a box's catalog, as peers exchange it: what a neighbour needs to list, search and locate it.
///
/// Objects are identified by content id alone; several files with the same bytes are one object. A removal is an
/// entry with ``removed`` set and no description.
public struct CatalogEntry: Sendable, Codable, Equatable {
    public var id: ContentID
    /// The catalog generation of the entry's last change; deltas are ordered by (generation, id).
    public var generation: Int64
    public var removed: Bool
    /// False for a partial replica: the box holds some chunks (ask `/v1/have/ID` which).
    public var complete: Bool
    public var size: Int64
    public var kind: MediaKind?
    public var mimeType: String?
    /// The path below its media folder on the box that has the file (or had it, for a replica).
    public var path: String?
    public var title: String?
    public var artist: String?
    public var album: String?
    public var durationMilliseconds: Int64?
    public var width: Int?
    public var height: Int?

    public init(id: ContentID, generation: Int64, removed: Bool = false, complete: Bool = true, size: Int64 = 0,
                kind: MediaKind? = nil, mimeType: String? = nil, path: String? = nil, title: String? = nil,
                artist: String? = nil, album: String? = nil, durationMilliseconds: Int64? = nil, width: Int? = nil,
                height: Int? = nil) {
        self.id = id
        self.generation = generation
        self.removed = removed
        self.complete = complete
        self.size = size
        self.kind = kind
        self.mimeType = mimeType
        self.path = path
        self.title = title
        self.artist = artist
        self.album = album
        self.durationMilliseconds = durationMilliseconds
        self.width = width
        self.height = height
    }

    /// The title tag, or the file name.
    public var displayTitle: String { DisplayTitle.of(title: title, path: path) ?? id.hex }
}

/// A page of a catalog delta: `GET /v1/catalog?since=G[&after=ID]`.
public struct CatalogDelta: Sendable, Codable, Equatable {
    /// Changes when the box's index is rebuilt: a peer that sees a new epoch drops what it had and syncs from 0.
    public var epoch: String
    /// The box's catalog generation when the page was read. Once a page says ``more`` is false, the reader has
    /// everything up to this generation.
    public var generation: Int64
    /// Ordered by (generation, id).
    public var entries: [CatalogEntry]
    /// True when entries after the last one remain: ask again with `since` and `after` set to the last entry's
    /// generation and id.
    public var more: Bool

    public init(epoch: String, generation: Int64, entries: [CatalogEntry], more: Bool) {
        self.epoch = epoch
        self.generation = generation
        self.entries = entries
        self.more = more
    }
}

/// An object anywhere in the home, for `mediapeerctl library list --all` and `search --all`.
public struct HomeItem: Sendable, Codable, Equatable {
    /// Nil for a local file not hashed yet.
    public var id: ContentID?
    public var kind: MediaKind
    public var mimeType: String
    public var size: Int64
    public var path: String
    public var title: String?
    public var artist: String?
    public var album: String?
    public var durationMilliseconds: Int64?
    public var width: Int?
    public var height: Int?
    /// Whether this box holds it (a media file or a complete replica).
    public var local: Bool
    /// The peer ids of the online neighbours that hold it completely.
    public var holders: [String]
    /// Their friendly names, in the same order (filled in by the daemon, which knows the names).
    public var holderNames: [String] = []

    public var displayTitle: String { DisplayTitle.of(title: title, path: path) ?? path }
}

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

    public init(id: ContentID, complete: Bool, have: ChunkBitmap, size: Int64, mimeType: String, lastUsed: Int64) {
        self.id = id
        self.complete = complete
        self.have = have
        self.size = size
        self.mimeType = mimeType
        self.lastUsed = lastUsed
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
