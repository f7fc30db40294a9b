import ContentID
import Foundation
import MediaIndex

/// Where a fetch stands, for `mediapeerctl fetch` and the control API.
public struct FetchProgress: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable {
        /// Asking the neighbours who holds the object.
        case locating
        case downloading
        /// No holder is reachable; the fetch continues when one returns.
        case waitingForHolders
        /// Verified, synced and renamed into the cache: a replica this box serves too.
        case complete
        case failed
    }

    /// What one source contributed.
    public struct Source: Sendable, Codable, Equatable {
        public var peerID: String
        public var name: String
        public var chunks: Int
        public var bytes: Int64
        /// Chunks that failed verification (the source is then avoided for this object).
        public var badChunks: Int
        public var failures: Int
        public var active: Bool
    }

    public var id: ContentID
    public var title: String
    public var state: State
    public var size: Int64
    public var chunkCount: Int
    /// Chunks verified and written, including those held before this run.
    public var chunksDone: Int
    /// Chunks already held when this run started (a resumed fetch).
    public var chunksResumed: Int
    public var bytesDone: Int64
    /// Bytes received over the network in this run, including discarded copies (bad or duplicate chunks).
    public var bytesReceived: Int64
    public var bytesPerSecond: Int64
    public var sources: [Source]
    public var message: String?
    public var startedAt: Date
    public var finishedAt: Date?

    public var isFinished: Bool { state == .complete || state == .failed }
    public var activeSources: Int { sources.filter(\.active).count }
}

/// Why replication failed.
public enum ReplicationError: Error, Equatable, CustomStringConvertible {
    /// The cache folder or a file in it could not be written.
    case cache(String)
    case doesNotFit(needed: Int64, available: Int64, reason: String)
    /// The index failed (busy, damaged, …: the case says which).
    case index(IndexError)

    public var description: String {
        switch self {
        case .cache(let message): "cache: \(message)"
        case .doesNotFit(let needed, let available, let reason):
            "the object does not fit: it needs \(needed) bytes and \(reason) leaves \(available)"
        case .index(let error): "index: \(error)"
        }
    }
}
