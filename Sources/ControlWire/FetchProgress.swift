import Foundation
import WireVocabulary

/// Where a fetch stands, for `mediapeerctl fetch` and the control API.
public struct FetchProgress: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable {
        /// Asking the neighbours who holds the object.
        case locating
        case downloading
        /// No holder is reachable; the fetch continues when one returns.
        case waitingForHolders
        /// Not resumed at the daemon's start because the daemon died during it several starts in a row (the message
        /// says how often and how to resume it); `mediapeerctl fetch` on it resumes it.
        case paused
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

        public init(
            peerID: String, name: String, chunks: Int, bytes: Int64, badChunks: Int, failures: Int,
            active: Bool
        ) {
            self.peerID = peerID
            self.name = name
            self.chunks = chunks
            self.bytes = bytes
            self.badChunks = badChunks
            self.failures = failures
            self.active = active
        }
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

    public init(
        id: ContentID, title: String, state: State, size: Int64, chunkCount: Int, chunksDone: Int,
        chunksResumed: Int, bytesDone: Int64, bytesReceived: Int64, bytesPerSecond: Int64, sources: [Source],
        message: String?, startedAt: Date, finishedAt: Date?
    ) {
        self.id = id
        self.title = title
        self.state = state
        self.size = size
        self.chunkCount = chunkCount
        self.chunksDone = chunksDone
        self.chunksResumed = chunksResumed
        self.bytesDone = bytesDone
        self.bytesReceived = bytesReceived
        self.bytesPerSecond = bytesPerSecond
        self.sources = sources
        self.message = message
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    public var isFinished: Bool { state == .complete || state == .failed }
    public var activeSources: Int { sources.filter(\.active).count }
}
