import Clocks
import ContentID
import Foundation
import GRDB
import Logging
import PeerProtocol
import PeerWire
import WireVocabulary

@testable import MediaIndex

/// A real index in a temporary folder, with a media folder and a cache folder beside it. Scans and hashing are
/// driven step by step with the calls the library's own threads make, so a test knows what is indexed when.
final class IndexFixture {
    let folder = NSTemporaryDirectory() + "mediapeer-replication-\(UUID().uuidString)"
    let library: MediaLibrary
    var media: String { folder + "/media" }
    var cache: String { folder + "/cache" }
    var catalog: Catalog { library.catalog }

    init() throws {
        try FileManager.default.createDirectory(atPath: folder + "/media", withIntermediateDirectories: true)
        library = try MediaLibrary(
            configuration: LibraryConfiguration(mediaFolders: [folder + "/media"], stateDirectory: folder + "/state"),
            logger: Logger(label: "test"))
    }

    deinit {
        library.shutdown()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// A JPEG-looking file (the sniffer checks the magic bytes only) whose content is decided by `seed`, recorded
    /// and hashed. Returns its path and manifest.
    @discardableResult
    func addIndexedPhoto(_ name: String, seed: UInt8, size: Int = 5000) throws -> (
        path: String, manifest: ChunkManifest
    ) {
        let path = media + "/" + name
        let bytes =
            [0xFF, 0xD8, 0xFF, 0xE0] + (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed) &* 13) } + [seed]
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let pool = catalog.pool
        let rootID = try pool.write { db in try IndexWriter.rootID(db, path: media) }
        _ = try Scanner(pool: pool, logger: Logger(label: "test"), progress: ProgressBox()).walk(
            root: media, rootID: rootID
        ) { _, _ in }
        let rows = try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, size, mtime_ns, inode FROM media WHERE rel_path = ?", arguments: [name])
        }
        let manifest = try FileHasher.manifest(ofFileAt: path)
        try pool.write { db in
            try IndexWriter.storeContentIDs(
                db,
                rows.map { row in
                    IndexWriter.HashResult(
                        id: row["id"],
                        facts: FileFacts(size: row["size"], mtimeNanoseconds: row["mtime_ns"], inode: row["inode"]),
                        manifest: manifest)
                })
        }
        return (path, manifest)
    }

    /// A replica of made-up content: `chunks` chunks of 1 KiB, none held yet.
    func beginReplica(seed: UInt8, chunks: Int = 4, title: String = "Film") async throws -> ChunkManifest {
        let manifest = try ChunkManifest(
            fileSize: Int64(chunks * 1024 - 10), chunkSize: 1024,
            packedChunkHashes: (0..<(chunks * 32)).map { UInt8(truncatingIfNeeded: $0 &+ Int(seed) &* 31) })
        try await catalog.beginReplica(
            manifest: manifest,
            description: CatalogEntry(
                id: manifest.contentID, generation: 0, size: manifest.fileSize, kind: .video, mimeType: "video/mp4",
                path: "films/\(title).mp4", title: title))
        return manifest
    }
}

/// A test clock that says when something starts sleeping on it.
struct ObservedClock: Clock {
    let base: TestClock<Duration>
    let sleeps: AsyncStream<Void>.Continuation

    var now: TestClock<Duration>.Instant { base.now }
    var minimumResolution: Duration { base.minimumResolution }

    func sleep(until deadline: TestClock<Duration>.Instant, tolerance: Duration?) async throws {
        sleeps.yield()
        try await base.sleep(until: deadline, tolerance: tolerance)
    }
}

/// The manifest a fake holder answers with, checked against `id` as a real answer is.
func manifestAnswer(_ manifest: ChunkManifest, for id: ContentID, from peer: PeerEndpoint) throws(PeerClientError)
    -> ChunkVerifier
{
    do {
        return try ChunkVerifier(manifest: manifest, expected: id)
    } catch {
        throw .invalidAnswer(peer: peer.description, reason: "\(error)")
    }
}

/// Every chunk: what a fake complete holder says it has.
func fullAvailability(chunkCount: Int) -> ChunkBitmap {
    ChunkBitmap(chunkCount: chunkCount, full: true)
}

/// Waits until the task is cancelled: a holder that stopped answering.
func stallUntilCancelled() async {
    let (never, stop) = AsyncStream<Void>.makeStream()
    await withTaskCancellationHandler {
        for await _ in never {}
    } onCancel: {
        stop.finish()
    }
}
