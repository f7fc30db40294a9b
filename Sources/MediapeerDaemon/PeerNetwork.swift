import ControlWire
import Discovery
import Foundation
import Household
import Logging
import MediaIndex
import MediapeerConfig
import PeerProtocol
import PeerWire
import Replication
import ServiceLifecycle
import Synchronization

/// Announces this box on the home network, follows the other boxes, and keeps the table of peers honest with
/// `/v1/info` health checks.
final class PeerNetwork: Service, Neighbourhood, Sendable {
    let discovery: MDNSDiscovery
    let table: PeerTable
    let catalogSync: CatalogSync
    let demand: DemandLedger
    let demandSync: DemandSync
    private let library: MediaLibrary
    private let logger: Logger
    private let peerID: String
    private let client: PeerClient
    private let publishedGeneration: Mutex<Int64>
    private let households: Households
    /// The TXT keys this box sets itself (`gen`, `h`), as last announced.
    private let txt: Mutex<[String: String]>
    /// Instances of another household already logged as ignored, so each is logged once.
    private let ignoredInstances = Mutex<Set<String>>([])
    /// The announcements not followed (see ``followedEvents()``), held back until a roster change admits them.
    private let gate = Mutex(AnnouncementGate())

    /// - Parameter client: every request to a peer goes through it (mutual TLS with the box's key).
    init(
        name: String, peerID: String, port: Int, staticPeers: [PeerAddress], healthInterval: Duration,
        catalogs: CatalogSync.Configuration, demand: DemandLedger, library: MediaLibrary, client: PeerClient,
        households: Households, logger: Logger
    ) throws(DiscoveryError) {
        let demandSync = DemandSync(ledger: demand, catalog: library.catalog, source: client, logger: logger)
        let generation = (try? library.generation()) ?? 0
        publishedGeneration = Mutex(generation)
        var txt = [MediapeerTXT.generation: String(generation)]
        txt[MediapeerTXT.household] = households.membership.roster?.householdID
        self.txt = Mutex(txt)
        self.households = households
        discovery = try MDNSDiscovery(
            configuration: DiscoveryConfiguration(friendlyName: name, peerID: peerID, port: UInt16(port), txt: txt),
            logger: logger)
        table = try PeerTable(
            configuration: .init(
                ownID: peerID, staticPeers: staticPeers.map { StaticPeer(host: $0.host, port: UInt16($0.port)) },
                healthInterval: healthInterval, healthTimeout: .seconds(3),
                // Two misses in a row, so one lost packet on Wi-Fi does not drop a live box.
                failuresBeforeDrop: 2,
                healthCheck: { peer in
                    await Self.checkHealth(peer, client: client, demand: demandSync, households: households)
                }),
            logger: logger)
        self.library = library
        self.logger = logger
        self.peerID = peerID
        self.client = client
        catalogSync = CatalogSync(catalog: library.catalog, client: client, configuration: catalogs, logger: logger)
        self.demand = demand
        self.demandSync = demandSync
    }

    func run() async throws {
        try discovery.start()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.table.consume(self.followedEvents()) }
            group.addTask { await self.followChanges() }
            group.addTask { await self.publishGenerations() }
            group.addTask { await self.publishHouseholds() }
            try? await gracefulShutdown()
            // Goodbyes first, so the neighbours drop this box at once rather than after a health check: directly
            // to each known peer (a round trip), then on mDNS (which receivers act on a second later).
            await sayGoodbye()
            discovery.stop()
            await table.shutdown()
            group.cancelAll()
        }
    }

    var state: DiscoveryState { discovery.state }

    /// Syncs a neighbour's catalog when it arrives and whenever its generation changes, and tells the sync when it
    /// leaves (the table logs arrivals and departures itself).
    private func followChanges() async {
        for await change in table.changes {
            switch change {
            case .added(let peer), .updated(let peer):
                if let id = peer.id, peer.reachable { await demand.neighbourArrived(id, name: peer.name) }
                if let neighbour = Self.neighbour(peer) { await catalogSync.neighbourChanged(neighbour) }
            case .removed(let peer, let reason):
                guard let id = peer.id else { continue }
                await catalogSync.neighbourDeparted(peerID: id, reason == .replaced ? .replaced : .left)
                await demand.neighbourLeft(id, name: peer.name)
                await demandSync.neighbourLeft(id)
            }
        }
    }

    /// The identified peers whose latest health check succeeded.
    func neighbours() async -> [Neighbour] {
        await table.snapshot().compactMap(Self.neighbour)
    }

    private static func neighbour(_ peer: PeerSnapshot) -> Neighbour? {
        guard let id = peer.id, peer.reachable else { return nil }
        // The table lists the addresses best first.
        return Neighbour(
            peerID: id, name: peer.name, addresses: peer.addresses, port: Int(peer.port),
            generation: peer.generation.map { Int64(clamping: $0) })
    }

    /// Tells every reachable peer that this box is leaving, all at once, giving up on any after half a second.
    private func sayGoodbye() async {
        let peers = await table.snapshot().filter { $0.id != nil && $0.reachable }
        await withTaskGroup(of: Void.self) { [peerID, client] group in
            for peer in peers {
                guard let endpoint = Self.endpoint(of: peer) else { continue }
                group.addTask { try? await client.goodbye(endpoint, from: peerID, timeout: .milliseconds(500)) }
            }
        }
    }

    /// A peer said goodbye over HTTP.
    func peerDeparted(id: String, address: String) async {
        if await table.departed(id: id, from: address) {
            logger.info("peer said goodbye", metadata: ["peer_id": "\(id)", "address": "\(address)"])
        }
    }

    /// The catalog generation last published, for `/v1/info`: peers' health checks read it from memory, so that
    /// however long the index's readers are busy (a listing of the whole home, say), a health check is answered at
    /// once and this box is not taken for gone.
    var generation: Int64 { publishedGeneration.withLock { $0 } }

    /// Puts the catalog generation in the TXT record whenever the index changes (the discovery layer rate-limits
    /// the updates, latest value winning).
    private func publishGenerations() async {
        for await generation in library.generationUpdates() {
            publishedGeneration.withLock { $0 = generation }
            announce(MediapeerTXT.generation, String(generation))
        }
    }

    /// Puts the household in the TXT record (`h`) whenever the box joins one or returns to LAN mode.
    private func publishHouseholds() async {
        for await household in households.membership.householdChanges {
            announce(MediapeerTXT.household, household)
        }
    }

    private func announce(_ key: String, _ value: String?) {
        let record = txt.withLock { txt in
            txt[key] = value
            return txt
        }
        do {
            try discovery.updateTXT(record)
        } catch {
            logger.warning("cannot update the mDNS TXT record", metadata: ["error": "\(error)"])
        }
    }

    /// The discovery events the peer table sees: in a household, only the announcements of its members (see
    /// ``HouseholdAccess/follows(announcedHousehold:peerID:roster:)``), so no connection is ever made to another box
    /// (each ignored instance logged once). The others are held back and handed on when a roster change admits
    /// them: a box that joined through another member is followed as soon as this box pulls the roster listing it.
    /// A box no longer followed (removed, gone to LAN mode, or this box joined a household) leaves the table at
    /// once, as if it had said goodbye.
    private func followedEvents() -> AsyncStream<DiscoveryEvent> {
        let (events, continuation) = AsyncStream.makeStream(of: DiscoveryEvent.self, bufferingPolicy: .unbounded)
        let task = Task { [self] in
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await _ in self.households.membership.rosterChanges {
                        // Under the gate's lock, so that no announcement is both held back and missed by this
                        // rule change.
                        self.gate.withLock { gate in
                            for event in gate.ruleChanged(admits: self.follows) { continuation.yield(event) }
                        }
                    }
                }
                for await event in discovery.events {
                    let passed = gate.withLock { gate in
                        let passed = gate.pass(event, admits: follows)
                        if let passed { continuation.yield(passed) }
                        return passed
                    }
                    if passed != event, case .resolved(let service) = event { logIgnored(service) }
                }
                group.cancelAll()
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return events
    }

    /// Whether `service` is followed, by this box's roster now.
    private func follows(_ service: ResolvedService) -> Bool {
        HouseholdAccess.follows(
            announcedHousehold: service.txt[MediapeerTXT.household], peerID: service.peerID,
            roster: households.membership.roster)
    }

    private func logIgnored(_ service: ResolvedService) {
        let firstTime = ignoredInstances.withLock { ignored in
            // Bounded: past 256 names, each is logged once more.
            if ignored.count >= 256 { ignored.removeAll() }
            return ignored.insert(service.instance.name).inserted
        }
        guard firstTime else { return }
        logger.info(
            "ignoring a box that is not in this box's household (as far as its roster knows)",
            metadata: [
                "instance": "\(service.instance.name)", "peer_id": "\(service.peerID ?? "-")",
                "announced_household": "\(service.txt[MediapeerTXT.household] ?? "none (LAN mode)")",
            ])
    }

    /// The peer at `addresses` (by default all of its own, best first); nil without an address.
    private static func endpoint(of peer: PeerSnapshot, at addresses: [String]? = nil) -> PeerEndpoint? {
        PeerEndpoint(
            peerID: peer.id ?? "", name: peer.name, addresses: addresses ?? peer.addresses, port: Int(peer.port))
    }

    /// Asks a peer who it is at each of its addresses in turn, best first, and hands its demand generation to the
    /// demand sync (which pulls its digest when it moved).
    ///
    /// Each check is a TLS connection that must prove the key of the peer's id (an announced peer's TXT id), so an
    /// address where another device answers for the id fails its check. Only a peer known from static entries
    /// alone is learnt from whoever proves a key at its address: its id is that key's (a box behind a static
    /// address may be replaced, see ``PeerRemovalReason/replaced``).
    ///
    /// A member's check also hands its roster version to `households`, which pulls its roster when it differs, or
    /// when the member refuses the check (this box may have been removed while it was offline).
    static func checkHealth(
        _ peer: PeerSnapshot, client: PeerClient, demand: DemandSync, households: Households
    ) async -> HealthResult {
        var lastProblem = "no address"
        let learning = peer.id == nil || (peer.instances.isEmpty && !peer.staticEntries.isEmpty)
        for address in peer.addresses {
            guard let endpoint = endpoint(of: peer, at: [address]) else { continue }
            do {
                let info = try await client.info(endpoint, learning: learning, timeout: .seconds(3))
                if info.id == peer.id, let named = Self.endpoint(of: peer, at: [address]) {
                    demand.announced(named, demandGeneration: info.demandGeneration)
                    households.checked(named, info: info)
                }
                return .healthy(
                    id: info.id, name: info.name, generation: UInt64(clamping: info.generation),
                    protocolVersion: String(info.protocolVersion))
            } catch {
                if case PeerClientError.refused(_, 403, _) = error, peer.id != nil,
                    let named = Self.endpoint(of: peer, at: [address])
                {
                    households.refused(by: named)
                }
                lastProblem = "\(address): \(error)"
            }
        }
        return .unhealthy(lastProblem)
    }
}
