import WireVocabulary

/// A list of items the tree shows in one container.
public enum MediaShelf: Hashable, Sendable {
    /// Every item of a kind: Videos, Music › All tracks, Photos › All photos.
    case all(MediaKind)
    /// The tracks of an artist; `""` for tracks without one.
    case artist(String)
    /// The tracks of an album; `""` for tracks without one.
    case album(String)
    /// The photos taken in a month (`2024-06`); `""` for photos without a date.
    case month(String)
    /// The titles a box holds completely: this box (its own peer id) or an online neighbour.
    case box(String)
}

/// The groups of a container whose children are containers.
public enum MediaGrouping: Hashable, Sendable, CaseIterable {
    case artists, albums, months, boxes
}

/// One group of a ``MediaGrouping``: an artist, an album, a month, a box.
public struct MediaGroup: Sendable, Equatable {
    /// What names the group in its ``MediaShelf`` (the artist or album as stored, `2024-06`, a peer id).
    public var key: String
    /// What a TV shows: the key, or the box's name.
    public var title: String
    /// The items of its shelf.
    public var itemCount: Int

    public init(key: String, title: String, itemCount: Int) {
        self.key = key
        self.title = title
        self.itemCount = itemCount
    }
}

/// A page of a list, and how long the whole list is.
public struct MediaPage<Element: Sendable & Equatable>: Sendable, Equatable {
    public var elements: [Element]
    public var total: Int

    public init(elements: [Element], total: Int) {
        self.elements = elements
        self.total = total
    }
}

/// A subtitle file that goes with a video: served as a title of its own at `/media/ID.EXT`.
public struct MediaSubtitle: Sendable, Equatable {
    public var id: ContentID
    /// `text/srt`, `text/vtt`, …
    public var mimeType: String
    /// `srt`, `vtt`, `ass`, … (the URL's extension).
    public var fileExtension: String

    public init(id: ContentID, mimeType: String, fileExtension: String) {
        self.id = id
        self.mimeType = mimeType
        self.fileExtension = fileExtension
    }
}

/// One object of the home (one per content, wherever it is held), as the tree shows it.
public struct MediaTreeItem: Sendable, Equatable {
    public var id: ContentID
    public var kind: MediaKind
    /// The title to show (the tags' title, else the file name).
    public var title: String
    public var mimeType: String
    public var size: Int64
    /// The file's extension (`mkv`), for the URL; nil when it has none worth giving.
    public var fileExtension: String?
    public var artist: String?
    public var album: String?
    /// When a photo was taken, ISO 8601 (`2024-06-01T12:00:00`).
    public var date: String?
    public var durationMilliseconds: Int64?
    public var width: Int?
    public var height: Int?
    public var subtitles: [MediaSubtitle]
    /// Whether `/thumbnails/ID.jpg` has a thumbnail for it.
    public var hasThumbnail: Bool

    public init(
        id: ContentID, kind: MediaKind, title: String, mimeType: String, size: Int64, fileExtension: String? = nil,
        artist: String? = nil, album: String? = nil, date: String? = nil, durationMilliseconds: Int64? = nil,
        width: Int? = nil, height: Int? = nil, subtitles: [MediaSubtitle] = [], hasThumbnail: Bool = false
    ) {
        self.id = id
        self.kind = kind
        self.title = title
        self.mimeType = mimeType
        self.size = size
        self.fileExtension = fileExtension
        self.artist = artist
        self.album = album
        self.date = date
        self.durationMilliseconds = durationMilliseconds
        self.width = width
        self.height = height
        self.subtitles = subtitles
        self.hasThumbnail = hasThumbnail
    }
}

/// What a search asks for: items of these kinds whose title, artist or album hold every word.
public struct MediaSearch: Sendable, Equatable {
    public var kinds: Set<MediaKind>
    /// Empty: every item of the kinds.
    public var words: [String]

    public init(kinds: Set<MediaKind>, words: [String]) {
        self.kinds = kinds
        self.words = words
    }
}

/// Where the MediaServer's tree gets the home's objects: the daemon's catalog, or a fake in tests.
///
/// Every list is paged (`offset`, `limit`; a `limit` of 0 asks only for the total) in a stable order, so a TV
/// paging through 20,000 items sees each once. Errors become a SOAP fault (501, Action Failed).
public protocol MediaTreeSource: Sendable {
    /// The items of a shelf, ordered by title.
    func items(in shelf: MediaShelf, offset: Int, limit: Int) async throws -> MediaPage<MediaTreeItem>
    /// The groups, ordered by title (boxes: this box first).
    func groups(_ grouping: MediaGrouping, offset: Int, limit: Int) async throws -> MediaPage<MediaGroup>
    /// One group; nil when it has no item (or, for a box, when it is not online).
    func group(_ grouping: MediaGrouping, key: String) async throws -> MediaGroup?
    /// One object of the home; nil when nobody online holds it.
    func item(_ id: ContentID) async throws -> MediaTreeItem?
    /// The items matching a search, ordered by title.
    func search(_ search: MediaSearch, offset: Int, limit: Int) async throws -> MediaPage<MediaTreeItem>
}
