import WireVocabulary

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

    public init(
        id: ContentID?, kind: MediaKind, mimeType: String, size: Int64, path: String, title: String?,
        artist: String?, album: String?, durationMilliseconds: Int64?, width: Int?, height: Int?, local: Bool,
        holders: [String], holderNames: [String] = []
    ) {
        self.id = id
        self.kind = kind
        self.mimeType = mimeType
        self.size = size
        self.path = path
        self.title = title
        self.artist = artist
        self.album = album
        self.durationMilliseconds = durationMilliseconds
        self.width = width
        self.height = height
        self.local = local
        self.holders = holders
        self.holderNames = holderNames
    }

    public var displayTitle: String { DisplayTitle.of(title: title, path: path) ?? path }
}
