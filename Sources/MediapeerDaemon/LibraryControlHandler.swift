import ContentID
import ControlAPI
import ControlWire
import Discovery
import Foundation
import MediaIndex
import MediaProbe
import PeerAddresses
import PeerProtocol
import PeerWire
import Replication
import WireVocabulary

/// Answers the control API and the peers' requests by handing each to the component that knows: the media library,
/// the peer network, the serving side of the cache, the resolver, the fetcher. Only the control API's wording of a
/// refusal is decided here.
struct LibraryControlHandler: ControlHandler, PeerRequestHandler {
    let library: MediaLibrary
    let name: String
    let peerID: String
    let httpPort: Int
    /// The player endpoint's port, for the URLs of ``url(for:host:)``.
    let playerPort: Int
    let configPath: String
    let stateDirectory: String
    let startedAt: ContinuousClock.Instant
    let network: PeerNetwork
    let locator: Locator
    let fetcher: Fetcher
    let objects: any ObjectServing
    let resolver: any ReferenceResolving
    let demand: DemandLedger
    /// `demand_half_life`, shown with the figures.
    let demandHalfLife: Duration
    /// What each replica is worth and why it stays, for `mediapeerctl cache`.
    let replicator: AutoReplicator
    /// LAN mode or the household: who is answered, pairing, the roster.
    let households: Households

    private var catalog: Catalog { library.catalog }

    func status() async throws -> DaemonStatus {
        let statistics = try await library.statistics()
        let hashed = library.hashingStatistics
        let seconds = Double(hashed.nanoseconds) / 1e9
        let peers = await network.table.snapshot()
        var status = DaemonStatus(
            name: name, peerID: peerID, httpPort: httpPort, version: MediapeerVersion.string, pid: getpid(),
            uptimeSeconds: Int((ContinuousClock.now - startedAt).components.seconds),
            configPath: configPath, mediaFolders: library.mediaFolders, stateDirectory: stateDirectory,
            library: statistics, scan: library.scanProgress,
            hashing: HashingStatus(
                pendingFiles: statistics.awaitingHash, filesHashed: hashed.filesHashed, bytesHashed: hashed.bytesHashed,
                bytesPerSecond: seconds > 0 ? Int64(Double(hashed.bytesHashed) / seconds) : nil),
            residentBytes: Self.residentBytes(), mdns: network.state,
            peerCount: peers.filter { $0.id != nil }.count)
        status.household = households.report(peers: peers)
        return status
    }

    func info() async throws -> PeerWire.PeerInfo {
        PeerWire.PeerInfo(
            id: peerID, name: name, version: MediapeerVersion.string, generation: network.generation,
            demandGeneration: demand.demandGeneration, household: households.membership.roster?.householdID,
            rosterVersion: households.membership.roster?.tag)
    }

    func peerDeparted(id: String, address: String) async {
        await network.peerDeparted(id: id, address: address)
    }

    func list(kind: MediaKind?, limit: Int, offset: Int) async throws -> LibraryPage {
        LibraryPage(
            items: try await library.list(kind: kind, limit: limit, offset: offset),
            total: try await library.count(kind: kind),
            offset: offset)
    }

    func search(_ text: String, kind: MediaKind?, limit: Int) async throws -> LibraryPage {
        let items = try await library.search(text, kind: kind, limit: limit)
        return LibraryPage(items: items, total: items.count, offset: 0)
    }

    func item(_ reference: String) async throws -> MediaItem? {
        try await library.item(reference)
    }

    func peers() async throws -> PeerList {
        PeerList(peers: await network.table.snapshot(), mdns: network.state)
    }

    func requestScan() async throws -> ScanTicket {
        ScanTicket(scanNumber: library.requestScan())
    }

    // MARK: Peer API

    func catalog(since: Int64, after: ContentID?, limit: Int) async throws -> CatalogDelta {
        try await catalog.delta(since: since, after: after, limit: limit)
    }

    func manifest(of id: ContentID) async throws -> ChunkManifest? {
        try await objects.manifest(of: id)
    }

    func servableObject(_ id: ContentID) async throws -> ServableObject? {
        try await objects.servableObject(id)
    }

    func locate(_ id: ContentID, ttl: Int, queryID: String, askedBy: String?) async throws -> LocateAnswer {
        await locator.answer(id, ttl: ttl, queryID: queryID, askedBy: askedBy)
    }

    func demand() async throws -> DemandDigest {
        try await demand.digest()
    }

    func objectRequested(_ id: ContentID, by address: String?) async {
        await demand.recordServed(id, to: address ?? "?")
    }

    // MARK: Demand

    func popular(limit: Int?) async throws -> PopularList {
        let figures = try await demand.homeDemand()
        let ranked = figures.sorted { left, right in
            left.value.home != right.value.home
                ? left.value.home > right.value.home
                : left.value.local != right.value.local ? left.value.local > right.value.local : left.key < right.key
        }
        let shown = limit.map { Array(ranked.prefix($0)) } ?? ranked
        let facts = try await catalog.demandTitleFacts(shown.map(\.key))
        let names = Dictionary(
            await network.neighbours().map { ($0.peerID, $0.name) }, uniquingKeysWith: { first, _ in first })
        return PopularList(
            titles: shown.map { id, figure in
                let known = facts[id]
                return PopularTitle(
                    id: id, title: known?.title ?? id.hex, kind: known?.kind, plays: figure.plays,
                    fetches: figure.fetches, served: figure.served, homeDemand: figure.home,
                    heldHere: known?.heldHere ?? false, holders: (known?.holders ?? []).map { names[$0] ?? $0 })
            }, total: figures.count, halfLifeSeconds: demandHalfLife.components.seconds)
    }

    // MARK: The whole home

    func listHome(kind: MediaKind?, limit: Int, offset: Int) async throws -> HomePage {
        let neighbours = await network.neighbours()
        let page = try await catalog.listHome(
            kind: kind, limit: limit, offset: offset, online: neighbours.map(\.peerID))
        return HomePage(items: Self.naming(page.items, neighbours), total: page.total, offset: offset)
    }

    func searchHome(_ text: String, kind: MediaKind?, limit: Int) async throws -> HomePage {
        let neighbours = await network.neighbours()
        let items = try await catalog.searchHome(text, kind: kind, limit: limit, online: neighbours.map(\.peerID))
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
        let object: ResolvedReference
        do {
            object = try await resolver.resolve(reference)
        } catch {
            throw Self.refusal(error)
        }
        do {
            let progress = try await fetcher.fetch(object.id, title: object.title)
            await demand.record(.fetch, of: object.id)
            return progress
        } catch .index(let error) {
            throw error
        } catch {
            throw ControlRefusal.conflict("\(error)")
        }
    }

    func url(for reference: String, host: String?) async throws -> TitleURL {
        let object: ResolvedReference
        do {
            object = try await resolver.resolve(reference)
        } catch {
            throw Self.refusal(error)
        }
        let name = try await catalog.fileName(of: object.id)
        return TitleURL(
            id: object.id, title: object.title,
            url: PlayerURL.media(
                host: host ?? LANAddress.current(), port: playerPort, id: object.id,
                fileExtension: name.flatMap { PlayerURL.fileExtension(path: $0.path, mimeType: $0.mimeType) }))
    }

    /// How the control API words a reference that names no single object.
    static func refusal(_ error: ResolutionError) -> any Error {
        switch error {
        case .noMatch(let reference):
            ControlRefusal.notFound(
                "nothing in the home matches \"\(reference)\" (try mediapeerctl library search --all)")
        case .ambiguousPrefix(let prefix, _):
            ControlRefusal.badRequest("the prefix \(prefix) matches several objects: give more digits")
        case .ambiguousTitle(let reference, let candidates):
            ControlRefusal.badRequest(
                "\"\(reference)\" matches \(candidates.count) objects: "
                    + candidates.prefix(5).map { "\($0.title) (\($0.id.hex.prefix(12)))" }.joined(separator: ", ")
                    + "; give a content id or prefix")
        case .index(let error):
            error
        }
    }

    /// A busy index or a stopping daemon is worth asking again, not a fault of this box.
    func refusal(for error: any Error) -> ControlRefusal? {
        switch error {
        case IndexError.busy(let message): .unavailable("the index database is busy (\(message)); try again")
        case IndexError.cancelled: .unavailable("mediapeerd is stopping")
        default: nil
        }
    }

    func fetchProgress(_ id: ContentID) async throws -> FetchProgress? {
        await fetcher.progress(id)
    }

    func fetches() async throws -> FetchList {
        FetchList(fetches: await fetcher.all())
    }

    func cancelFetch(_ reference: String) async throws -> FetchCancellation {
        do {
            return try await fetcher.cancel(reference)
        } catch {
            switch error {
            case .noMatch(let reference):
                throw ControlRefusal.notFound(
                    "no unfinished fetch matches \"\(reference)\" (see mediapeerctl fetches)")
            case .ambiguous(let reference, let candidates):
                throw ControlRefusal.badRequest(
                    "\"\(reference)\" matches \(candidates.count) fetches: "
                        + candidates.prefix(5).map { "\($0.title) (\($0.id.hex.prefix(12)))" }.joined(separator: ", ")
                        + "; give a content id or prefix")
            case .alreadyComplete:
                throw ControlRefusal.conflict("\(error); mediapeerctl fetches shows it")
            case .index(let error):
                throw error
            }
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
