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

/// An object of `chunks` chunks whose bytes differ from chunk to chunk, and its manifest.
private func object(chunks: Int, in folder: String) throws -> (bytes: [UInt8], manifest: ChunkManifest) {
    let bytes = (0..<(chunks * chunkSize)).map { UInt8(truncatingIfNeeded: $0 / chunkSize &* 31 &+ $0 % 251) }
    let path = folder + "/object"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return (bytes, try FileHasher.manifest(ofFileAt: path, chunkSize: chunkSize))
}

private func holder(_ peer: String) -> Holder {
    Holder(peerID: peer, name: peer, addresses: ["127.0.0.1"], port: 7000, complete: true)
}

/// Answers each look-up with the next list of holders (the last one again once the lists run out).
private actor ScriptedHolders: HolderDirectory {
    private var answers: [[Holder]]

    init(_ answers: [[Holder]]) {
        self.answers = answers
    }

    func holders(of id: ContentID) async -> [Holder] {
        answers.count > 1 ? answers.removeFirst() : answers.first ?? []
    }
}

/// Holders in memory: each serves the object as it is, corrupted, or stalls after some chunks until cancelled.
private struct FakeTransport: FetchTransport {
    enum Behaviour: Sendable {
        case serves
        case corrupts
        case stallsAfter(Int)
        /// Claims the object but never answers the manifest request (until cancelled); serves chunks.
        case stallsOnManifest
    }

    let bytes: [UInt8]
    let manifest: ChunkManifest
    let behaviours: [String: Behaviour]
    /// Told each time a chunk was taken (verified, written and counted: `deliver` returned).
    let delivered: AsyncStream<Int>.Continuation

    func manifest(
        _ peer: PeerEndpoint, id: ContentID, chunkSize: Int, maxChunkCount: Int, timeout: TimeAmount
    ) async throws(PeerClientError) -> ChunkVerifier {
        if case .stallsOnManifest = behaviours[peer.peerID] ?? .serves {
            await stallUntilCancelled()
            throw .unreachable(peer: peer.description, reason: "stalled")
        }
        return try manifestAnswer(manifest, for: id, from: peer)
    }

    func have(_ peer: PeerEndpoint, id: ContentID, chunkCount: Int) async throws(PeerClientError) -> ChunkBitmap {
        fullAvailability(chunkCount: chunkCount)
    }

    func pieces(
        _ peer: PeerEndpoint, id: ContentID, range: Range<Int64>, pieceLength: Int, pieceTimeout: TimeAmount,
        buffers: FetchBufferBudget, deliver: @escaping @Sendable (Int, ByteBuffer) async throws -> Bool
    ) async throws -> Int {
        let behaviour = behaviours[peer.peerID] ?? .serves
        var index = 0
        for start in stride(from: Int(range.lowerBound), to: Int(range.upperBound), by: pieceLength) {
            if case .stallsAfter(let count) = behaviour, index == count {
                await stallUntilCancelled()
                throw PeerClientError.unreachable(peer: peer.description, reason: "stalled")
            }
            var piece = Array(bytes[start..<min(start + pieceLength, Int(range.upperBound))])
            if case .corrupts = behaviour { piece[0] ^= 0xff }
            guard try await deliver(index, ByteBuffer(bytes: piece)) else { return index + 1 }
            delivered.yield(start / pieceLength)
            index += 1
        }
        return index
    }
}

/// The driver with fake holders, a real index and cache on disk, and virtual time.
@Suite(.timeLimit(.minutes(1))) struct FetchJobTests {
    let folder = NSTemporaryDirectory() + "mediapeer-fetchjob-\(UUID().uuidString)"

    private struct Fixture {
        let library: MediaLibrary
        let layout: ReplicaLayout
        let job: FetchJob
        let bytes: [UInt8]
        let id: ContentID
        let clock: TestClock<Duration>
        let sleeps: AsyncStream<Void>
        let delivered: AsyncStream<Int>
    }

    private func fixture(chunks: Int, holders: [[Holder]], behaviours: [String: FakeTransport.Behaviour]) throws
        -> Fixture
    {
        try FileManager.default.createDirectory(atPath: folder + "/media", withIntermediateDirectories: true)
        let library = try MediaLibrary(
            configuration: LibraryConfiguration(mediaFolders: [folder + "/media"], stateDirectory: folder + "/state"),
            logger: Logger(label: "test"))
        let (bytes, manifest) = try object(chunks: chunks, in: folder)
        let layout = ReplicaLayout(cacheDirectory: folder + "/cache")
        let (delivered, deliveries) = AsyncStream.makeStream(of: Int.self)
        let (sleeps, sleeping) = AsyncStream.makeStream(of: Void.self)
        let clock = TestClock<Duration>()
        var tuning = FetchJob.Tuning()
        tuning.acceptedChunkSize = chunkSize
        let job = FetchJob(
            id: manifest.contentID, title: "test", catalog: library.catalog, layout: layout,
            space: CacheSpace(folder: folder, limit: .bytes(1 << 40)), directory: ScriptedHolders(holders),
            transport: FakeTransport(bytes: bytes, manifest: manifest, behaviours: behaviours, delivered: deliveries),
            clock: ObservedClock(base: clock, sleeps: sleeping), tuning: tuning,
            buffers: FetchBufferBudget(bytes: 1 << 20), logger: Logger(label: "test"))
        return Fixture(
            library: library, layout: layout, job: job, bytes: bytes, id: manifest.contentID, clock: clock,
            sleeps: sleeps, delivered: delivered)
    }

    private func cleanUp(_ fixture: Fixture) {
        fixture.library.shutdown()
        try? FileManager.default.removeItem(atPath: folder)
    }

    @Test func aFetchFromTwoHoldersPublishesTheObjectByteIdenticalAndRecordsItComplete() async throws {
        let fixture = try fixture(chunks: 40, holders: [[holder("a"), holder("b")]], behaviours: [:])
        defer { cleanUp(fixture) }
        await fixture.job.run()
        let progress = await fixture.job.progress
        #expect(progress.state == .complete)
        #expect(progress.sources.reduce(0) { $0 + $1.chunks } == 40)
        let published = try Data(contentsOf: URL(fileURLWithPath: fixture.layout.completePath(fixture.id)))
        #expect(published == Data(fixture.bytes))
        #expect(!FileManager.default.fileExists(atPath: fixture.layout.partialPath(fixture.id)))
        #expect(try await fixture.library.catalog.replica(fixture.id)?.complete == true)
    }

    @Test func aHolderSendingBadBytesIsBannedAndTheFetchWaitsOnTheClockForAnother() async throws {
        let fixture = try fixture(
            chunks: 20, holders: [[holder("bad")], [holder("bad"), holder("good")]],
            behaviours: ["bad": .corrupts])
        defer { cleanUp(fixture) }
        let run = Task { await fixture.job.run() }
        // Three sleeps start before the clock moves: the manifest's deadline (ended by the answer), the flush timer
        // and the wait for another holder.
        var sleeps = fixture.sleeps.makeAsyncIterator()
        for _ in 0..<3 { _ = await sleeps.next() }
        #expect(await fixture.job.progress.state == .waitingForHolders)
        await fixture.clock.advance(by: .seconds(1))
        await run.value
        let progress = await fixture.job.progress
        #expect(progress.state == .complete)
        let bad = try #require(progress.sources.first { $0.peerID == "bad" })
        #expect(bad.badChunks >= 1 && bad.chunks == 0)
        #expect(progress.sources.first { $0.peerID == "good" }?.chunks == 20)
        let published = try Data(contentsOf: URL(fileURLWithPath: fixture.layout.completePath(fixture.id)))
        #expect(published == Data(fixture.bytes))
    }

    @Test func aCancelledFetchRecordsTheChunksItVerified() async throws {
        // Runs of 16: chunks 0-2 of the first run and 16-18 of the second arrive, then both requests stall.
        let fixture = try fixture(chunks: 20, holders: [[holder("a")]], behaviours: ["a": .stallsAfter(3)])
        defer { cleanUp(fixture) }
        let run = Task { await fixture.job.run() }
        var delivered: Set<Int> = []
        for await chunk in fixture.delivered {
            delivered.insert(chunk)
            if delivered.count == 6 { break }
        }
        run.cancel()
        await run.value
        #expect(delivered == [0, 1, 2, 16, 17, 18])
        let record = try #require(try await fixture.library.catalog.replica(fixture.id))
        #expect(!record.complete)
        #expect((0..<20).filter { record.have.contains($0) } == [0, 1, 2, 16, 17, 18])
        #expect(FileManager.default.fileExists(atPath: fixture.layout.partialPath(fixture.id)))
        #expect(await fixture.job.progress.chunksDone == 6)
    }

    // MARK: Manifests

    @Test func theManifestIsAskedOfThreeHoldersAtOnceSoTwoThatStallCostNoTime() async throws {
        let fixture = try fixture(
            chunks: 4, holders: [[holder("slow1"), holder("slow2"), holder("good")]],
            behaviours: ["slow1": .stallsOnManifest, "slow2": .stallsOnManifest])
        defer { cleanUp(fixture) }
        // The clock never moves: asked one after the other, the stalling holders would hold the fetch forever.
        await fixture.job.run()
        #expect(await fixture.job.progress.state == .complete)
    }

    @Test func aHolderThatStallsOnTheManifestIsGivenUpAfterFiveSecondsForTheNext() async throws {
        let fixture = try fixture(
            chunks: 4, holders: [[holder("slow1"), holder("slow2"), holder("slow3"), holder("good")]],
            behaviours: ["slow1": .stallsOnManifest, "slow2": .stallsOnManifest, "slow3": .stallsOnManifest])
        defer { cleanUp(fixture) }
        let run = Task { await fixture.job.run() }
        // The three deadlines.
        var sleeps = fixture.sleeps.makeAsyncIterator()
        for _ in 0..<3 { _ = await sleeps.next() }
        await fixture.clock.advance(by: .seconds(4))
        #expect(await fixture.job.progress.state == .locating)
        await fixture.clock.advance(by: .seconds(1))
        await run.value
        let progress = await fixture.job.progress
        #expect(progress.state == .complete)
        #expect(progress.sources.filter { $0.chunks > 0 }.count >= 1)
    }

    // MARK: Stopping

    @Test func cancellingAFetchThatWaitsForHoldersEndsItAtOnce() async throws {
        let fixture = try fixture(chunks: 4, holders: [[]], behaviours: [:])
        defer { cleanUp(fixture) }
        let run = Task { await fixture.job.run() }
        var sleeps = fixture.sleeps.makeAsyncIterator()
        _ = await sleeps.next()
        #expect(await fixture.job.progress.state == .waitingForHolders)
        // Without the clock moving.
        run.cancel()
        await run.value
        #expect(await fixture.job.progress.state == .waitingForHolders)
    }

    @Test func aFetchIsRecordedRunningWhileItRunsAndStoppedAfterACleanStop() async throws {
        let fixture = try fixture(chunks: 20, holders: [[holder("a")]], behaviours: ["a": .stallsAfter(3)])
        defer { cleanUp(fixture) }
        let run = Task { await fixture.job.run() }
        var delivered = fixture.delivered.makeAsyncIterator()
        _ = await delivered.next()
        #expect(try await fixture.library.catalog.replica(fixture.id)?.fetchRunning == true)
        run.cancel()
        await run.value
        let record = try #require(try await fixture.library.catalog.replica(fixture.id))
        #expect(!record.fetchRunning && record.crashCount == 0)
    }
}
