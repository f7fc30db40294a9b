import ContentID
import Foundation
import GRDB
import Logging
import PeerWire
import Synchronization
import Testing
import WireVocabulary

@testable import MediaIndex

/// The shareable side of the index, on a real database and real files. Scans and hashing are driven here step by
/// step (the same `Scanner` and `IndexWriter` calls the library's threads make), so each test knows exactly which
/// generation each change lands in.
@Suite final class CatalogTests {
    let media: String
    let state: String
    let logger = Logger(label: "catalog-test")
    var library: MediaLibrary
    var catalog: Catalog { library.catalog }
    var pool: DatabasePool { library.catalog.pool }

    init() throws {
        let base = NSTemporaryDirectory() + "catalog-" + UUID().uuidString
        media = base + "/media"
        state = base + "/state"
        try FileManager.default.createDirectory(atPath: media, withIntermediateDirectories: true)
        library = try MediaLibrary(
            configuration: LibraryConfiguration(mediaFolders: [media], stateDirectory: state), logger: logger)
    }

    deinit {
        library.shutdown()
        try? FileManager.default.removeItem(atPath: (media as NSString).deletingLastPathComponent)
    }

    // MARK: Helpers

    /// A small JPEG-looking file (the sniffer checks the magic bytes only) whose content is decided by `seed`.
    @discardableResult
    func addPhoto(_ name: String, seed: UInt8, size: Int = 5000) throws -> String {
        let path = media + "/" + name
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let bytes =
            [0xFF, 0xD8, 0xFF, 0xE0] + (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed) &* 13) } + [seed]
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func contentID(ofFile name: String) throws -> ContentID {
        try FileHasher.manifest(ofFileAt: media + "/" + name).contentID
    }

    /// Records what changed in the media folder (new, changed, deleted files) and reads metadata.
    func scan() throws {
        let rootID = try pool.write { db in try IndexWriter.rootID(db, path: media) }
        let scanner = Scanner(pool: pool, logger: logger, progress: ProgressBox())
        _ = try scanner.walk(root: media, rootID: rootID) { _, _ in }
        _ = try scanner.readPendingMetadata()
    }

    /// Hashes every file without a content id, in one write, as the background hasher does with a batch.
    func hash(only names: Set<String>? = nil) throws {
        let rows = try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT m.id, m.rel_path, r.path || '/' || m.rel_path AS path, m.size, m.mtime_ns, m.inode FROM media m
                    JOIN root r ON r.id = m.root_id WHERE m.content_id IS NULL ORDER BY m.id
                    """)
        }
        let results = try rows.filter { names?.contains($0["rel_path"]) ?? true }.map { row in
            IndexWriter.HashResult(
                id: row["id"],
                facts: FileFacts(size: row["size"], mtimeNanoseconds: row["mtime_ns"], inode: row["inode"]),
                manifest: try FileHasher.manifest(ofFileAt: row["path"]))
        }
        try pool.write { db in try IndexWriter.storeContentIDs(db, results) }
    }

    func scanAndHash() throws {
        try scan()
        try hash()
    }

    private func generation() throws -> Int64 { try library.generation() }

    private func delta(since: Int64 = 0) async throws -> CatalogDelta {
        try await catalog.delta(since: since, after: nil, limit: 10_000)
    }

    @Test func aFileWhoseContentChangesBackAndForthIsRescannedWithoutAConstraintError() async throws {
        // Each change resets the row's content id and tombstones the old one; the second time the same id is
        // tombstoned, the scanner's upsert must not fail on the tombstone already there.
        try addPhoto("a.jpg", seed: 1)
        try scanAndHash()
        let first = try contentID(ofFile: "a.jpg")
        for seed: UInt8 in [2, 1, 2] {
            usleep(20_000)  // a new mtime even on file systems with coarse timestamps
            try addPhoto("a.jpg", seed: seed)
            try scanAndHash()
        }
        let entries = try await delta().entries
        #expect(entries.contains { $0.id == first && $0.removed })
        #expect(entries.contains { $0.id == (try? contentID(ofFile: "a.jpg")) && !$0.removed })
    }

    /// A manifest of `chunks` 1 KiB chunks of made-up content, for replicas.
    func replicaManifest(seed: UInt8, chunks: Int = 4) throws -> ChunkManifest {
        try ChunkManifest(
            fileSize: Int64(chunks * 1024 - 10), chunkSize: 1024,
            packedChunkHashes: (0..<(chunks * 32)).map { UInt8(truncatingIfNeeded: $0 &+ Int(seed) &* 31) })
    }

    private func description(_ title: String) -> CatalogEntry {
        CatalogEntry(
            id: ContentID(bytes: [UInt8](repeating: 0, count: 32))!, generation: 0, size: 4086, kind: .video,
            mimeType: "video/mp4", path: "films/\(title).mp4", title: title)
    }

    private func remoteEntry(_ id: ContentID, title: String, complete: Bool = true, generation: Int64 = 1)
        -> CatalogEntry
    {
        CatalogEntry(
            id: id, generation: generation, complete: complete, size: 1000, kind: .image, mimeType: "image/jpeg",
            path: "photos/\(title).jpg", title: title)
    }

    func fakeID(_ byte: UInt8) -> ContentID { ContentID(bytes: [UInt8](repeating: byte, count: 32))! }

    // MARK: Deltas of media files

    @Test func deltaSinceZeroListsEveryHashedObjectOnceEvenWhenFilesShareContent() async throws {
        try addPhoto("a.jpg", seed: 1)
        try addPhoto("copies/a-again.jpg", seed: 1)
        try addPhoto("b.jpg", seed: 2)
        try scanAndHash()
        let entries = try await delta().entries
        #expect(entries.count == 2)
        #expect(Set(entries.map(\.id)) == [try contentID(ofFile: "a.jpg"), try contentID(ofFile: "b.jpg")])
        #expect(entries.allSatisfy { $0.complete && !$0.removed && $0.kind == .image && $0.mimeType == "image/jpeg" })
    }

    @Test func filesNotHashedYetAreNotInTheCatalog() async throws {
        try addPhoto("a.jpg", seed: 1)
        try scan()
        #expect(try await delta().entries.isEmpty)
    }

    @Test func deltaCarriesTheEpochAndTheCurrentGeneration() async throws {
        try addPhoto("a.jpg", seed: 1)
        try scanAndHash()
        let delta = try await delta()
        #expect(delta.epoch == (try await catalog.epoch()))
        #expect(delta.epoch.count == 16)
        #expect(delta.generation == (try generation()))
        #expect(!delta.more)
    }

    @Test func laterDeltaListsOnlyWhatChanged() async throws {
        try addPhoto("a.jpg", seed: 1)
        try addPhoto("b.jpg", seed: 2)
        try scanAndHash()
        let synced = try await delta()
        try addPhoto("c.jpg", seed: 3)
        try scanAndHash()
        let later = try await delta(since: synced.generation)
        #expect(later.entries.map(\.id) == [try contentID(ofFile: "c.jpg")])
        #expect(later.entries.allSatisfy { $0.generation > synced.generation })
        #expect(try await delta(since: later.generation).entries.isEmpty)
    }

    @Test func pagingReturnsEveryEntryOnceInGenerationAndIDOrder() async throws {
        // Three hashing batches, so that several entries share a generation and pages split inside one.
        for index in 0..<7 { try addPhoto("p\(index).jpg", seed: UInt8(10 + index)) }
        try scan()
        try hash(only: ["p0.jpg", "p1.jpg", "p2.jpg"])
        try hash(only: ["p3.jpg"])
        try hash()
        let all = try await delta().entries
        #expect(all.count == 7)
        for limit in [1, 2, 3, 7, 8] {
            var pages: [CatalogDelta] = []
            var since: Int64 = 0
            var after: ContentID?
            repeat {
                let page = try await catalog.delta(since: since, after: after, limit: limit)
                pages.append(page)
                guard let last = page.entries.last else { break }
                since = last.generation
                after = last.id
            } while pages.last!.more && pages.count < 20
            let entries = pages.flatMap(\.entries)
            #expect(entries.map(\.id) == all.map(\.id), "limit \(limit)")
            #expect(Set(entries.map(\.id)).count == 7, "limit \(limit)")
            #expect(
                zip(entries, entries.dropFirst()).allSatisfy { ($0.generation, $0.id) < ($1.generation, $1.id) },
                "limit \(limit)")
            #expect(pages.dropLast().allSatisfy(\.more) && !pages.last!.more, "limit \(limit)")
            #expect(pages.allSatisfy { $0.entries.count <= limit }, "limit \(limit)")
            #expect(pages.count == max(1, (7 + limit - 1) / limit), "limit \(limit)")
        }
    }

    @Test func deletingTheOnlyFileOfAnObjectYieldsATombstone() async throws {
        let path = try addPhoto("a.jpg", seed: 1)
        try addPhoto("b.jpg", seed: 2)
        try scanAndHash()
        let id = try contentID(ofFile: "a.jpg")
        let synced = try await delta()
        try FileManager.default.removeItem(atPath: path)
        try scan()
        let later = try await delta(since: synced.generation)
        #expect(later.entries.count == 1)
        let entry = try #require(later.entries.first)
        #expect(entry.id == id && entry.removed && entry.kind == nil)
        #expect(entry.generation > synced.generation)
        #expect(try await catalog.manifest(of: id) == nil)
        // A peer syncing from scratch needs no tombstone for content it never saw listed... but may get one; it
        // must never see the object as present.
        #expect(!(try await delta().entries.contains { $0.id == id && !$0.removed }))
    }

    @Test func deletingOneOfTwoFilesWithTheSameContentYieldsNoTombstone() async throws {
        let path = try addPhoto("a.jpg", seed: 1)
        try addPhoto("copy.jpg", seed: 1)
        try scanAndHash()
        let id = try contentID(ofFile: "a.jpg")
        let synced = try await delta()
        try FileManager.default.removeItem(atPath: path)
        try scan()
        #expect(!(try await delta(since: synced.generation).entries.contains { $0.id == id && $0.removed }))
        #expect(try await delta().entries.contains { $0.id == id && !$0.removed })
        #expect(try await catalog.manifest(of: id) != nil)
    }

    @Test func editingAFileTombstonesItsOldContentAndListsTheNew() async throws {
        try addPhoto("a.jpg", seed: 1)
        try scanAndHash()
        let old = try contentID(ofFile: "a.jpg")
        let synced = try await delta()
        try addPhoto("a.jpg", seed: 9, size: 6000)
        try scanAndHash()
        let new = try contentID(ofFile: "a.jpg")
        let later = try await delta(since: synced.generation).entries
        #expect(later.contains { $0.id == old && $0.removed })
        #expect(later.contains { $0.id == new && !$0.removed })
    }

    @Test func droppingAMediaFolderTombstonesItsObjects() async throws {
        try addPhoto("a.jpg", seed: 1)
        try scanAndHash()
        let id = try contentID(ofFile: "a.jpg")
        let synced = try await delta()
        _ = try await pool.write { db in try IndexWriter.removeRoots(db, notIn: []) }
        let entries = try await delta(since: synced.generation).entries
        #expect(entries.map(\.id) == [id])
        #expect(entries.first?.removed == true)
    }

    @Test func contentThatComesBackIsListedAgainWithoutItsTombstone() async throws {
        let path = try addPhoto("a.jpg", seed: 1)
        try scanAndHash()
        let id = try contentID(ofFile: "a.jpg")
        try FileManager.default.removeItem(atPath: path)
        try scan()
        let removed = try await delta()
        try addPhoto("back.jpg", seed: 1)
        try scanAndHash()
        let entries = try await delta(since: removed.generation).entries.filter { $0.id == id }
        #expect(entries.count == 1)
        #expect(entries.first?.removed == false)
    }

    // MARK: Replicas

    @Test func aPartialReplicaIsListedIncompleteOnce() async throws {
        let manifest = try replicaManifest(seed: 1)
        let before = try generation()
        try await catalog.beginReplica(manifest: manifest, description: description("Film"))
        #expect(try generation() == before + 1)
        let entries = try await delta(since: before).entries
        #expect(entries.count == 1)
        let entry = try #require(entries.first)
        #expect(entry.id == manifest.contentID && !entry.complete && !entry.removed && entry.title == "Film")
        #expect(try await delta(since: before + 1).entries.isEmpty)
    }

    @Test func beginningAReplicaAgainKeepsItAsItIs() async throws {
        let manifest = try replicaManifest(seed: 1)
        try await catalog.beginReplica(manifest: manifest, description: description("Film"))
        var have = ChunkBitmap(chunkCount: manifest.chunkCount)
        have.insert(1)
        try await catalog.recordChunks(of: manifest.contentID, have: have)
        let generation = try generation()
        try await catalog.beginReplica(manifest: manifest, description: description("Other"))
        #expect(try self.generation() == generation)
        #expect(try await catalog.replica(manifest.contentID)?.have == have)
    }

    @Test func recordingChunksDoesNotMoveTheGeneration() async throws {
        let manifest = try replicaManifest(seed: 1)
        try await catalog.beginReplica(manifest: manifest, description: description("Film"))
        let generation = try generation()
        var have = ChunkBitmap(chunkCount: manifest.chunkCount)
        have.insert(0)
        have.insert(2)
        try await catalog.recordChunks(of: manifest.contentID, have: have)
        #expect(try self.generation() == generation)
        #expect(try await delta(since: generation).entries.isEmpty)
        let replica = try #require(try await catalog.replica(manifest.contentID))
        #expect(replica.have == have && !replica.complete)
    }

    @Test func completingAReplicaListsItCompleteInTheNextDelta() async throws {
        let manifest = try replicaManifest(seed: 1)
        try await catalog.beginReplica(manifest: manifest, description: description("Film"))
        let started = try generation()
        try await catalog.completeReplica(manifest.contentID)
        #expect(try generation() == started + 1)
        let entries = try await delta(since: started).entries
        #expect(entries.map(\.id) == [manifest.contentID])
        #expect(entries.first?.complete == true)
        let replica = try #require(try await catalog.replica(manifest.contentID))
        #expect(replica.complete && replica.have.isComplete)
    }

    @Test func deletingAReplicaYieldsATombstoneAndDropsItsManifest() async throws {
        let manifest = try replicaManifest(seed: 1)
        try await catalog.beginReplica(manifest: manifest, description: description("Film"))
        try await catalog.completeReplica(manifest.contentID)
        let synced = try generation()
        try await catalog.deleteReplica(manifest.contentID)
        let entries = try await delta(since: synced).entries
        #expect(entries.count == 1)
        #expect(entries.first?.id == manifest.contentID && entries.first?.removed == true)
        #expect(try await catalog.replica(manifest.contentID) == nil)
        #expect(try await catalog.manifest(of: manifest.contentID) == nil)
    }

    @Test func aReplicaOfContentAlsoInAMediaFileIsListedOnce() async throws {
        try addPhoto("a.jpg", seed: 1)
        try scanAndHash()
        let manifest = try FileHasher.manifest(ofFileAt: media + "/a.jpg")
        try await catalog.beginReplica(manifest: manifest, description: description("Same"))
        let entries = try await delta().entries.filter { $0.id == manifest.contentID }
        #expect(entries.count == 1)
        #expect(entries.first?.complete == true)
    }

    // MARK: Serving

    @Test func localObjectIsTheMediaFileWhileItIsUnchanged() async throws {
        let path = try addPhoto("a.jpg", seed: 1)
        try scanAndHash()
        let id = try contentID(ofFile: "a.jpg")
        let size = Int64(try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int)
        #expect(try await catalog.localObject(id) == .mediaFile(path: path, size: size, mimeType: "image/jpeg"))
    }

    @Test func anEditedFileIsNotServedUnderItsOldID() async throws {
        let path = try addPhoto("a.jpg", seed: 1)
        try scanAndHash()
        let id = try contentID(ofFile: "a.jpg")
        // Same size, other bytes, written in place (same inode), with a clearly later mtime.
        try addPhoto("a.jpg", seed: 2)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(5)], ofItemAtPath: path)
        #expect(try await catalog.localObject(id) == nil)
    }

    @Test func aFileThatGrewIsNotServedUnderItsOldID() async throws {
        let path = try addPhoto("a.jpg", seed: 1)
        try scanAndHash()
        let id = try contentID(ofFile: "a.jpg")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([1, 2, 3]))
        try handle.close()
        #expect(try await catalog.localObject(id) == nil)
    }

    @Test func aFileTruncatedWithoutACloseIsReportedToBeRecordedAgain() async throws {
        let path = try addPhoto("a.jpg", seed: 1)
        try scanAndHash()
        let id = try contentID(ofFile: "a.jpg")
        // truncate(2) opens nothing, so inotify reports no IN_CLOSE_WRITE: only a reader finds the file changed.
        #expect(truncate(path, 100) == 0)
        let reported = Mutex<[String]>([])
        let reader = Catalog(
            pool: pool, staleFile: { root, path in reported.withLock { $0.append(root + "|" + path) } })
        #expect(try await reader.localObject(id) == nil)
        #expect(reported.withLock { $0 } == [media + "|a.jpg"])
    }

    @Test func aFileReplacedByAnotherWithTheSameSizeAndMtimeIsNotServed() async throws {
        let path = try addPhoto("a.jpg", seed: 1)
        try scanAndHash()
        let id = try contentID(ofFile: "a.jpg")
        let mtime = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as! Date
        let replacement = try addPhoto("elsewhere.tmp", seed: 2)
        try FileManager.default.setAttributes([.modificationDate: mtime], ofItemAtPath: replacement)
        _ = rename(replacement, path)
        #expect(try await catalog.localObject(id) == nil)
    }

    @Test func anotherCopyIsServedWhenTheFirstFileChanged() async throws {
        let first = try addPhoto("a.jpg", seed: 1)
        let second = try addPhoto("b.jpg", seed: 1)
        try scanAndHash()
        let id = try contentID(ofFile: "a.jpg")
        try FileManager.default.removeItem(atPath: first)
        guard case .mediaFile(let path, _, _) = try await catalog.localObject(id) else {
            Issue.record("the remaining copy is not served")
            return
        }
        #expect(path == second)
    }

    @Test func localObjectOfAReplicaIsItsRecord() async throws {
        let manifest = try replicaManifest(seed: 1)
        try await catalog.beginReplica(manifest: manifest, description: description("Film"))
        guard case .replica(let record) = try await catalog.localObject(manifest.contentID) else {
            Issue.record("a partial replica is not a local object")
            return
        }
        #expect(record.id == manifest.contentID && !record.complete && record.have.count == 0)
        #expect(record.size == manifest.fileSize && record.mimeType == "video/mp4")
    }

    @Test func localObjectOfUnknownContentIsNil() async throws {
        #expect(try await catalog.localObject(fakeID(9)) == nil)
    }

    private func localDescription(of id: ContentID) async throws -> CatalogEntry? {
        try await catalog.read { db in try Catalog.localDescription(db, of: id) }
    }

    @Test func localDescriptionIsTheMediaFilesRowBeforeAReplicas() async throws {
        try addPhoto("a.jpg", seed: 1)
        try scanAndHash()
        let id = try contentID(ofFile: "a.jpg")
        let manifest = try FileHasher.manifest(ofFileAt: media + "/a.jpg")
        try await catalog.beginReplica(manifest: manifest, description: description("Replica Title"))
        let entry = try #require(try await localDescription(of: id))
        #expect(entry.path == "a.jpg" && entry.kind == .image && entry.mimeType == "image/jpeg" && entry.complete)
    }

    @Test func localDescriptionOfAPartialReplicaSaysItIsIncomplete() async throws {
        let manifest = try replicaManifest(seed: 1)
        try await catalog.beginReplica(manifest: manifest, description: description("Film"))
        let entry = try #require(try await localDescription(of: manifest.contentID))
        #expect(entry.title == "Film" && !entry.complete && entry.size == manifest.fileSize)
        #expect(try await localDescription(of: fakeID(9)) == nil)
    }

    // MARK: Neighbours' catalogs

    @Test func remoteDeltaRecordsHoldersCompleteFirst() async throws {
        let id = fakeID(1)
        try await catalog.applyRemoteDelta(
            peerID: "p2", name: "Two",
            delta: CatalogDelta(
                epoch: "e2", generation: 3, entries: [remoteEntry(id, title: "x", complete: false)], more: false),
            restart: false)
        try await catalog.applyRemoteDelta(
            peerID: "p1", name: "One",
            delta: CatalogDelta(
                epoch: "e1", generation: 5, entries: [remoteEntry(id, title: "x")], more: false), restart: false)
        let holders = try await catalog.remoteHolders(of: id)
        #expect(holders.map(\.peerID) == ["p1", "p2"])
        #expect(holders.map(\.complete) == [true, false])
        #expect(try await catalog.remoteHolders(of: fakeID(2)).isEmpty)
    }

    @Test func syncedGenerationMovesOnlyOnTheLastPage() async throws {
        #expect(try await catalog.remoteSyncState(peerID: "p1") == nil)
        try await catalog.applyRemoteDelta(
            peerID: "p1", name: "One",
            delta: CatalogDelta(
                epoch: "e1", generation: 9, entries: [remoteEntry(fakeID(1), title: "a")], more: true), restart: false)
        #expect(try await catalog.remoteSyncState(peerID: "p1") == RemoteSyncState(epoch: nil, syncedGeneration: 0))
        #expect(try await catalog.remoteHolders(of: fakeID(1)).count == 1, "a page's entries apply at once")
        try await catalog.applyRemoteDelta(
            peerID: "p1", name: "One",
            delta: CatalogDelta(
                epoch: "e1", generation: 9, entries: [remoteEntry(fakeID(2), title: "b")], more: false), restart: false)
        #expect(try await catalog.remoteSyncState(peerID: "p1") == RemoteSyncState(epoch: "e1", syncedGeneration: 9))
    }

    @Test func aRemovedRemoteEntryForgetsTheHolder() async throws {
        let id = fakeID(1)
        try await catalog.applyRemoteDelta(
            peerID: "p1", name: "One",
            delta: CatalogDelta(
                epoch: "e1", generation: 1, entries: [remoteEntry(id, title: "a")], more: false), restart: false)
        try await catalog.applyRemoteDelta(
            peerID: "p1", name: "One",
            delta: CatalogDelta(
                epoch: "e1", generation: 2,
                entries: [CatalogEntry(id: id, generation: 2, removed: true, complete: false)], more: false),
            restart: false)
        #expect(try await catalog.remoteHolders(of: id).isEmpty)
        #expect(try await catalog.remoteSyncState(peerID: "p1")?.syncedGeneration == 2)
    }

    @Test func restartDropsWhatWasKnownOfThePeer() async throws {
        try await catalog.applyRemoteDelta(
            peerID: "p1", name: "One",
            delta: CatalogDelta(
                epoch: "old", generation: 50, entries: [remoteEntry(fakeID(1), title: "a")], more: false),
            restart: false)
        try await catalog.applyRemoteDelta(
            peerID: "p2", name: "Two",
            delta: CatalogDelta(
                epoch: "e2", generation: 4, entries: [remoteEntry(fakeID(1), title: "a")], more: false), restart: false)
        try await catalog.applyRemoteDelta(
            peerID: "p1", name: "One",
            delta: CatalogDelta(
                epoch: "new", generation: 2, entries: [remoteEntry(fakeID(2), title: "b")], more: true), restart: true)
        #expect(try await catalog.remoteHolders(of: fakeID(1)).map(\.peerID) == ["p2"])
        #expect(try await catalog.remoteHolders(of: fakeID(2)).map(\.peerID) == ["p1"])
        #expect(try await catalog.remoteSyncState(peerID: "p1") == RemoteSyncState(epoch: nil, syncedGeneration: 0))
    }

    @Test func remoteDescriptionComesFromACompleteHolder() async throws {
        let id = fakeID(1)
        try await catalog.applyRemoteDelta(
            peerID: "p1", name: "One",
            delta: CatalogDelta(
                epoch: "e", generation: 1, entries: [remoteEntry(id, title: "Partial", complete: false)], more: false),
            restart: false)
        try await catalog.applyRemoteDelta(
            peerID: "p2", name: "Two",
            delta: CatalogDelta(
                epoch: "e", generation: 1, entries: [remoteEntry(id, title: "Complete")], more: false), restart: false)
        #expect(try await catalog.remoteDescription(of: id)?.title == "Complete")
    }

    // MARK: The whole home

    @Test func listHomeMergesTheSameContentAndIncludesOnlyOnlinePeers() async throws {
        try addPhoto("beach.jpg", seed: 1)
        try scanAndHash()
        let local = try contentID(ofFile: "beach.jpg")
        let shared = fakeID(2)
        let offlineOnly = fakeID(3)
        try await catalog.applyRemoteDelta(
            peerID: "p1", name: "One",
            delta: CatalogDelta(
                epoch: "e", generation: 1,
                entries: [
                    remoteEntry(local, title: "beach"), remoteEntry(shared, title: "mountain"),
                ], more: false), restart: false)
        try await catalog.applyRemoteDelta(
            peerID: "p2", name: "Two",
            delta: CatalogDelta(
                epoch: "e", generation: 1,
                entries: [
                    remoteEntry(shared, title: "mountain")
                ], more: false), restart: false)
        try await catalog.applyRemoteDelta(
            peerID: "p3", name: "Three",
            delta: CatalogDelta(
                epoch: "e", generation: 1,
                entries: [
                    remoteEntry(offlineOnly, title: "offline"), remoteEntry(shared, title: "mountain"),
                ], more: false), restart: false)
        let (items, total) = try await catalog.listHome(kind: nil, limit: 100, offset: 0, online: ["p1", "p2"])
        #expect(total == 2)
        #expect(items.count == 2)
        let beach = try #require(items.first { $0.id == local })
        #expect(beach.local && beach.holders == ["p1"])
        let mountain = try #require(items.first { $0.id == shared })
        #expect(!mountain.local && mountain.holders == ["p1", "p2"])
        #expect(!items.contains { $0.id == offlineOnly })
    }

    @Test func listHomeWithNoPeerOnlineIsThisBoxAlone() async throws {
        try addPhoto("beach.jpg", seed: 1)
        try scanAndHash()
        try await catalog.applyRemoteDelta(
            peerID: "p1", name: "One",
            delta: CatalogDelta(
                epoch: "e", generation: 1,
                entries: [
                    remoteEntry(fakeID(2), title: "mountain")
                ], more: false), restart: false)
        let (items, total) = try await catalog.listHome(kind: nil, limit: 100, offset: 0, online: [])
        #expect(total == 1 && items.count == 1 && items.first?.local == true && items.first?.holders == [])
    }

    @Test func listHomePagesWithLimitAndOffset() async throws {
        let entries = (1...5).map { remoteEntry(fakeID(UInt8($0)), title: "t\($0)") }
        try await catalog.applyRemoteDelta(
            peerID: "p1", name: "One", delta: CatalogDelta(epoch: "e", generation: 1, entries: entries, more: false),
            restart: false)
        let first = try await catalog.listHome(kind: nil, limit: 2, offset: 0, online: ["p1"])
        let rest = try await catalog.listHome(kind: nil, limit: 10, offset: 2, online: ["p1"])
        #expect(first.total == 5 && rest.total == 5)
        #expect((first.items + rest.items).compactMap(\.title) == ["t1", "t2", "t3", "t4", "t5"])
    }

    @Test func listHomeFiltersByKind() async throws {
        try addPhoto("beach.jpg", seed: 1)
        try scanAndHash()
        var song = remoteEntry(fakeID(2), title: "song")
        song.kind = .audio
        try await catalog.applyRemoteDelta(
            peerID: "p1", name: "One", delta: CatalogDelta(epoch: "e", generation: 1, entries: [song], more: false),
            restart: false)
        let (items, total) = try await catalog.listHome(kind: .audio, limit: 10, offset: 0, online: ["p1"])
        #expect(total == 1 && items.map(\.id) == [fakeID(2)])
    }

    @Test func aPartialRemoteHolderIsNotNamedAsAHolder() async throws {
        try await catalog.applyRemoteDelta(
            peerID: "p1", name: "One",
            delta: CatalogDelta(
                epoch: "e", generation: 1,
                entries: [
                    remoteEntry(fakeID(2), title: "half", complete: false)
                ], more: false), restart: false)
        try await catalog.applyRemoteDelta(
            peerID: "p2", name: "Two",
            delta: CatalogDelta(
                epoch: "e", generation: 1,
                entries: [
                    remoteEntry(fakeID(2), title: "half")
                ], more: false), restart: false)
        let (items, _) = try await catalog.listHome(kind: nil, limit: 10, offset: 0, online: ["p1", "p2"])
        #expect(items.count == 1 && items.first?.holders == ["p2"])
    }

    @Test func searchHomeFindsLocalAndOnlineRemoteCopiesAsOneItem() async throws {
        try addPhoto("beach.jpg", seed: 1)
        try scanAndHash()
        let local = try contentID(ofFile: "beach.jpg")
        try await catalog.applyRemoteDelta(
            peerID: "p1", name: "One",
            delta: CatalogDelta(
                epoch: "e", generation: 1,
                entries: [
                    remoteEntry(local, title: "beach"), remoteEntry(fakeID(2), title: "beach party"),
                    remoteEntry(fakeID(4), title: "forest"),
                ], more: false), restart: false)
        try await catalog.applyRemoteDelta(
            peerID: "p2", name: "Two",
            delta: CatalogDelta(
                epoch: "e", generation: 1,
                entries: [
                    remoteEntry(fakeID(2), title: "beach party"), remoteEntry(fakeID(3), title: "beach offline"),
                ], more: false), restart: false)
        let items = try await catalog.searchHome("beach", kind: nil, limit: 10, online: ["p1", "p2"])
        #expect(Set(items.compactMap(\.id)) == [local, fakeID(2), fakeID(3)])
        #expect(items.first { $0.id == local }.map { $0.local && $0.holders == ["p1"] } == true)
        #expect(items.first { $0.id == fakeID(2) }?.holders == ["p1", "p2"])
        let onlyP1 = try await catalog.searchHome("beach", kind: nil, limit: 10, online: ["p1"])
        #expect(Set(onlyP1.compactMap(\.id)) == [local, fakeID(2)])
    }

    // MARK: Titles

    @Test func theTitleOfAnObjectComesFromThisBoxsFileFirst() async throws {
        try addPhoto("beach.jpg", seed: 1)
        try scanAndHash()
        let local = try contentID(ofFile: "beach.jpg")
        try await catalog.applyRemoteDelta(
            peerID: "p1", name: "One",
            delta: CatalogDelta(
                epoch: "e", generation: 1,
                entries: [
                    remoteEntry(local, title: "Seaside")
                ], more: false), restart: false)
        #expect(try await catalog.title(of: local) == "beach.jpg")
    }

    @Test func theTitleOfAReplicaIsItsOwn() async throws {
        let manifest = try replicaManifest(seed: 1)
        try await catalog.beginReplica(manifest: manifest, description: description("Film"))
        #expect(try await catalog.title(of: manifest.contentID) == "Film")
    }

    @Test func theTitleOfAnObjectOnlyNeighboursHoldComesFromACompleteHolder() async throws {
        try await catalog.applyRemoteDelta(
            peerID: "p1", name: "One",
            delta: CatalogDelta(
                epoch: "e", generation: 1,
                entries: [
                    remoteEntry(fakeID(1), title: "partial copy", complete: false)
                ], more: false), restart: false)
        try await catalog.applyRemoteDelta(
            peerID: "p2", name: "Two",
            delta: CatalogDelta(
                epoch: "e", generation: 1,
                entries: [
                    remoteEntry(fakeID(1), title: "whole copy")
                ], more: false), restart: false)
        #expect(try await catalog.title(of: fakeID(1)) == "whole copy")
        #expect(try await catalog.title(of: fakeID(2)) == nil)
    }

    // MARK: Epoch

    @Test func theEpochSurvivesReopening() async throws {
        let epoch = try await catalog.epoch()
        #expect(!epoch.isEmpty)
        library.shutdown()
        library = try MediaLibrary(
            configuration: LibraryConfiguration(mediaFolders: [media], stateDirectory: state), logger: logger)
        #expect(try await catalog.epoch() == epoch)
    }

    @Test func anotherDatabaseHasAnotherEpoch() async throws {
        let other = NSTemporaryDirectory() + "catalog-other-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: other) }
        let second = try MediaLibrary(
            configuration: LibraryConfiguration(mediaFolders: [media], stateDirectory: other), logger: logger)
        defer { second.shutdown() }
        #expect(try await second.catalog.epoch() != catalog.epoch())
    }

    // MARK: Crashes during fetches

    @Test func aFetchStillMarkedRunningAtStartCountsACrashAndIsStillResumable() async throws {
        let manifest = try replicaManifest(seed: 1)
        try await catalog.beginReplica(manifest: manifest, description: description("Film"))
        try await catalog.markFetchRunning(manifest.contentID, resettingCrashes: false)
        try await catalog.countFetchCrashes(pauseAfter: 2)
        let record = try #require(try await catalog.replica(manifest.contentID))
        #expect(record.crashCount == 1 && record.fetchRunning)
    }

    @Test func theSecondCrashInARowLeavesTheFetchNoLongerMarkedRunning() async throws {
        let manifest = try replicaManifest(seed: 1)
        try await catalog.beginReplica(manifest: manifest, description: description("Film"))
        try await catalog.markFetchRunning(manifest.contentID, resettingCrashes: false)
        try await catalog.countFetchCrashes(pauseAfter: 2)
        try await catalog.countFetchCrashes(pauseAfter: 2)
        // A third start finds it stopped, and counts nothing more.
        try await catalog.countFetchCrashes(pauseAfter: 2)
        let record = try #require(try await catalog.replica(manifest.contentID))
        #expect(record.crashCount == 2 && !record.fetchRunning)
    }

    @Test func aCleanStopCountsNoCrashAndForgetsThePreviousOnes() async throws {
        let manifest = try replicaManifest(seed: 1)
        try await catalog.beginReplica(manifest: manifest, description: description("Film"))
        try await catalog.markFetchRunning(manifest.contentID, resettingCrashes: false)
        try await catalog.countFetchCrashes(pauseAfter: 2)
        try await catalog.markFetchStopped(manifest.contentID)
        try await catalog.countFetchCrashes(pauseAfter: 2)
        let record = try #require(try await catalog.replica(manifest.contentID))
        #expect(record.crashCount == 0 && !record.fetchRunning)
    }

    @Test func aFetchStartedByHandStartsItsCountOfCrashesAgain() async throws {
        let manifest = try replicaManifest(seed: 1)
        try await catalog.beginReplica(manifest: manifest, description: description("Film"))
        try await catalog.markFetchRunning(manifest.contentID, resettingCrashes: false)
        try await catalog.countFetchCrashes(pauseAfter: 2)
        try await catalog.countFetchCrashes(pauseAfter: 2)
        try await catalog.markFetchRunning(manifest.contentID, resettingCrashes: true)
        let record = try #require(try await catalog.replica(manifest.contentID))
        #expect(record.crashCount == 0 && record.fetchRunning)
    }

    // MARK: Bounds on the neighbours' catalogs

    @discardableResult
    private func applyRemote(
        _ peerID: String, _ entries: [CatalogEntry], more: Bool = false,
        limits: RemoteCatalogLimits = .unlimited
    ) async throws -> RemoteDeltaOutcome {
        try await catalog.applyRemoteDelta(
            peerID: peerID, name: peerID, delta: CatalogDelta(epoch: "e", generation: 9, entries: entries, more: more),
            restart: false, limits: limits)
    }

    @Test func aCombiningMarkTitleIsStoredAtMost1024Bytes() async throws {
        let title = "e" + String(repeating: "\u{0301}", count: 300_000)
        var entry = remoteEntry(fakeID(1), title: "x")
        entry.title = title
        entry.artist = title
        entry.path = String(repeating: "\u{0301}", count: 300_000)
        try await applyRemote("p1", [entry])
        let row = try #require(
            try pool.read { db in try Row.fetchOne(db, sql: "SELECT title, artist, name FROM remote_object") })
        #expect((row["title"] as String).utf8.count <= 1024)
        #expect((row["artist"] as String).utf8.count <= 1024)
        #expect((row["name"] as String).utf8.count <= 4096)
        #expect((row["title"] as String).unicodeScalars.starts(with: "e\u{0301}".unicodeScalars))
    }

    @Test func aPageStopsAtTheObjectLimitButUpdatesAndRemovalsOfStoredObjectsStillApply() async throws {
        let limits = RemoteCatalogLimits(maxObjects: 2, maxBytes: .max)
        let first = try await applyRemote("p1", [1, 2, 3].map { remoteEntry(fakeID($0), title: "t") }, limits: limits)
        #expect(first == RemoteDeltaOutcome(applied: 2, limitReached: .objects))
        #expect(
            try await catalog.remoteSyncState(peerID: "p1")?.epoch == nil, "a page cut short does not finish a sync")
        let second = try await applyRemote(
            "p1",
            [
                remoteEntry(fakeID(1), title: "renamed", generation: 10),
                CatalogEntry(id: fakeID(2), generation: 11, removed: true, complete: false),
                remoteEntry(fakeID(3), title: "t", generation: 12),
            ], limits: limits)
        #expect(second == RemoteDeltaOutcome(applied: 3, limitReached: nil))
        #expect(try await catalog.remoteHolders(of: fakeID(2)).isEmpty)
        #expect(try await catalog.remoteCatalogSize(peerID: "p1")?.objects == 2)
        #expect(try await catalog.remoteSyncState(peerID: "p1")?.epoch == "e")
    }

    @Test func aPageStopsAtTheByteLimit() async throws {
        // "photos/t.jpg" (12) + "image/jpeg" (10) + "t" (1) + 64 bytes a row.
        let limits = RemoteCatalogLimits(maxObjects: .max, maxBytes: 87 * 2 + 86)
        let outcome = try await applyRemote(
            "p1", [1, 2, 3].map { remoteEntry(fakeID($0), title: "t") }, limits: limits)
        #expect(outcome == RemoteDeltaOutcome(applied: 2, limitReached: .bytes))
        #expect(try await catalog.remoteCatalogSize(peerID: "p1")?.bytes == 87 * 2)
    }

    @Test func thePerPeerCountersFollowEveryInsertUpdateAndDeletion() async throws {
        try await applyRemote("p1", [1, 2, 3].map { remoteEntry(fakeID($0), title: "short") })
        try await applyRemote("p2", [remoteEntry(fakeID(1), title: "other")])
        try await applyRemote(
            "p1",
            [
                remoteEntry(fakeID(1), title: String(repeating: "é", count: 40), generation: 10),
                CatalogEntry(id: fakeID(3), generation: 11, removed: true, complete: false),
            ])
        for peerID in ["p1", "p2"] {
            let counted = try pool.read { db in
                try Row.fetchOne(
                    db,
                    sql: """
                        SELECT count(*) AS objects, sum(64 + length(CAST(mime AS BLOB)) + length(CAST(name AS BLOB))
                            + coalesce(length(CAST(title AS BLOB)), 0) + coalesce(length(CAST(artist AS BLOB)), 0)
                            + coalesce(length(CAST(album AS BLOB)), 0)) AS bytes
                        FROM remote_object WHERE peer_id = ?
                        """, arguments: [peerID])
            }
            let size = try #require(try await catalog.remoteCatalogSize(peerID: peerID))
            #expect(size.objects == counted?["objects"])
            #expect(size.bytes == counted?["bytes"])
        }
        #expect(try await catalog.remoteCatalogSize(peerID: "p1")?.objects == 2)
    }

    @Test func aNeighbourUnseenBeforeTheCutoffIsForgottenUnlessSeen() async throws {
        for peerID in ["old", "recent", "here", "never-left"] {
            try await applyRemote(peerID, [remoteEntry(fakeID(1), title: "a")])
        }
        try await catalog.remotePeerLeft(peerID: "old", at: 100)
        try await catalog.remotePeerLeft(peerID: "old", at: 900)  // the earlier departure counts
        try await catalog.remotePeerLeft(peerID: "recent", at: 600)
        try await catalog.remotePeerLeft(peerID: "here", at: 100)
        let forgotten = try await catalog.forgetRemotePeers(unseenBefore: 500, except: ["here"])
        #expect(forgotten == ["old"])
        #expect(try await catalog.remoteSyncState(peerID: "old") == nil)
        let kept = try await catalog.remoteHolders(of: fakeID(1)).map(\.peerID).sorted()
        #expect(kept == ["here", "never-left", "recent"])
    }

    @Test func aFinishedSyncOrASeenNeighbourIsNoLongerUnseen() async throws {
        try await applyRemote("p1", [remoteEntry(fakeID(1), title: "a")])
        try await applyRemote("p2", [remoteEntry(fakeID(1), title: "a")])
        try await catalog.remotePeersUnseen(since: 100)
        try await applyRemote("p1", [remoteEntry(fakeID(2), title: "b", generation: 10)])
        try await catalog.remotePeerSeen(peerID: "p2")
        try await catalog.remotePeersUnseen(since: 1000)
        #expect(try await catalog.forgetRemotePeers(unseenBefore: 1000, except: []) == [])
    }

    @Test func forgettingANeighbourDeletesItsWholeCatalog() async throws {
        try await applyRemote("p1", [remoteEntry(fakeID(1), title: "a"), remoteEntry(fakeID(2), title: "b")])
        try await catalog.forgetRemotePeer(peerID: "p1")
        #expect(try await catalog.remoteSyncState(peerID: "p1") == nil)
        #expect(try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM remote_object") } == 0)
        #expect(try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM remote_search") } == 0)
    }
}
