import ContentID
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PeerWire
import Synchronization
import WireVocabulary

@testable import PeerProtocol

/// A file of random bytes on disk, with its manifest, as a box would hold it.
struct ObjectFixture: Sendable {
    static let chunkSize = 64 << 10
    let path: String
    let bytes: [UInt8]
    let manifest: ChunkManifest
    var id: ContentID { manifest.contentID }

    init(size: Int) throws {
        var generator = SystemRandomNumberGenerator()
        // Eight bytes per call: byte-by-byte generation is slow in debug builds.
        var words = (0..<(size + 7) / 8).map { _ in generator.next() as UInt64 }
        bytes = words.withUnsafeMutableBytes { Array($0.prefix(size)) }
        path = NSTemporaryDirectory() + "peerobject-" + UUID().uuidString
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        manifest = try FileHasher.manifest(ofFileAt: path, chunkSize: Self.chunkSize)
    }

    /// The object with every chunk held, or only `held`.
    func servable(held: [Int]? = nil) -> ServableObject {
        var available = ChunkBitmap(chunkCount: manifest.chunkCount, full: held == nil)
        for index in held ?? [] { available.insert(index) }
        return ServableObject(
            id: id, path: path, size: Int64(bytes.count), mimeType: "video/mp4",
            chunkSize: Self.chunkSize, available: available)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A handler serving fixed objects, recording every question it is asked so tests can check that invalid
/// requests never reach it.
final class FakePeerHandler: PeerRequestHandler {
    let objects: [ContentID: ServableObject]
    let manifests: [ContentID: ChunkManifest]
    /// The id `/v1/info` answers.
    let id: String
    private let log = Mutex<[String]>([])

    init(
        objects: [ServableObject] = [], manifests: [ChunkManifest] = [], id: String = String(repeating: "0", count: 32)
    ) {
        self.id = id
        self.objects = Dictionary(uniqueKeysWithValues: objects.map { ($0.id, $0) })
        self.manifests = Dictionary(uniqueKeysWithValues: manifests.map { ($0.contentID, $0) })
    }

    var asked: [String] { log.withLock { $0 } }

    private func note(_ text: String) { log.withLock { $0.append(text) } }

    func info() async throws -> PeerInfo {
        note("info")
        return PeerInfo(id: id, name: "fake", version: "test", generation: 7)
    }

    func peerDeparted(id: String, address: String) async { note("goodbye \(id)") }

    func catalog(since: Int64, after: ContentID?, limit: Int) async throws -> CatalogDelta {
        note("catalog since=\(since) after=\(after?.hex ?? "-") limit=\(limit)")
        return CatalogDelta(epoch: "e", generation: 1, entries: [], more: false)
    }

    func manifest(of id: ContentID) async throws -> ChunkManifest? {
        note("manifest \(id.hex)")
        return manifests[id]
    }

    func servableObject(_ id: ContentID) async throws -> ServableObject? {
        note("object \(id.hex)")
        return objects[id]
    }

    func locate(_ id: ContentID, ttl: Int, queryID: String, askedBy: String?) async throws -> LocateAnswer {
        note("locate \(id.hex) ttl=\(ttl) qid=\(queryID)")
        return LocateAnswer(id: id, queryID: queryID, holders: [])
    }

    /// The objects whose bytes were asked for, in order (kept apart from ``asked``).
    var served: [ContentID] { servedLog.withLock { $0 } }
    private let servedLog = Mutex<[ContentID]>([])

    func objectRequested(_ id: ContentID, by address: String?) async {
        servedLog.withLock { $0.append(id) }
    }
}

/// Runs `body` against the peer router in process (no sockets).
func withPeerRouter<Value: Sendable>(
    _ handler: FakePeerHandler, limits: UploadLimits = .init(), faults: ServingFaults = .none,
    locateLimiter: SourceRateLimiter = SourceRateLimiter(),
    _ body: @Sendable (any TestClientProtocol) async throws -> Value
) async throws -> Value {
    let router = PeerServer.makeRouter(
        handler: handler, limits: limits, faults: faults, logger: Logger(label: "peer-test"),
        locateLimiter: locateLimiter)
    return try await Application(router: router).test(.router) { client in try await body(client) }
}

extension PeerEndpoint {
    /// The test server on loopback at `port` (an ephemeral port the system gave: always in range).
    static func loopback(port: Int, name: String) -> PeerEndpoint {
        guard let endpoint = PeerEndpoint(peerID: "p", name: name, host: "127.0.0.1", port: port) else {
            preconditionFailure("loopback port \(port) out of range")
        }
        return endpoint
    }
}
