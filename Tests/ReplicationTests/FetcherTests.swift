import Clocks
import ContentID
import ControlWire
import Foundation
import Logging
import MediaIndex
import NIOCore
import PeerProtocol
import PeerWire
import Testing
import WireVocabulary

@testable import Replication

/// Nobody holds anything.
struct NoHolders: HolderDirectory {
    func holders(of id: ContentID) async -> [Holder] { [] }
}

/// A transport for fetches that never find a holder: any call is a mistake of the test.
struct NoTransport: FetchTransport {
    func manifest(
        _ peer: PeerEndpoint, id: ContentID, chunkSize: Int, maxChunkCount: Int, timeout: TimeAmount
    ) async throws(PeerClientError) -> ChunkVerifier {
        throw .unreachable(peer: peer.description, reason: "no peers in this test")
    }

    func have(_ peer: PeerEndpoint, id: ContentID, chunkCount: Int) async throws(PeerClientError) -> ChunkBitmap {
        throw .unreachable(peer: peer.description, reason: "no peers in this test")
    }

    func pieces(
        _ peer: PeerEndpoint, id: ContentID, range: Range<Int64>, pieceLength: Int, pieceTimeout: TimeAmount,
        buffers: FetchBufferBudget, deliver: @escaping @Sendable (Int, ByteBuffer) async throws -> Bool
    ) async throws -> Int {
        throw PeerClientError.unreachable(peer: peer.description, reason: "no peers in this test")
    }
}

/// The fetcher over partial replicas recorded in a real index: crashes counted at start, paused fetches, and
/// cancelling. Its fetches find no holder, so each waits on the test clock once it has opened its partial file.
@Suite(.timeLimit(.minutes(1))) final class FetcherTests {
    let index: IndexFixture
    let fetcher: Fetcher
    let sleeps: AsyncStream<Void>

    init() throws {
        index = try IndexFixture()
        var tuning = FetchJob.Tuning()
        tuning.acceptedChunkSize = 1024
        let (sleeps, sleeping) = AsyncStream.makeStream(of: Void.self)
        self.sleeps = sleeps
        fetcher = Fetcher(
            catalog: index.catalog, cacheDirectory: index.cache, cacheLimit: .bytes(1 << 40), directory: NoHolders(),
            transport: NoTransport(), tuning: tuning,
            clock: ObservedClock(base: TestClock(), sleeps: sleeping), logger: Logger(label: "test"))
    }

    /// A partial replica whose fetch was running when the daemon died.
    private func replicaRunningWhenTheDaemonDied() async throws -> ChunkManifest {
        let manifest = try await index.beginReplica(seed: 3, title: "Holiday")
        try await index.catalog.markFetchRunning(manifest.contentID, resettingCrashes: false)
        return manifest
    }

    /// A partial replica whose fetch was running when the daemon died, resumed, and running when it died again.
    private func replicaCrashedOnce() async throws -> ChunkManifest {
        let manifest = try await replicaRunningWhenTheDaemonDied()
        try await index.catalog.countFetchCrashes(pauseAfter: Fetcher.crashesBeforePause)
        return manifest
    }

    /// Returns once a fetch waits for holders: its partial file is open and its record marked running.
    private func waitUntilWaiting() async {
        var iterator = sleeps.makeAsyncIterator()
        _ = await iterator.next()
    }

    @Test func aFetchTheDaemonDiedDuringTwiceInARowStaysPausedAndSaysWhy() async throws {
        let id = try await replicaCrashedOnce().contentID
        await fetcher.resumeUnfinished()
        let progress = try #require(await fetcher.progress(id))
        #expect(progress.state == .paused)
        #expect(
            progress.message
                == "the daemon stopped unexpectedly 2 times during this fetch; "
                + "`mediapeerctl fetch \(id.hex.prefix(12))` resumes it")
        #expect(await fetcher.all().map(\.id) == [id])
        let record = try #require(try await index.catalog.replica(id))
        #expect(record.crashCount == 2 && !record.fetchRunning)
    }

    @Test func aFetchTheDaemonDiedDuringOnceIsResumedAndACleanStopForgetsTheCrash() async throws {
        let id = try await replicaRunningWhenTheDaemonDied().contentID
        await fetcher.resumeUnfinished()
        await waitUntilWaiting()
        #expect(await fetcher.progress(id)?.state == .waitingForHolders)
        #expect(try await index.catalog.replica(id)?.crashCount == 1)
        await fetcher.shutdown()
        let record = try #require(try await index.catalog.replica(id))
        #expect(record.crashCount == 0 && !record.fetchRunning)
    }

    @Test func aPausedFetchStartedByHandRunsAgainWithItsCrashesForgotten() async throws {
        let id = try await replicaCrashedOnce().contentID
        await fetcher.resumeUnfinished()
        #expect(try await fetcher.fetch(id, title: "Holiday").state != .paused)
        await waitUntilWaiting()
        let record = try #require(try await index.catalog.replica(id))
        #expect(record.crashCount == 0 && record.fetchRunning)
        await fetcher.shutdown()
    }

    @Test func cancellingARunningFetchDeletesItsPartialFileAndRecordAndNothingElse() async throws {
        let photo = try index.addIndexedPhoto("keep.jpg", seed: 9)
        let id = try await index.beginReplica(seed: 3, title: "Holiday").contentID
        _ = try await fetcher.fetch(id, title: "Holiday")
        await waitUntilWaiting()
        let partial = fetcher.replicaLayout.partialPath(id)
        #expect(FileManager.default.fileExists(atPath: partial))
        let cancelled = try await fetcher.cancel("holiday")
        #expect(cancelled.id == id && cancelled.title == "Holiday" && cancelled.wasRunning)
        #expect(!FileManager.default.fileExists(atPath: partial))
        #expect(try await index.catalog.replica(id) == nil)
        #expect(await fetcher.progress(id) == nil)
        #expect(FileManager.default.fileExists(atPath: photo.path))
        #expect(try await index.catalog.localObject(photo.manifest.contentID) != nil)
    }

    @Test func cancellingAPausedFetchByIDPrefixDeletesItsRecord() async throws {
        let id = try await replicaCrashedOnce().contentID
        await fetcher.resumeUnfinished()
        let cancelled = try await fetcher.cancel(String(id.hex.prefix(12)))
        #expect(cancelled.id == id && !cancelled.wasRunning)
        #expect(try await index.catalog.replica(id) == nil)
        #expect(await fetcher.progress(id) == nil)
    }

    @Test func cancellingWhatNoUnfinishedFetchMatchesIsAnError() async throws {
        _ = try await index.beginReplica(seed: 3, title: "Holiday")
        await #expect(throws: FetchCancellationError.noMatch(reference: "wedding")) {
            try await self.fetcher.cancel("wedding")
        }
    }

    // MARK: Naming the fetch to cancel

    private let holiday = ResolvedReference(
        id: ContentID(hex: "ab" + String(repeating: "0", count: 62))!, title: "Holiday")
    private let holiday2 = ResolvedReference(
        id: ContentID(hex: "ac" + String(repeating: "0", count: 62))!, title: "Holiday at Sea")

    @Test func anExactTitleWinsOverLongerOnesThatContainIt() throws {
        #expect(try FetchCancellationError.match("HOLIDAY", among: [holiday, holiday2]) == holiday)
    }

    @Test func wordsEveryTitleContainsAreAmbiguous() throws {
        #expect(throws: FetchCancellationError.ambiguous(reference: "holi", candidates: [holiday, holiday2])) {
            try FetchCancellationError.match("holi", among: [self.holiday, self.holiday2])
        }
    }

    @Test func aPrefixOfEightHexDigitsNamesTheFetchWhoseIDStartsSo() throws {
        #expect(try FetchCancellationError.match("AC000000", among: [holiday, holiday2]) == holiday2)
        // Seven digits are words of a title.
        #expect(throws: FetchCancellationError.noMatch(reference: "ac00000")) {
            try FetchCancellationError.match("ac00000", among: [self.holiday, self.holiday2])
        }
    }
}
