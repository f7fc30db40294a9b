import CSystemShims
import ContentID
import ElapsedTime
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import WireVocabulary

#if canImport(Glibc)
    import Glibc
#endif

/// One player reading one title, from a file this box holds or from a fetch that runs while it plays (several
/// players may read one fetch at once). Each read waits, at most ``Fetcher``'s `playbackWait`, for the chunk under
/// it to be verified and written, so a player only ever gets verified bytes.
///
/// ```swift
/// let stream = try await fetcher.play(id, title: "Holiday.mkv")
/// await stream.want(0...size - 1)                     // the player's Range: its chunks and a window get deadlines
/// let bytes = try await stream.read(from: 0, maxLength: 1 << 20)   // up to the end of the chunk
/// await stream.close()                                // the fetch goes on in the background
/// ```
public final class PlaybackStream: Sendable {
    /// Where the bytes are.
    enum Source: Sendable {
        /// A file this box holds whole: a media file or a complete replica.
        case file(path: String, size: Int64)
        /// A fetch: its partial file, renamed to the complete one when it ends.
        case fetch(FetchJob, ChunkArrivals, ReplicaLayout)
    }

    private struct Position {
        /// The bytes this stream gave deadlines to last.
        var span: Range<Int64>?
        /// The end of the player's last range (a read past the span moves the span toward it).
        var requestedEnd: Int64?
        var closed = false
    }

    private let id: ContentID
    private let title: String
    private let source: Source
    private let stream: Int
    private let window: PlaybackWindow
    private let chunkSize: Int64
    private let clock: ElapsedClock
    private let playbackWait: Duration
    private let position = NIOLockedValueBox(Position())

    init(
        id: ContentID, title: String, source: Source, stream: Int, window: PlaybackWindow, chunkSize: Int,
        clock: ElapsedClock, playbackWait: Duration
    ) {
        self.id = id
        self.title = title
        self.source = source
        self.stream = stream
        self.window = window
        self.chunkSize = Int64(chunkSize)
        self.clock = clock
        self.playbackWait = playbackWait
    }

    deinit {
        // A player that went away without closing: its deadlines go with it.
        if case .fetch(let job, _, _) = source, !position.withLockedValue(\.closed) { job.forget(stream: stream) }
    }

    /// True when the bytes are read from a file this box holds whole, with nothing to wait for.
    public var isComplete: Bool { filePath != nil }

    /// The file this box holds the whole title in (a media file or a complete replica), which may be sent straight
    /// from the file instead (`FileBodySender`); nil while the title is fetched.
    public var filePath: String? {
        if case .file(let path, _) = source { path } else { nil }
    }

    /// The player wants `range` now: its chunks (up to a window) and a window ahead get deadlines, replacing this
    /// stream's earlier ones at once (a seek).
    public func want(_ range: ClosedRange<Int64>) async {
        guard case .fetch(let job, _, _) = source else { return }
        let span = window.span(of: range)
        let open = position.withLockedValue { position in
            guard !position.closed else { return false }
            position.span = span
            position.requestedEnd = range.upperBound
            return true
        }
        if open { job.want(stream: stream, bytes: span, bytesPerSecond: window.bytesPerSecond) }
    }

    /// Verified bytes from `offset`: at most `maxLength`, and no further than the end of the chunk holding
    /// `offset` (empty at or past the end of the object). Waits for that chunk at most `playbackWait`.
    public func read(from offset: Int64, maxLength: Int) async throws(PlaybackError) -> ByteBuffer {
        guard offset >= 0, maxLength > 0 else { return ByteBuffer() }
        switch source {
        case .file(let path, let size):
            guard offset < size else { return ByteBuffer() }
            return try await Self.read(
                [path], from: offset, length: maxLength, chunkEnd: min(chunkEnd(of: offset), size))
        case .fetch(let job, let arrivals, let layout):
            follow(offset, job)
            // Past Int.max chunks (a crafted offset on armhf) is past every object's end.
            guard let chunk = Int(exactly: offset / chunkSize) else { return ByteBuffer() }
            switch await boundedArrival(of: chunk, arrivals) {
            case .ready(let fileSize)?:
                guard offset < fileSize else { return ByteBuffer() }
                // The partial file first: if it was renamed since, the complete one is there.
                return try await Self.read(
                    [layout.partialPath(id), layout.completePath(id)], from: offset, length: maxLength,
                    chunkEnd: min(chunkEnd(of: offset), fileSize))
            case .failed(let reason)?:
                throw .unavailable("“\(title)” cannot be played: \(reason)")
            case .cancelled?:
                throw .cancelled
            case nil:
                let reason = await job.progress.message ?? "no box has sent it yet"
                throw .unavailable(
                    "chunk \(chunk) of “\(title)” did not arrive within \(playbackWait.components.seconds) s: \(reason)"
                )
            }
        }
    }

    /// The player's request ended: this stream's deadlines are dropped (the fetch goes on in the background).
    public func close() async {
        guard case .fetch(let job, _, _) = source else { return }
        let wasOpen = position.withLockedValue { position in
            defer { position.closed = true }
            return !position.closed
        }
        if wasOpen { job.forget(stream: stream) }
    }

    private func chunkEnd(of offset: Int64) -> Int64 { (offset / chunkSize + 1) * chunkSize }

    /// Moves the deadlines with the play: a read outside this stream's span, or past half of it, is a new want.
    private func follow(_ offset: Int64, _ job: FetchJob) {
        let span: Range<Int64>? = position.withLockedValue { position in
            guard !position.closed else { return nil }
            if let span = position.span, !window.needsMove(span, readingAt: offset) { return nil }
            let end = max(offset, position.requestedEnd ?? offset)
            let span = window.span(of: offset...end)
            position.span = span
            return span
        }
        if let span { job.want(stream: stream, bytes: span, bytesPerSecond: window.bytesPerSecond) }
    }

    /// The chunk's arrival, or nil when `playbackWait` passed first on the clock.
    private func boundedArrival(of chunk: Int, _ arrivals: ChunkArrivals) async -> ChunkArrivals.Arrival? {
        let deadline = clock.now + playbackWait
        let first = await withTaskGroup(of: ChunkArrivals.Arrival?.self) { race in
            race.addTask { await arrivals.arrival(of: chunk) }
            race.addTask { [clock] in
                try? await clock.sleep(until: deadline, tolerance: nil)
                return nil
            }
            let first = await race.next() ?? nil
            race.cancelAll()
            return first
        }
        if first == nil, Task.isCancelled { return .cancelled }
        return first
    }

    /// Up to `length` bytes from `offset`, no further than `chunkEnd`, from the first of `paths` that opens; on
    /// NIO's blocking-I/O pool.
    private static func read(
        _ paths: [String], from offset: Int64, length: Int, chunkEnd: Int64
    ) async throws(PlaybackError) -> ByteBuffer {
        let count = Int(min(Int64(length), max(0, chunkEnd - offset)))
        guard count > 0 else { return ByteBuffer() }
        do {
            return try await NIOThreadPool.singleton.runIfActive { () throws(PlaybackError) -> ByteBuffer in
                try pread(paths, from: offset, count: count)
            }
        } catch let error as PlaybackError {
            throw error
        } catch {
            throw Task.isCancelled ? .cancelled : .unavailable("cannot read \(paths[0]): \(error)")
        }
    }

    private static func pread(_ paths: [String], from offset: Int64, count: Int) throws(PlaybackError) -> ByteBuffer {
        var descriptor: Int32 = -1
        for path in paths {
            descriptor = FileSystemName.withFileSystemPath(path) { mediapeer_open($0, O_RDONLY | O_CLOEXEC, 0) }
            if descriptor >= 0 || errno != ENOENT { break }
        }
        guard descriptor >= 0 else {
            throw .unavailable("cannot open \(paths[0]): \(String(cString: strerror(errno)))")
        }
        defer { Glibc.close(descriptor) }
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        var failure: Int32 = 0
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { space in
            var done = 0
            while done < count {
                // narrowing: checked because done < count here, so count - done is positive
                let got = mediapeer_pread(
                    descriptor, space.baseAddress! + done, UInt(count - done), offset + Int64(done))
                if got < 0, errno == EINTR { continue }
                if got < 0 { failure = errno }
                if got <= 0 { break }
                done += got
            }
            return done
        }
        if failure != 0 { throw .unavailable("cannot read \(paths[0]): \(String(cString: strerror(failure)))") }
        guard buffer.readableBytes == count else {
            throw .unavailable("\(paths[0]) ends before byte \(offset + Int64(count))")
        }
        return buffer
    }
}
