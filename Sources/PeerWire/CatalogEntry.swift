import WireVocabulary

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
    /// When a photo was taken, `2024-06-01T10:00:00` (``PeerLimits/isValidDateTaken(_:)``); absent from the
    /// catalogs of boxes older than this field, and for photos without one.
    public var dateTaken: String?
    /// True when a photo's EXIF block carries a JPEG thumbnail (in the object's first bytes); absent when it has
    /// none or the box is older than this field.
    public var hasThumbnail: Bool?

    public init(
        id: ContentID, generation: Int64, removed: Bool = false, complete: Bool = true, size: Int64 = 0,
        kind: MediaKind? = nil, mimeType: String? = nil, path: String? = nil, title: String? = nil,
        artist: String? = nil, album: String? = nil, durationMilliseconds: Int64? = nil, width: Int? = nil,
        height: Int? = nil, dateTaken: String? = nil, hasThumbnail: Bool? = nil
    ) {
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
        self.dateTaken = dateTaken
        self.hasThumbnail = hasThumbnail
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
