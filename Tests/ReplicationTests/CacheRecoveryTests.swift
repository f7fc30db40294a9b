import ContentID
import Foundation
import Logging
import MediaIndex
import PeerWire
import Testing
import WireVocabulary

@testable import Replication

/// What `CacheRecovery` makes of the cache after a crash or power cut at each step of a fetch.
@Suite struct CacheRecoveryTests {
    let folder = NSTemporaryDirectory() + "mediapeer-recovery-\(UUID().uuidString)"
    var cache: String { folder + "/cache" }

    private func open() throws -> (MediaLibrary, ReplicaLayout) {
        try FileManager.default.createDirectory(atPath: folder + "/media", withIntermediateDirectories: true)
        let library = try MediaLibrary(
            configuration: LibraryConfiguration(mediaFolders: [folder + "/media"], stateDirectory: folder + "/state"),
            logger: Logger(label: "test"))
        let layout = ReplicaLayout(cacheDirectory: cache)
        try layout.prepare()
        return (library, layout)
    }

    /// A replica record of `chunks` MiB of random bytes, and the bytes.
    private func replica(_ library: MediaLibrary, chunks: Int) async throws -> (ContentID, Data) {
        let bytes = Data((0..<(chunks << 20)).map { _ in UInt8.random(in: 0...255) })
        let source = folder + "/source-\(UUID().uuidString)"
        try bytes.write(to: URL(fileURLWithPath: source))
        let manifest = try FileHasher.manifest(ofFileAt: source)
        try await library.catalog.beginReplica(
            manifest: manifest,
            description: CatalogEntry(id: manifest.contentID, generation: 0, size: manifest.fileSize, kind: .video))
        return (manifest.contentID, bytes)
    }

    private func recover(_ library: MediaLibrary, _ layout: ReplicaLayout) async {
        await CacheRecovery(catalog: library.catalog, layout: layout, logger: Logger(label: "test")).run()
    }

    @Test func aFileRenamedIntoPlaceButNotRecordedCompleteIsRecordedComplete() async throws {
        let (library, layout) = try open()
        defer {
            library.shutdown()
            try? FileManager.default.removeItem(atPath: folder)
        }
        let (id, bytes) = try await replica(library, chunks: 2)
        try bytes.write(to: URL(fileURLWithPath: layout.completePath(id)))
        await recover(library, layout)
        #expect(try await library.catalog.replica(id)?.complete == true)
        #expect(try await library.catalog.replica(id)?.have.isComplete == true)
        #expect(FileManager.default.fileExists(atPath: layout.completePath(id)))
    }

    @Test func aCompleteRecordWhoseFileIsGoneIsForgotten() async throws {
        let (library, layout) = try open()
        defer {
            library.shutdown()
            try? FileManager.default.removeItem(atPath: folder)
        }
        let (id, _) = try await replica(library, chunks: 1)
        try await library.catalog.completeReplica(id)
        await recover(library, layout)
        #expect(try await library.catalog.replica(id) == nil)
    }

    @Test func aPartialRecordClaimingChunksWithoutItsPartialFileIsForgotten() async throws {
        let (library, layout) = try open()
        defer {
            library.shutdown()
            try? FileManager.default.removeItem(atPath: folder)
        }
        let (id, _) = try await replica(library, chunks: 2)
        var have = ChunkBitmap(chunkCount: 2)
        have.insert(0)
        try await library.catalog.recordChunks(of: id, have: have)
        await recover(library, layout)
        #expect(try await library.catalog.replica(id) == nil)
    }

    @Test func aConsistentPartialReplicaIsKeptAsItIs() async throws {
        let (library, layout) = try open()
        defer {
            library.shutdown()
            try? FileManager.default.removeItem(atPath: folder)
        }
        let (id, bytes) = try await replica(library, chunks: 2)
        try bytes.write(to: URL(fileURLWithPath: layout.partialPath(id)))
        var have = ChunkBitmap(chunkCount: 2)
        have.insert(1)
        try await library.catalog.recordChunks(of: id, have: have)
        await recover(library, layout)
        #expect(try await library.catalog.replica(id)?.have == have)
        #expect(FileManager.default.fileExists(atPath: layout.partialPath(id)))
    }

    @Test func cacheFilesNoRecordNamesAreDeletedAndOtherFilesAreLeftAlone() async throws {
        let (library, layout) = try open()
        defer {
            library.shutdown()
            try? FileManager.default.removeItem(atPath: folder)
        }
        let orphan = layout.objectsFolder + "/" + String(repeating: "ab", count: 32)
        let orphanPartial = orphan + ".partial"
        let foreign = layout.objectsFolder + "/notes.txt"
        for path in [orphan, orphanPartial, foreign] {
            FileManager.default.createFile(atPath: path, contents: Data("x".utf8))
        }
        await recover(library, layout)
        #expect(!FileManager.default.fileExists(atPath: orphan))
        #expect(!FileManager.default.fileExists(atPath: orphanPartial))
        #expect(FileManager.default.fileExists(atPath: foreign))
    }
}
