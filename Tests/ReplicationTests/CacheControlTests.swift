import Clocks
import ContentID
import Foundation
import Logging
import MediaIndex
import MediapeerConfig
import PeerProtocol
import PeerWire
import Synchronization
import Testing
import WireVocabulary

@testable import Replication

/// What serves the cache's files, as the evictor sees it: which objects were read lately, and which it was told to
/// forget.
final class FakeServing: ObjectServing, Sendable {
    let recentlyServed = Mutex<Set<ContentID>>([])
    let forgotten = Mutex<[ContentID]>([])

    func servableObject(_ id: ContentID) async throws(IndexError) -> ServableObject? { nil }
    func manifest(of id: ContentID) async throws(IndexError) -> ChunkManifest? { nil }
    func forget(_ id: ContentID) { forgotten.withLock { $0.append(id) } }
    func servedRecently(_ id: ContentID, within window: Duration) -> Bool {
        recentlyServed.withLock { $0.contains(id) }
    }
}

/// The evictor's refusals and the order of its two steps, pins, and the quota reloaded under a running fetch.
@Suite(.timeLimit(.minutes(1))) final class CacheControlTests {
    let index: IndexFixture
    let serving = FakeServing()
    let settings = ReplicationSettings(.init(cacheLimit: .bytes(1 << 40)))
    let fetcher: Fetcher
    let sleeps: AsyncStream<Void>

    init() throws {
        index = try IndexFixture()
        var tuning = FetchJob.Tuning()
        tuning.acceptedChunkSize = 1024
        let (sleeps, sleeping) = AsyncStream.makeStream(of: Void.self)
        self.sleeps = sleeps
        fetcher = Fetcher(
            catalog: index.catalog, cacheDirectory: index.cache, settings: settings, directory: NoHolders(),
            serving: serving, transport: NoTransport(), tuning: tuning,
            clock: ObservedClock(base: TestClock(), sleeps: sleeping), logger: Logger(label: "test"))
    }

    /// A complete replica with its file in the cache.
    private func completeReplica(seed: UInt8, title: String = "Film") async throws -> ContentID {
        let id = try await index.beginReplica(seed: seed, title: title).contentID
        try await index.catalog.completeReplica(id)
        try fetcher.replicaLayout.prepare()
        let size = try #require(try await index.catalog.replica(id)).size
        try Data(count: Int(size)).write(to: URL(fileURLWithPath: fetcher.replicaLayout.completePath(id)))
        return id
    }

    private func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    @Test func evictingDeletesTheRecordAndTheFileAndTheServerForgetsIt() async throws {
        let id = try await completeReplica(seed: 1)
        let generation = try await index.catalog.delta(since: 0, after: nil, limit: 10).generation
        let evicted = try await fetcher.evict(id, reason: "test")
        #expect(evicted.id == id && evicted.complete)
        #expect(try await index.catalog.replica(id) == nil)
        #expect(!exists(fetcher.replicaLayout.completePath(id)))
        #expect(serving.forgotten.withLock { $0 } == [id])
        // The neighbours' next sync learns it is gone.
        let delta = try await index.catalog.delta(since: generation, after: nil, limit: 10)
        #expect(delta.entries.contains { $0.id == id && $0.removed })
    }

    @Test func aPinnedReplicaIsKeptUnlessThePinIsOverridden() async throws {
        let id = try await completeReplica(seed: 2)
        #expect(try await fetcher.setPinned(id, true))
        await #expect(throws: EvictionError.pinned(id)) { try await self.fetcher.evict(id, reason: "test") }
        #expect(exists(fetcher.replicaLayout.completePath(id)))
        #expect(try await index.catalog.replica(id)?.pinned == true)
        let evicted = try await fetcher.evict(id, reason: "the user", overridingPin: true)
        #expect(evicted.pinned)
        #expect(!exists(fetcher.replicaLayout.completePath(id)))
    }

    @Test func unpinningLetsAReplicaBeEvictedAgain() async throws {
        let id = try await completeReplica(seed: 3)
        #expect(try await fetcher.setPinned(id, true))
        #expect(try await fetcher.setPinned(id, false))
        #expect(try await fetcher.evict(id, reason: "test").pinned == false)
    }

    @Test func pinningWhatTheCacheDoesNotHoldChangesNothing() async throws {
        let id = try await index.beginReplica(seed: 4).contentID
        try await index.catalog.deleteReplica(id)
        #expect(try await fetcher.setPinned(id, true) == false)
    }

    @Test func aReplicaBeingFetchedIsNotEvicted() async throws {
        let id = try await index.beginReplica(seed: 5).contentID
        _ = try await fetcher.fetch(id, title: "Film")
        var iterator = sleeps.makeAsyncIterator()
        _ = await iterator.next()
        await #expect(throws: EvictionError.fetching(id)) { try await self.fetcher.evict(id, reason: "test") }
        #expect(exists(fetcher.replicaLayout.partialPath(id)))
        await fetcher.shutdown()
    }

    @Test func aReplicaReadLatelyIsKeptUnlessEvenIfInUse() async throws {
        let id = try await completeReplica(seed: 6)
        serving.recentlyServed.withLock { _ = $0.insert(id) }
        await #expect(throws: EvictionError.inUse(id)) { try await self.fetcher.evict(id, reason: "test") }
        #expect(exists(fetcher.replicaLayout.completePath(id)))
        _ = try await fetcher.evict(id, reason: "the user", evenIfInUse: true)
        #expect(!exists(fetcher.replicaLayout.completePath(id)))
    }

    @Test func anObjectNotInTheCacheIsNotEvicted() async throws {
        let id = try #require(ContentID(hex: String(repeating: "7", count: 64)))
        await #expect(throws: EvictionError.notInCache(id)) { try await self.fetcher.evict(id, reason: "test") }
    }

    @Test func evictingAReplicaNeverTouchesAMediaFileWithTheSameContent() async throws {
        let photo = try index.addIndexedPhoto("same.jpg", seed: 8)
        let id = photo.manifest.contentID
        try await index.catalog.beginReplica(
            manifest: photo.manifest, description: CatalogEntry(id: id, generation: 0, size: photo.manifest.fileSize))
        try await index.catalog.completeReplica(id)
        try fetcher.replicaLayout.prepare()
        try Data(contentsOf: URL(fileURLWithPath: photo.path))
            .write(to: URL(fileURLWithPath: fetcher.replicaLayout.completePath(id)))
        _ = try await fetcher.evict(id, reason: "test")
        #expect(!exists(fetcher.replicaLayout.completePath(id)))
        #expect(exists(photo.path))
        guard case .mediaFile? = try await index.catalog.localObject(id) else {
            Issue.record("the media file is no longer in the index")
            return
        }
    }

    @Test func aCrashAfterTheRecordIsDeletedAndBeforeTheFileIsLeavesNothingBehindAtTheNextStart() async throws {
        let id = try await completeReplica(seed: 9)
        // The evictor's first step alone: the crash comes before the file is deleted.
        try await index.catalog.deleteReplica(id)
        let objects = ServableObjects(catalog: index.catalog, layout: fetcher.replicaLayout)
        #expect(try await objects.servableObject(id) == nil, "nothing serves the file meanwhile")
        await fetcher.resumeUnfinished()
        #expect(!exists(fetcher.replicaLayout.completePath(id)))
        #expect(try await index.catalog.replica(id) == nil)
    }

    @Test func aLoweredCacheMaxStopsARunningFetchThatNoLongerFitsAndSaysWhy() async throws {
        let id = try await index.beginReplica(seed: 10).contentID
        _ = try await fetcher.fetch(id, title: "Film")
        var iterator = sleeps.makeAsyncIterator()
        _ = await iterator.next()
        let job = try #require(await fetcher.runningTask(id))
        settings.update(.init(cacheLimit: .bytes(1000)))
        await fetcher.settingsChanged()
        await job.value
        let progress = try #require(await fetcher.progress(id))
        #expect(progress.state == .failed)
        #expect(progress.message?.contains("cache_max (1kB, 1000 bytes here)") == true)
        #expect(try await index.catalog.replica(id) == nil)
        #expect(!exists(fetcher.replicaLayout.partialPath(id)))
    }

    @Test func pinningAFetchPinsItsReplicaOnceRecorded() async throws {
        let manifest = try await index.beginReplica(seed: 12)
        _ = try await fetcher.fetch(manifest.contentID, title: "Film", pin: true)
        var iterator = sleeps.makeAsyncIterator()
        _ = await iterator.next()
        #expect(try await index.catalog.replica(manifest.contentID)?.pinned == true)
        await fetcher.shutdown()
    }

    @Test func theCacheContentsListEachReplicaWithItsUseAndTheQuota() async throws {
        let complete = try await completeReplica(seed: 13, title: "Done")
        let partial = try await index.beginReplica(seed: 14, title: "Half").contentID
        _ = try await fetcher.setPinned(complete, true)
        _ = try await fetcher.fetch(partial, title: "Half")
        var iterator = sleeps.makeAsyncIterator()
        _ = await iterator.next()
        let contents = try await fetcher.cacheContents()
        #expect(contents.limit == .bytes(1 << 40) && contents.quotaBytes == 1 << 40)
        #expect(contents.settings.highWatermark == 0.9)
        let byID = Dictionary(uniqueKeysWithValues: contents.entries.map { ($0.replica.id, $0) })
        #expect(byID[complete]?.replica.pinned == true && byID[complete]?.inUse == false)
        #expect(byID[partial]?.fetching == true && byID[partial]?.bytesHeld == 0)
        #expect(contents.usedBytes == contents.entries.reduce(0) { $0 + $1.replica.size })
        await fetcher.shutdown()
    }
}

/// Bytes written into the cache per day, and the settings holder SIGHUP updates.
@Suite struct CacheWriteCounterTests {
    @Test func writesAddUpWithinADayAndStartAgainTheNext() {
        let day = Mutex<Int64>(100)
        let counter = CacheWriteCounter(today: { day.withLock { $0 } })
        counter.add(10)
        counter.add(5)
        #expect(counter.current == DailyCacheWrites(day: 100, bytes: 15))
        day.withLock { $0 = 101 }
        #expect(counter.current == DailyCacheWrites(day: 101, bytes: 0))
        counter.add(7)
        #expect(counter.current == DailyCacheWrites(day: 101, bytes: 7))
    }

    @Test func whatAnEarlierRunRecordedCountsOnlyOnTheSameDay() {
        let counter = CacheWriteCounter(today: { 100 })
        counter.restore(DailyCacheWrites(day: 99, bytes: 1000))
        #expect(counter.current.bytes == 0)
        counter.add(1)
        counter.restore(DailyCacheWrites(day: 100, bytes: 1000))
        #expect(counter.current.bytes == 1001)
    }

    @Test func theLocalDayTurnsAtTheTimeZonesMidnight() throws {
        let plusTwo = try #require(TimeZone(secondsFromGMT: 7200))
        // 1970-01-02 23:00 UTC is already the 3rd at UTC+2.
        let late = Date(timeIntervalSince1970: 86_400 + 23 * 3600)
        #expect(CacheWriteCounter.localDay(late, timeZone: try #require(TimeZone(secondsFromGMT: 0))) == 1)
        #expect(CacheWriteCounter.localDay(late, timeZone: plusTwo) == 2)
    }

    @Test func theWritesAreStoredWithTheChunksAndReadBack() async throws {
        let index = try IndexFixture()
        let manifest = try await index.beginReplica(seed: 1)
        #expect(try await index.catalog.cacheWrites() == nil)
        var have = ChunkBitmap(chunkCount: manifest.chunkCount)
        have.insert(0)
        try await index.catalog.recordChunks(
            of: manifest.contentID, have: have, writes: DailyCacheWrites(day: 42, bytes: 1024))
        #expect(try await index.catalog.cacheWrites() == DailyCacheWrites(day: 42, bytes: 1024))
    }

    @Test func settingsTellTheirWatchersOnlyOfChanges() async {
        let settings = ReplicationSettings(.init(cacheLimit: .bytes(1000)))
        let changes = settings.changes()
        #expect(settings.update(.init(cacheLimit: .bytes(1000))) == false)
        #expect(settings.update(.init(mode: .off, cacheLimit: .bytes(500))) == true)
        var iterator = changes.makeAsyncIterator()
        let changed = await iterator.next()
        #expect(changed?.mode == .off && changed?.cacheLimit == .bytes(500))
        #expect(settings.current.cacheLimit == .bytes(500))
    }
}
