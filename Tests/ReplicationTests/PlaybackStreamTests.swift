import Clocks
import ContentID
import Foundation
import Logging
import MediaIndex
import NIOCore
import PeerProtocol
import PeerWire
import Testing
import WireVocabulary

@testable import Replication

private let chunkSize = 64 << 10
/// The test object's chunks; the last one is short.
private let chunkCount = 12

/// How long a read waits in these tests: no timer of the fetch itself sleeps this long, so a sleep of this length
/// is a reader waiting.
private let playbackWait = Duration.seconds(7)

/// The same holders at every look-up.
private struct FixedHolders: HolderDirectory {
    let holders: [Holder]

    func holders(of id: ContentID) async -> [Holder] { holders }
}

/// Chunks held back until the test lets them go.
private actor Gate {
    private var open = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func pass() async {
        guard !open else { return }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        open = true
        for continuation in waiting { continuation.resume() }
        waiting = []
    }
}

/// Holders in memory serving the object; the chunks in `held` wait for `gate` before they are sent, and those
/// in `lost` are never sent by the holders in `losing` (which stall until cancelled). The holders in `partial`
/// hold only the chunks it lists.
private struct GatedTransport: FetchTransport {
    let bytes: [UInt8]
    let manifest: ChunkManifest
    let held: Set<Int>
    let gate: Gate
    var losing: Set<String> = []
    var lost: Set<Int> = []
    var partial: [String: Set<Int>] = [:]
    /// Holds the manifest back until the test lets it go.
    var manifestGate: Gate?
    /// Told the byte range of every request for chunks.
    var requested: AsyncStream<Range<Int64>>.Continuation?

    func manifest(
        _ peer: PeerEndpoint, id: ContentID, chunkSize: Int, maxChunkCount: Int, timeout: TimeAmount
    ) async throws(PeerClientError) -> ChunkVerifier {
        await manifestGate?.pass()
        return try manifestAnswer(manifest, for: id, from: peer)
    }

    func have(_ peer: PeerEndpoint, id: ContentID, chunkCount: Int) async throws(PeerClientError) -> ChunkBitmap {
        guard let chunks = partial[peer.peerID] else { return fullAvailability(chunkCount: chunkCount) }
        var have = ChunkBitmap(chunkCount: chunkCount)
        for chunk in chunks { have.insert(chunk) }
        return have
    }

    func pieces(
        _ peer: PeerEndpoint, id: ContentID, range: Range<Int64>, pieceLength: Int, pieceTimeout: TimeAmount,
        buffers: FetchBufferBudget, deliver: @escaping @Sendable (Int, ByteBuffer) async throws -> Bool
    ) async throws -> Int {
        requested?.yield(range)
        var index = 0
        for start in stride(from: Int(range.lowerBound), to: Int(range.upperBound), by: pieceLength) {
            if losing.contains(peer.peerID), lost.contains(start / pieceLength) {
                await stallUntilCancelled()
                throw PeerClientError.unreachable(peer: peer.description, reason: "stalled")
            }
            if held.contains(start / pieceLength) { await gate.pass() }
            let piece = Array(bytes[start..<min(start + pieceLength, Int(range.upperBound))])
            guard try await deliver(index, ByteBuffer(bytes: piece)) else { return index + 1 }
            index += 1
        }
        return index
    }
}

/// A test clock that tells how long each sleep on it is.
private struct SleepLengthClock: Clock {
    let base: TestClock<Duration>
    let sleeps: AsyncStream<Duration>.Continuation

    var now: TestClock<Duration>.Instant { base.now }
    var minimumResolution: Duration { base.minimumResolution }

    func sleep(until deadline: TestClock<Duration>.Instant, tolerance: Duration?) async throws {
        sleeps.yield(base.now.duration(to: deadline))
        try await base.sleep(until: deadline, tolerance: tolerance)
    }
}

/// Players reading a title through ``Fetcher/play(_:title:)`` while it is fetched from fake holders into a real
/// cache, on virtual time.
@Suite(.timeLimit(.minutes(1))) final class PlaybackStreamTests {
    let index: IndexFixture
    let clock = TestClock<Duration>()
    let sleeps: AsyncStream<Duration>
    private let sleeping: AsyncStream<Duration>.Continuation
    let bytes: [UInt8]
    let manifest: ChunkManifest
    private let gate = Gate()

    init() throws {
        index = try IndexFixture()
        (sleeps, sleeping) = AsyncStream.makeStream(of: Duration.self)
        bytes = (0..<(chunkCount * chunkSize - 100)).map { UInt8(truncatingIfNeeded: $0 / chunkSize &* 31 &+ $0 % 251) }
        let path = index.folder + "/object"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        manifest = try FileHasher.manifest(ofFileAt: path, chunkSize: chunkSize)
    }

    var id: ContentID { manifest.contentID }

    /// A fetcher whose holders send every chunk at once but those in `held`, which wait for ``gate``.
    private func fetcher(
        holders: [String] = ["a"], held: Set<Int> = [], losing: Set<String> = [], lost: Set<Int> = [],
        partial: [String: Set<Int>] = [:], manifestGate: Gate? = nil,
        requested: AsyncStream<Range<Int64>>.Continuation? = nil
    ) -> Fetcher {
        var tuning = FetchJob.Tuning()
        tuning.acceptedChunkSize = chunkSize
        return Fetcher(
            catalog: index.catalog, cacheDirectory: index.cache, cacheLimit: .bytes(1 << 40),
            directory: FixedHolders(
                holders: holders.map {
                    Holder(peerID: $0, name: $0, addresses: ["127.0.0.1"], port: 7000, complete: partial[$0] == nil)
                }),
            transport: GatedTransport(
                bytes: bytes, manifest: manifest, held: held, gate: gate, losing: losing, lost: lost, partial: partial,
                manifestGate: manifestGate, requested: requested),
            tuning: tuning,
            playbackWait: playbackWait, clock: SleepLengthClock(base: clock, sleeps: sleeping),
            logger: Logger(label: "test"))
    }

    /// Returns once a reader waits for its chunk.
    private func untilAReaderWaits() async {
        for await length in sleeps where length == playbackWait { return }
    }

    private func expected(_ range: Range<Int>) -> [UInt8] { Array(bytes[range]) }

    @Test func aReadWaitsForItsChunkToBeVerifiedAndReturnsItsBytesUpToTheChunksEnd() async throws {
        let fetcher = fetcher(held: [2])
        let stream = try await fetcher.play(id, title: "Film")
        await stream.want(0...Int64(bytes.count - 1))
        let read = Task { try await stream.read(from: Int64(2 * chunkSize + 5), maxLength: 1 << 20) }
        await untilAReaderWaits()
        // Before this, chunk 2 of the sparse partial file is zeros: only a read that waited gets its bytes.
        await gate.release()
        let got = try await read.value
        #expect(Array(got.readableBytesView) == expected((2 * chunkSize + 5)..<(3 * chunkSize)))
        await stream.close()
        await fetcher.shutdown()
    }

    @Test func aPlayedTitlesChunkUnderTheReadIsAskedForWhileItsManifestIsStillOnItsWay() async throws {
        let manifestGate = Gate()
        let (requests, requested) = AsyncStream.makeStream(of: Range<Int64>.self)
        let fetcher = fetcher(manifestGate: manifestGate, requested: requested)
        let stream = try await fetcher.play(id, title: "Film", size: Int64(bytes.count))
        let start = 3 * chunkSize + 10
        await stream.want(Int64(start)...Int64(bytes.count - 1))
        let read = Task { try await stream.read(from: Int64(start), maxLength: 1 << 20) }
        var asked = requests.makeAsyncIterator()
        #expect(await asked.next() == Int64(3 * chunkSize)..<Int64(4 * chunkSize))
        await manifestGate.release()
        let got = try await read.value
        #expect(Array(got.readableBytesView) == expected(start..<(4 * chunkSize)))
        await stream.close()
        await fetcher.shutdown()
    }

    @Test func aSizeTheCatalogsGotWrongCostsTheChunkASecondRequestNotItsHolder() async throws {
        let manifestGate = Gate()
        let (requests, requested) = AsyncStream.makeStream(of: Range<Int64>.self)
        let fetcher = fetcher(manifestGate: manifestGate, requested: requested)
        // Said to end 20 bytes into chunk 3: the request sent ahead asks for those 20 bytes only.
        let stream = try await fetcher.play(id, title: "Film", size: Int64(3 * chunkSize + 20))
        let start = 3 * chunkSize + 10
        await stream.want(Int64(start)...Int64(start + 5))
        let read = Task { try await stream.read(from: Int64(start), maxLength: 1 << 20) }
        var asked = requests.makeAsyncIterator()
        #expect(await asked.next() == Int64(3 * chunkSize)..<Int64(3 * chunkSize + 20))
        await manifestGate.release()
        // The only holder is still asked, for the chunk where the manifest puts it.
        let got = try await read.value
        #expect(Array(got.readableBytesView) == expected(start..<(4 * chunkSize)))
        await stream.close()
        await fetcher.shutdown()
    }

    /// A read of a title nobody holds, waiting for its first chunk.
    private func readWaitingWithoutHolders() async throws -> (Fetcher, Task<ByteBuffer, any Error>) {
        let fetcher = fetcher(holders: [])
        let stream = try await fetcher.play(id, title: "Film")
        let read = Task { try await stream.read(from: 0, maxLength: 1024) }
        await untilAReaderWaits()
        return (fetcher, read)
    }

    @Test func aReadFailsWithTheReasonAfterThePlaybackWaitWhenNoBoxHoldsTheChunk() async throws {
        let (fetcher, read) = try await readWaitingWithoutHolders()
        await clock.advance(by: playbackWait)
        let error = await #expect(throws: PlaybackError.self) { try await read.value }
        guard case .unavailable(let reason)? = error else {
            Issue.record("expected the read to fail as unavailable, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("did not arrive within 7 s"))
        #expect(reason.contains("no reachable box holds the object"))
        await fetcher.shutdown()
    }

    @Test func cancellingTheReadingTaskEndsItsWaitAtOnce() async throws {
        let (fetcher, read) = try await readWaitingWithoutHolders()
        // The clock does not move.
        read.cancel()
        let error = await #expect(throws: PlaybackError.self) { try await read.value }
        #expect(error == .cancelled)
        await fetcher.shutdown()
    }

    @Test func aReaderFromBeforeTheFetchCompletedReadsTheRenamedFile() async throws {
        let fetcher = fetcher(held: [chunkCount - 1])
        let stream = try await fetcher.play(id, title: "Film")
        #expect(!stream.isComplete)
        let first = try await stream.read(from: 10, maxLength: 100)
        #expect(Array(first.readableBytesView) == expected(10..<110))
        await gate.release()
        // The last chunk arrives, then the partial file is published under its final name.
        _ = try await stream.read(from: Int64((chunkCount - 1) * chunkSize), maxLength: 1)
        while await fetcher.progress(id)?.state != .complete { await Task.yield() }
        #expect(!FileManager.default.fileExists(atPath: fetcher.replicaLayout.partialPath(id)))
        let again = try await stream.read(from: Int64(chunkSize - 10), maxLength: 1 << 20)
        #expect(Array(again.readableBytesView) == expected((chunkSize - 10)..<chunkSize))
        let end = try await stream.read(from: Int64(bytes.count - 3), maxLength: 1 << 20)
        #expect(Array(end.readableBytesView) == expected((bytes.count - 3)..<bytes.count))
        #expect(try await stream.read(from: Int64(bytes.count), maxLength: 10).readableBytes == 0)
        // A new player reads the complete replica's file.
        let later = try await fetcher.play(id, title: "Film")
        #expect(later.filePath == fetcher.replicaLayout.completePath(id))
        let whole = try await later.read(from: Int64(3 * chunkSize), maxLength: 1 << 20)
        #expect(Array(whole.readableBytesView) == expected((3 * chunkSize)..<(4 * chunkSize)))
    }

    @Test func aChunkItsHolderStopsSendingIsAskedOfAnotherAtItsDeadlineAndTheReadGoesOn() async throws {
        // "stalling" stops sending at chunk 2; its other requests wait at the gate, so chunks stay unrequested and
        // no endgame duplicates chunk 2: only the hedge asks "other", which holds just that chunk.
        let fetcher = fetcher(
            holders: ["stalling", "other"], held: [4, 6, 8], losing: ["stalling"], lost: [2],
            partial: ["other": [2]])
        let stream = try await fetcher.play(id, title: "Film")
        await stream.want(Int64(2 * chunkSize)...Int64(bytes.count - 1))
        let read = Task { try await stream.read(from: Int64(2 * chunkSize), maxLength: 1 << 20) }
        // The reader's wait, and two timers of a second: the flush, and the hedge at chunk 2's deadline.
        var timers = 0
        var readerWaits = false
        for await length in sleeps {
            if length == .seconds(1) { timers += 1 }
            if length == playbackWait { readerWaits = true }
            if timers == 2, readerWaits { break }
        }
        // Well within the playback wait.
        await clock.advance(by: .seconds(1))
        let got = try await read.value
        #expect(Array(got.readableBytesView) == expected((2 * chunkSize)..<(3 * chunkSize)))
        #expect(await fetcher.progress(id)?.sources.first { $0.peerID == "other" }?.chunks == 1)
        await gate.release()
        await stream.close()
        await fetcher.shutdown()
    }

    @Test func twoPlayersOfOneTitleShareOneFetch() async throws {
        let fetcher = fetcher(held: [0, 1, 2, 3, 4, 5])
        let one = try await fetcher.play(id, title: "Film")
        let two = try await fetcher.play(id, title: "Film")
        #expect(await fetcher.all().count == 1)
        await one.want(Int64(4 * chunkSize)...Int64(bytes.count - 1))
        await two.want(0...100)
        await gate.release()
        async let fromOne = one.read(from: Int64(4 * chunkSize), maxLength: 10)
        async let fromTwo = two.read(from: 0, maxLength: 10)
        #expect(Array(try await fromOne.readableBytesView) == expected((4 * chunkSize)..<(4 * chunkSize + 10)))
        #expect(Array(try await fromTwo.readableBytesView) == expected(0..<10))
        await one.close()
        await two.close()
        await fetcher.shutdown()
    }
}
