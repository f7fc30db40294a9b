import Clocks
import ContentID
import Foundation
import MediaIndex
import PeerProtocol
import Testing
import WireVocabulary

@testable import Replication

/// Which file serves an object, on a real index and real files, with the lookup cache on a test clock.
@Suite struct ServableObjectsTests {
    let fixture: IndexFixture
    let clock = TestClock()
    let objects: ServableObjects<TestClock<Duration>>
    var layout: ReplicaLayout { ReplicaLayout(cacheDirectory: fixture.cache) }

    init() throws {
        fixture = try IndexFixture()
        objects = ServableObjects(
            catalog: fixture.catalog, layout: ReplicaLayout(cacheDirectory: fixture.cache), clock: clock)
    }

    @Test func anUnchangedMediaFileIsServedWholeFromItsPath() async throws {
        let (path, manifest) = try fixture.addIndexedPhoto("a.jpg", seed: 1)
        let object = try #require(try await objects.servableObject(manifest.contentID))
        #expect(object.path == path && object.size == manifest.fileSize && object.mimeType == "image/jpeg")
        #expect(
            object.chunkSize == manifest.chunkSize
                && object.available == ChunkBitmap(chunkCount: manifest.chunkCount, full: true))
    }

    @Test func aMediaFileChangedSinceHashingIsNotServed() async throws {
        let (path, manifest) = try fixture.addIndexedPhoto("a.jpg", seed: 1)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([1, 2, 3]))
        try handle.close()
        #expect(try await objects.servableObject(manifest.contentID) == nil)
    }

    @Test func aCompleteReplicaIsServedFromTheCachesFinalFile() async throws {
        let manifest = try await fixture.beginReplica(seed: 1)
        try await fixture.catalog.completeReplica(manifest.contentID)
        let object = try #require(try await objects.servableObject(manifest.contentID))
        #expect(object.path == layout.completePath(manifest.contentID) && object.available.isComplete)
        #expect(object.size == manifest.fileSize && object.mimeType == "video/mp4" && object.chunkSize == 1024)
    }

    @Test func aPartialReplicaIsServedFromItsPartialFileWithTheChunksHeld() async throws {
        let manifest = try await fixture.beginReplica(seed: 1)
        var have = ChunkBitmap(chunkCount: manifest.chunkCount)
        have.insert(2)
        try await fixture.catalog.recordChunks(of: manifest.contentID, have: have)
        let object = try #require(try await objects.servableObject(manifest.contentID))
        #expect(object.path == layout.partialPath(manifest.contentID) && object.available == have)
    }

    @Test func contentThisBoxDoesNotHoldIsNotServed() async throws {
        #expect(try await objects.servableObject(ContentID(bytes: [UInt8](repeating: 7, count: 32))!) == nil)
    }

    @Test func aCompleteObjectIsRememberedUntilItsLifetimeHasPassed() async throws {
        let (path, manifest) = try fixture.addIndexedPhoto("a.jpg", seed: 1)
        #expect(try await objects.servableObject(manifest.contentID)?.path == path)
        try FileManager.default.removeItem(atPath: path)
        await clock.advance(by: objects.lifetime - .milliseconds(1))
        #expect(try await objects.servableObject(manifest.contentID)?.path == path, "remembered")
        await clock.advance(by: .milliseconds(1))
        #expect(try await objects.servableObject(manifest.contentID) == nil, "looked up again")
    }

    @Test func aPartialReplicaIsLookedUpAgainAtEveryRequest() async throws {
        let manifest = try await fixture.beginReplica(seed: 1)
        #expect(try await objects.servableObject(manifest.contentID)?.available.count == 0)
        var have = ChunkBitmap(chunkCount: manifest.chunkCount)
        have.insert(0)
        try await fixture.catalog.recordChunks(of: manifest.contentID, have: have)
        #expect(try await objects.servableObject(manifest.contentID)?.available == have)
    }

    @Test func theManifestOfAHeldObjectIsTheRecordedOne() async throws {
        let manifest = try await fixture.beginReplica(seed: 3)
        #expect(try await objects.manifest(of: manifest.contentID) == manifest)
    }

    @Test func anObjectAskedForCountsAsServedRecentlyUntilTheWindowPasses() async throws {
        let manifest = try await fixture.beginReplica(seed: 3)
        try await fixture.catalog.completeReplica(manifest.contentID)
        #expect(!objects.servedRecently(manifest.contentID, within: .seconds(300)))
        _ = try await objects.servableObject(manifest.contentID)
        await clock.advance(by: .seconds(299))
        #expect(objects.servedRecently(manifest.contentID, within: .seconds(300)))
        await clock.advance(by: .seconds(1))
        #expect(!objects.servedRecently(manifest.contentID, within: .seconds(300)))
    }

    @Test func aForgottenObjectIsLookedUpAgainAtOnce() async throws {
        let manifest = try await fixture.beginReplica(seed: 4)
        try await fixture.catalog.completeReplica(manifest.contentID)
        #expect(try await objects.servableObject(manifest.contentID) != nil)
        try await fixture.catalog.deleteReplica(manifest.contentID)
        // Still remembered within its second...
        #expect(try await objects.servableObject(manifest.contentID) != nil)
        objects.forget(manifest.contentID)
        #expect(try await objects.servableObject(manifest.contentID) == nil)
    }
}
