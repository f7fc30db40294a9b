import Logging
import MediaIndex
import PeerProtocol
import WireVocabulary

/// Keeps a copy of each neighbour's catalog in the index, fetched by delta whenever the neighbour's generation
/// (in its mDNS TXT record or its `/v1/info`) differs from the one last synced.
///
/// One sync runs per neighbour at a time; a change announced during a sync triggers one more afterwards. A
/// neighbour whose index was rebuilt (a new epoch) or whose generation went backwards is synced from scratch.
public actor CatalogSync {
    private let catalog: Catalog
    private let client: PeerClient
    private let logger: Logger
    private var running: Set<String> = []
    private var again: [String: Neighbour] = [:]

    public init(catalog: Catalog, client: PeerClient = PeerClient(), logger: Logger) {
        self.catalog = catalog
        self.client = client
        self.logger = logger
    }

    /// A neighbour appeared or changed: sync its catalog if its generation says there is something new.
    public func neighbourChanged(_ neighbour: Neighbour) {
        if running.contains(neighbour.peerID) {
            again[neighbour.peerID] = neighbour
            return
        }
        running.insert(neighbour.peerID)
        Task { await self.syncRepeatedly(neighbour) }
    }

    private func syncRepeatedly(_ first: Neighbour) async {
        var neighbour = first
        while true {
            await syncOnce(neighbour)
            guard let next = again.removeValue(forKey: neighbour.peerID) else { break }
            neighbour = next
        }
        running.remove(neighbour.peerID)
    }

    private func syncOnce(_ neighbour: Neighbour) async {
        guard let endpoint = neighbour.endpoint else { return }
        do {
            let state = try catalog.remoteSyncState(peerID: neighbour.peerID)
            if let state, state.epoch != nil, let generation = neighbour.generation, generation == state.syncedGeneration { return }
            var restart = false
            var since = state?.syncedGeneration ?? 0
            if let generation = neighbour.generation, generation < since {
                restart = true
                since = 0
            }
            var after: ContentID?
            var entries = 0
            var firstPage = true
            while true {
                let page = try await client.catalog(endpoint, since: since, after: after)
                if firstPage, let known = state?.epoch, known != page.epoch, !restart {
                    logger.info("neighbour's index was rebuilt; syncing its whole catalog", metadata: ["peer": "\(endpoint)"])
                    restart = true
                    since = 0
                    continue
                }
                firstPage = false
                try catalog.applyRemoteDelta(peerID: neighbour.peerID, name: neighbour.name, delta: page, restart: restart)
                restart = false
                entries += page.entries.count
                guard page.more, let last = page.entries.last else { break }
                since = last.generation
                after = last.id
            }
            logger.debug("synced a neighbour's catalog", metadata: ["peer": "\(endpoint)", "entries": "\(entries)"])
        } catch {
            logger.info("cannot sync a neighbour's catalog", metadata: ["peer": "\(endpoint)", "error": "\(error)"])
        }
    }
}
