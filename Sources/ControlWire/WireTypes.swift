import Foundation
import WireVocabulary

/// The routes of the control API. It speaks HTTP/1.1 and JSON over the daemon's Unix socket; access is governed
/// by the socket's file permissions (0660, group `mediapeer`).
public enum ControlRoute {
    public static let status = "/v1/status"
    public static let library = "/v1/library"
    public static let search = "/v1/library/search"
    public static let items = "/v1/library/items"
    public static let scan = "/v1/scan"
    public static let peers = "/v1/peers"
    public static let home = "/v1/home"
    public static let homeSearch = "/v1/home/search"
    public static let fetches = "/v1/fetches"
    /// `POST` with a ``FetchRequest``: stops an unfinished fetch and deletes its partial file and record.
    public static let fetchCancellation = "/v1/fetches/cancel"
    /// `GET ?reference=R[&host=H]`: the player URL (``TitleURL``) of the title a content id, id prefix or title
    /// words name, anywhere in the home.
    public static let urls = "/v1/urls"
    /// `GET ?limit=N` or `?all=true`: the titles most in demand in the home (``PopularList``).
    public static let popular = "/v1/popular"
    /// `GET`: the cache's contents (``CacheReport``).
    public static let cache = "/v1/cache"
    /// `POST` with an ``EvictRequest``: removes a replica from the cache (``CacheEviction``).
    public static let cacheEviction = "/v1/cache/evict"
    /// `POST` with a ``FetchRequest``: pins a title in the cache, fetching it first if needed (``PinChange``).
    public static let pins = "/v1/pins"
    /// `POST` with a ``FetchRequest``: unpins a title (``PinChange``).
    public static let pinRemoval = "/v1/pins/remove"
}

/// `GET /v1/peers`: the other boxes this one knows, and the state of its own announcement.
public struct PeerList: Sendable, Codable, Equatable {
    public var peers: [PeerSnapshot]
    public var mdns: DiscoveryState

    public init(peers: [PeerSnapshot], mdns: DiscoveryState) {
        self.peers = peers
        self.mdns = mdns
    }
}

/// `GET /v1/status`.
public struct DaemonStatus: Sendable, Codable, Equatable {
    public var name: String
    /// The stable id other boxes know this one by.
    public var peerID: String
    /// The port of the peer HTTP API.
    public var httpPort: Int
    public var version: String
    public var pid: Int32
    public var uptimeSeconds: Int
    public var configPath: String
    public var mediaFolders: [String]
    public var stateDirectory: String
    public var library: LibraryStatistics
    public var scan: ScanProgress
    public var hashing: HashingStatus
    /// Resident memory of the daemon, from /proc/self/status.
    public var residentBytes: Int64?
    /// The mDNS announcement: the name in use (it differs from ``name`` after a collision) and whether
    /// avahi-daemon is up.
    public var mdns: DiscoveryState
    public var peerCount: Int
    /// LAN mode or the household this box shares with; absent from daemons before households.
    public var household: HouseholdReport?

    public init(
        name: String, peerID: String, httpPort: Int, version: String, pid: Int32, uptimeSeconds: Int,
        configPath: String,
        mediaFolders: [String], stateDirectory: String, library: LibraryStatistics, scan: ScanProgress,
        hashing: HashingStatus, residentBytes: Int64?, mdns: DiscoveryState, peerCount: Int
    ) {
        self.name = name
        self.peerID = peerID
        self.httpPort = httpPort
        self.version = version
        self.pid = pid
        self.uptimeSeconds = uptimeSeconds
        self.configPath = configPath
        self.mediaFolders = mediaFolders
        self.stateDirectory = stateDirectory
        self.library = library
        self.scan = scan
        self.hashing = hashing
        self.residentBytes = residentBytes
        self.mdns = mdns
        self.peerCount = peerCount
    }
}

public struct HashingStatus: Sendable, Codable, Equatable {
    /// Files still waiting for a content id.
    public var pendingFiles: Int
    /// Files hashed since the daemon started, and how fast.
    public var filesHashed: Int
    public var bytesHashed: Int64
    public var bytesPerSecond: Int64?

    public init(pendingFiles: Int, filesHashed: Int, bytesHashed: Int64, bytesPerSecond: Int64?) {
        self.pendingFiles = pendingFiles
        self.filesHashed = filesHashed
        self.bytesHashed = bytesHashed
        self.bytesPerSecond = bytesPerSecond
    }
}

/// `GET /v1/library` and `GET /v1/library/search`.
public struct LibraryPage: Sendable, Codable, Equatable {
    public var items: [MediaItem]
    /// All matching items (for a listing); for a search, the number returned.
    public var total: Int
    public var offset: Int

    public init(items: [MediaItem], total: Int, offset: Int) {
        self.items = items
        self.total = total
        self.offset = offset
    }
}

/// `POST /v1/scan`: the scan is done when `status.scan.completedScans >= scanNumber`.
public struct ScanTicket: Sendable, Codable, Equatable {
    public var scanNumber: Int
    public init(scanNumber: Int) { self.scanNumber = scanNumber }
}

/// The body of every error response.
public struct ControlErrorBody: Sendable, Codable, Equatable {
    public struct Detail: Sendable, Codable, Equatable { public var message: String }
    public var error: Detail
}

/// The version both commands report, and the daemon in its status.
public enum MediapeerVersion {
    public static let string = "0.1.0"
}

/// JSON as the control API writes it: dates in ISO 8601, as Hummingbird encodes them.
public enum ControlJSON {
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

/// `GET /v1/home` and `GET /v1/home/search`: objects anywhere in the home.
public struct HomePage: Sendable, Codable, Equatable {
    public var items: [HomeItem]
    public var total: Int
    public var offset: Int

    public init(items: [HomeItem], total: Int, offset: Int) {
        self.items = items
        self.total = total
        self.offset = offset
    }
}

/// `POST /v1/fetches`: fetch an object by content id, content-id prefix, or title.
public struct FetchRequest: Sendable, Codable, Equatable {
    public var reference: String
    public init(reference: String) { self.reference = reference }
}

/// `GET /v1/fetches`.
public struct FetchList: Sendable, Codable, Equatable {
    public var fetches: [FetchProgress]
    public init(fetches: [FetchProgress]) { self.fetches = fetches }
}

/// `POST /v1/fetches/cancel`: the fetch that was cancelled. Its partial file and its record are gone; nothing
/// outside the cache was touched.
public struct FetchCancellation: Sendable, Codable, Equatable {
    public var id: ContentID
    public var title: String
    /// Whether the fetch was running and was stopped (false: it was paused).
    public var wasRunning: Bool
    /// The bytes of verified chunks the partial file held, deleted with it.
    public var bytesDeleted: Int64

    public init(id: ContentID, title: String, wasRunning: Bool, bytesDeleted: Int64) {
        self.id = id
        self.title = title
        self.wasRunning = wasRunning
        self.bytesDeleted = bytesDeleted
    }
}

/// `GET /v1/urls`: where a player on the LAN streams a title from, through this box's player endpoint.
public struct TitleURL: Sendable, Codable, Equatable {
    public var id: ContentID
    public var title: String
    /// `http://HOST:PLAYER_PORT/media/ID.ext` (see ``PlayerURL``).
    public var url: String

    public init(id: ContentID, title: String, url: String) {
        self.id = id
        self.title = title
        self.url = url
    }
}
