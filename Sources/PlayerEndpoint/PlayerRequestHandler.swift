import NIOCore
import WireVocabulary

/// A title a player may ask for: anything in the home's catalog with a content id.
public struct PlayableTitle: Sendable, Equatable {
    public var id: ContentID
    public var kind: MediaKind
    public var mimeType: String
    public var size: Int64
    /// What playlists and logs show: the title, else the file name.
    public var title: String
    public var durationMilliseconds: Int64?
    /// The extension of the file's name (`mkv`), which some players need in the URL; nil when it has none.
    public var fileExtension: String?
    /// The subtitles beside a video (`Film.srt` next to `Film.mkv`), as content ids of `.srt` files: the first is
    /// offered to Samsung TVs in `CaptionInfo.sec`.
    public var subtitleIDs: [ContentID] = []

    public init(
        id: ContentID, kind: MediaKind, mimeType: String, size: Int64, title: String, durationMilliseconds: Int64?,
        fileExtension: String?, subtitleIDs: [ContentID] = []
    ) {
        self.id = id
        self.kind = kind
        self.mimeType = mimeType
        self.size = size
        self.title = title
        self.durationMilliseconds = durationMilliseconds
        self.fileExtension = fileExtension
        self.subtitleIDs = subtitleIDs
    }
}

/// Where a title's bytes come from.
public enum PlayerSource: Sendable {
    /// A file this box holds whole (a media file or a complete replica): sent by `FileBodySender` (HTTPFiles).
    case file(path: String)
    /// A title fetched from other boxes while it plays.
    case stream(any PlayerByteStream)
}

/// A title being fetched while a player reads it.
public protocol PlayerByteStream: Sendable {
    /// The player wants these bytes now: the chunks under them and a window ahead get deadlines (a seek is a new
    /// call, which moves the priorities at once).
    func want(_ range: ClosedRange<Int64>) async
    /// Verified bytes from `offset`, at most `maxLength` (fewer at a chunk's end); waits for them. Throws
    /// ``PlaybackUnavailable`` when no box can provide them within the bounded wait.
    func read(from offset: Int64, maxLength: Int) async throws -> ByteBuffer
    /// The player's request ended: its priorities are dropped (the fetch goes on in the background).
    func close() async
}

/// No box could provide a title's bytes in time; `reason` says why, for the log and the player.
public struct PlaybackUnavailable: Error, Sendable, CustomStringConvertible {
    public var reason: String

    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}

/// What the player endpoint asks of the daemon.
public protocol PlayerRequestHandler: Sendable {
    /// The title with this id, if the home's catalog lists it (this box's files and replicas, the online
    /// neighbours' catalogs).
    func title(_ id: ContentID) async throws -> PlayableTitle?
    /// Opens a title for reading: a local file, or a stream that fetches it.
    func open(_ title: PlayableTitle) async throws -> PlayerSource
    /// The home's titles for a playlist, ordered by title; `words` filters by title, artist, album and path.
    func playlist(kind: MediaKind?, words: String?, limit: Int) async throws -> [PlayableTitle]
    /// A player started playing a title (not each range of one play): the demand signal replication feeds on.
    func playStarted(_ title: PlayableTitle, client: String) async
    /// The EXIF thumbnail of a photo in the home, if it has one.
    func thumbnail(_ id: ContentID) async throws -> [UInt8]?
}
