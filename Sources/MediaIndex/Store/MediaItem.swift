import ContentID
import GRDB
import MediaProbe

/// One media file in the index, as the control API and the peer catalog show it.
public struct MediaItem: Sendable, Codable, Equatable {
    /// The local row id: stable while the file stays at its path (renames keep it too).
    public var id: Int64
    /// The media folder the file is in.
    public var root: String
    /// The path below ``root``.
    public var path: String
    public var kind: MediaKind
    public var mimeType: String
    public var size: Int64
    /// Modification time, seconds since the Unix epoch.
    public var modified: Int64
    /// Nil until the background hasher has read the file.
    public var contentID: ContentID?
    /// False while the scan has found the file but not read its metadata yet.
    public var metadataRead: Bool
    public var metadata: MediaMetadata

    /// The title tag, or the file name when there is none.
    public var displayTitle: String { DisplayTitle.of(title: metadata.title, path: path) ?? path }
}

/// Counts for `mediapeerctl status`.
public struct LibraryStatistics: Sendable, Codable, Equatable {
    public struct KindCount: Sendable, Codable, Equatable {
        public var kind: MediaKind
        public var files: Int
        public var bytes: Int64
    }
    public var kinds: [KindCount]
    public var files: Int
    public var bytes: Int64
    /// Files whose content id is not computed yet.
    public var awaitingHash: Int
    /// The catalog generation: changes whenever the shareable content changes.
    public var generation: Int64
    /// Size of the database files (main file and WAL).
    public var databaseBytes: Int64
}

/// What the scanner is doing, for `mediapeerctl scan --wait` and `status`.
public struct ScanProgress: Sendable, Codable, Equatable {
    public enum Phase: String, Sendable, Codable {
        /// No scan running; live updates only.
        case idle
        /// Walking the folders: new and changed files are recorded and searchable by name.
        case walking
        /// Reading tags, EXIF and container headers of the files the walk found.
        case readingMetadata
    }
    public var phase: Phase
    /// Scans finished since the daemon started. A scan requested as number N is done when this reaches N.
    public var completedScans: Int
    /// Scans requested so far (the number the next request returns is this plus one, unless one is queued).
    public var requestedScans: Int
    public var filesSeen: Int
    public var filesToRead: Int
    public var filesRead: Int
    /// Skipped entries of the current or last scan, by reason.
    public var skipped: [String: Int]
    /// Wall-clock duration of the last finished scan, in milliseconds.
    public var lastScanMilliseconds: Int?
    /// True when live updates cannot cover every folder (inotify watch limit) and periodic rescans stand in.
    public var liveUpdatesDegraded: Bool
}

/// Errors of the media index. Callers tell apart a database that is only busy (ask again later) from one that is
/// damaged (it is moved aside and rebuilt at the next start) and from other failures.
public enum IndexError: Error, CustomStringConvertible, Equatable {
    case cannotOpenDatabase(path: String, reason: String)
    case cannotCreateDirectory(path: String, reason: String)
    /// Another connection held the database longer than the busy timeout (SQLITE_BUSY, SQLITE_LOCKED).
    case busy(String)
    /// SQLite found the file damaged or not a database (SQLITE_CORRUPT, SQLITE_NOTADB).
    case corrupt(String)
    /// Any other database failure.
    case database(String)
    /// The task waiting for the database was cancelled (the daemon is stopping).
    case cancelled
    /// inotify could not be set up.
    case cannotWatch(String)
    case invalidQuery(String)

    /// Classifies an error thrown by GRDB.
    init(_ error: any Error) {
        switch error {
        case let error as IndexError:
            self = error
        case is CancellationError:
            self = .cancelled
        case let error as DatabaseError:
            let message = error.message ?? "\(error)"
            switch error.resultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED: self = .busy(message)
            case .SQLITE_CORRUPT, .SQLITE_NOTADB: self = .corrupt(message)
            // GRDB interrupts a statement whose task is cancelled.
            case .SQLITE_INTERRUPT: self = .cancelled
            default: self = .database("\(error)")
            }
        default:
            self = .database("\(error)")
        }
    }

    public var description: String {
        switch self {
        case .cannotOpenDatabase(let path, let reason): "cannot open the index database \(path): \(reason)"
        case .cannotCreateDirectory(let path, let reason): "cannot create \(path): \(reason)"
        case .busy(let message): "the index database is busy: \(message)"
        case .corrupt(let message): "the index database is damaged (it is rebuilt at the next start): \(message)"
        case .database(let message): "index database error: \(message)"
        case .cancelled: "cancelled while waiting for the index database"
        case .cannotWatch(let reason): "cannot watch the media folders: \(reason)"
        case .invalidQuery(let message): "invalid query: \(message)"
        }
    }
}

/// What a listing shows for an item: its title tag, or else its file name.
enum DisplayTitle {
    static func of(title: String?, path: String?) -> String? {
        if let title, !title.isEmpty { return title }
        return path.flatMap { $0.split(separator: "/").last.map(String.init) }
    }
}
