import ContentID
import ControlAPI
import ControlWire
import Discovery
import Foundation
import MediaIndex
import MediaProbe
import PeerProtocol
import PeerWire
import Replication
import WireVocabulary

/// Answers the control API and the peers' requests from the media library and the daemon's own facts.
struct LibraryControlHandler: ControlHandler, PeerRequestHandler {
    let library: MediaLibrary
    let name: String
    let peerID: String
    let httpPort: Int
    let configPath: String
    let stateDirectory: String
    let startedAt: ContinuousClock.Instant
    let network: PeerNetwork
    let locator: Locator
    let fetcher: Fetcher

    private var catalog: Catalog { library.catalog }
    let servableCache = ServableObjectCache()

    func status() async throws -> DaemonStatus {
        let statistics = try library.statistics()
        let hashed = library.hashingStatistics
        let seconds = Double(hashed.nanoseconds) / 1e9
        return DaemonStatus(
            name: name, peerID: peerID, httpPort: httpPort, version: MediapeerVersion.string, pid: getpid(),
            uptimeSeconds: Int((ContinuousClock.now - startedAt).components.seconds),
            configPath: configPath, mediaFolders: library.mediaFolders, stateDirectory: stateDirectory,
            library: statistics, scan: library.scanProgress,
            hashing: HashingStatus(
                pendingFiles: statistics.awaitingHash, filesHashed: hashed.filesHashed, bytesHashed: hashed.bytesHashed,
                bytesPerSecond: seconds > 0 ? Int64(Double(hashed.bytesHashed) / seconds) : nil),
            residentBytes: Self.residentBytes(), mdns: network.state,
            peerCount: await network.table.snapshot().filter { $0.id != nil }.count)
    }

    func info() async throws -> PeerWire.PeerInfo {
        PeerWire.PeerInfo(id: peerID, name: name, version: MediapeerVersion.string, generation: try library.generation())
    }

    func peerDeparted(id: String, address: String) async {
        await network.peerDeparted(id: id, address: address)
    }

    func list(kind: MediaKind?, limit: Int, offset: Int) async throws -> LibraryPage {
        LibraryPage(items: try library.list(kind: kind, limit: limit, offset: offset), total: try library.count(kind: kind), offset: offset)
    }

    func search(_ text: String, kind: MediaKind?, limit: Int) async throws -> LibraryPage {
        let items = try library.search(text, kind: kind, limit: limit)
        return LibraryPage(items: items, total: items.count, offset: 0)
    }

    func item(_ reference: String) async throws -> MediaItem? {
        try library.item(reference)
    }

    func peers() async throws -> PeerList {
        PeerList(peers: await network.table.snapshot(), mdns: network.state)
    }

    func requestScan() async throws -> ScanTicket {
        ScanTicket(scanNumber: library.requestScan())
    }

    // MARK: Peer API

    func catalog(since: Int64, after: ContentID?, limit: Int) async throws -> CatalogDelta {
        try catalog.delta(since: since, after: after, limit: limit)
    }

    func manifest(of id: ContentID) async throws -> ChunkManifest? {
        try catalog.manifest(of: id)
    }

    func servableObject(_ id: ContentID) async throws -> ServableObject? {
        if let cached = servableCache.lookup(id) { return cached }
        let object = try lookUpServableObject(id)
        // Only complete objects: a partial replica's chunks change by the second.
        if let object, object.available.isComplete { servableCache.store(object) }
        return object
    }

    private func lookUpServableObject(_ id: ContentID) throws -> ServableObject? {
        guard let object = try catalog.localObject(id), let manifest = try catalog.manifest(of: id) else { return nil }
        switch object {
        case .mediaFile(let path, let size, let mimeType):
            return ServableObject(id: id, path: path, size: size, mimeType: mimeType, chunkSize: manifest.chunkSize,
                                  available: ChunkBitmap(chunkCount: manifest.chunkCount, full: true))
        case .replica(let replica):
            let layout = fetcher.replicaLayout
            return ServableObject(id: id, path: replica.complete ? layout.completePath(id) : layout.partialPath(id), size: replica.size,
                                  mimeType: replica.mimeType, chunkSize: manifest.chunkSize, available: replica.have)
        }
    }

    func locate(_ id: ContentID, ttl: Int, queryID: String, askedBy: String?) async throws -> LocateAnswer {
        await locator.answer(id, ttl: ttl, queryID: queryID, askedBy: askedBy)
    }

    // MARK: The whole home

    func listHome(kind: MediaKind?, limit: Int, offset: Int) async throws -> HomePage {
        let neighbours = await network.neighbours()
        let page = try catalog.listHome(kind: kind, limit: limit, offset: offset, online: neighbours.map(\.peerID))
        return HomePage(items: Self.naming(page.items, neighbours), total: page.total, offset: offset)
    }

    func searchHome(_ text: String, kind: MediaKind?, limit: Int) async throws -> HomePage {
        let neighbours = await network.neighbours()
        let items = try catalog.searchHome(text, kind: kind, limit: limit, online: neighbours.map(\.peerID))
        return HomePage(items: Self.naming(items, neighbours), total: items.count, offset: 0)
    }

    private static func naming(_ items: [HomeItem], _ neighbours: [Neighbour]) -> [HomeItem] {
        let names = Dictionary(neighbours.map { ($0.peerID, $0.name) }, uniquingKeysWith: { first, _ in first })
        return items.map { item in
            var item = item
            item.holderNames = item.holders.map { names[$0] ?? $0 }
            return item
        }
    }

    func fetch(_ reference: String) async throws -> FetchProgress {
        let (id, title) = try await resolve(reference)
        do {
            return try await fetcher.fetch(id, title: title)
        } catch {
            throw ControlRefusal.conflict("\(error)")
        }
    }

    func fetchProgress(_ id: ContentID) async throws -> FetchProgress? {
        await fetcher.progress(id)
    }

    func fetches() async throws -> FetchList {
        FetchList(fetches: await fetcher.all())
    }

    /// A content id, a unique prefix of one (8+ hex digits), or words of a title found in the home.
    private func resolve(_ reference: String) async throws -> (ContentID, String) {
        let title = { (id: ContentID) in (try? self.catalog.remoteDescription(of: id))??.displayTitle ?? id.hex }
        if let id = ContentID(hex: reference) { return (id, title(id)) }
        let ids = try catalog.contentIDs(withPrefix: reference)
        if ids.count == 1 { return (ids[0], title(ids[0])) }
        if ids.count > 1 { throw ControlRefusal.badRequest("the prefix \(reference) matches several objects: give more digits") }
        let found = try await searchHome(reference, kind: nil, limit: 20).items.filter { $0.id != nil }
        let exact = found.filter { $0.displayTitle.lowercased() == reference.lowercased() }
        let candidates = exact.count == 1 ? exact : found
        switch candidates.count {
        case 0:
            throw ControlRefusal.notFound("nothing in the home matches \"\(reference)\" (try mediapeerctl library search --all)")
        case 1:
            return (candidates[0].id!, candidates[0].displayTitle)
        default:
            let names = candidates.prefix(5).map { "\($0.displayTitle) (\($0.id!.hex.prefix(12)))" }.joined(separator: ", ")
            throw ControlRefusal.badRequest("\"\(reference)\" matches \(candidates.count) objects: \(names); give a content id or prefix")
        }
    }

    /// VmRSS from /proc/self/status, in bytes.
    static func residentBytes() -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.split(separator: " ").dropFirst().first.flatMap { Int64($0) }
            return digits.map { $0 * 1024 }
        }
        return nil
    }
}
