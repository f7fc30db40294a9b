import WireVocabulary

/// One media file in the index, as the control API shows it.
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

    public init(
        id: Int64, root: String, path: String, kind: MediaKind, mimeType: String, size: Int64, modified: Int64,
        contentID: ContentID?, metadataRead: Bool, metadata: MediaMetadata
    ) {
        self.id = id
        self.root = root
        self.path = path
        self.kind = kind
        self.mimeType = mimeType
        self.size = size
        self.modified = modified
        self.contentID = contentID
        self.metadataRead = metadataRead
        self.metadata = metadata
    }

    /// The title tag, or the file name when there is none.
    public var displayTitle: String { DisplayTitle.of(title: metadata.title, path: path) ?? path }
}

/// Counts for `mediapeerctl status`.
public struct LibraryStatistics: Sendable, Codable, Equatable {
    public struct KindCount: Sendable, Codable, Equatable {
        public var kind: MediaKind
        public var files: Int
        public var bytes: Int64

        public init(kind: MediaKind, files: Int, bytes: Int64) {
            self.kind = kind
            self.files = files
            self.bytes = bytes
        }
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

    public init(
        kinds: [KindCount], files: Int, bytes: Int64, awaitingHash: Int, generation: Int64,
        databaseBytes: Int64
    ) {
        self.kinds = kinds
        self.files = files
        self.bytes = bytes
        self.awaitingHash = awaitingHash
        self.generation = generation
        self.databaseBytes = databaseBytes
    }
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

    public init(
        phase: Phase, completedScans: Int, requestedScans: Int, filesSeen: Int, filesToRead: Int,
        filesRead: Int, skipped: [String: Int], lastScanMilliseconds: Int?, liveUpdatesDegraded: Bool
    ) {
        self.phase = phase
        self.completedScans = completedScans
        self.requestedScans = requestedScans
        self.filesSeen = filesSeen
        self.filesToRead = filesToRead
        self.filesRead = filesRead
        self.skipped = skipped
        self.lastScanMilliseconds = lastScanMilliseconds
        self.liveUpdatesDegraded = liveUpdatesDegraded
    }
}
