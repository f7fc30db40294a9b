import Logging
import MediaIndex
import PeerProtocol
import PeerWire
import ServiceLifecycle
import WireVocabulary

/// Where the pages of a neighbour's catalog come from: its peer API (``PeerClient``).
public protocol CatalogSource: Sendable {
    /// The page of `peer`'s catalog after (`since`, `after`).
    func catalog(_ peer: PeerEndpoint, since: Int64, after: ContentID?) async throws -> CatalogDelta
}

extension PeerClient: CatalogSource {}

/// Keeps a copy of each neighbour's catalog in the index, fetched by delta whenever the neighbour's generation
/// (in its mDNS TXT record or its `/v1/info`) differs from the one last synced.
///
/// One sync runs per neighbour at a time; a change announced during a sync triggers one more afterwards. A
/// neighbour whose index was rebuilt (a new epoch) or whose generation went backwards is synced from scratch.
///
/// The syncs are child tasks of ``run()``, so they belong to the service: a graceful shutdown cancels those
/// running (what a page already applied stays; the neighbour counts as synced only after its last page) and
/// `run()` returns once they have ended.
public actor CatalogSync: Service {
    private let catalog: Catalog
    private let source: any CatalogSource
    private let logger: Logger
    private let changes: AsyncStream<Neighbour>
    private let changed: AsyncStream<Neighbour>.Continuation
    private var running: Set<String> = []
    private var again: [String: Neighbour] = [:]

    public init(catalog: Catalog, client: any CatalogSource = PeerClient(), logger: Logger) {
        self.catalog = catalog
        source = client
        self.logger = logger
        (changes, changed) = AsyncStream.makeStream()
    }

    /// A neighbour appeared or changed: sync its catalog if its generation says there is something new. Changes
    /// reported before ``run()`` starts wait for it.
    public func neighbourChanged(_ neighbour: Neighbour) {
        changed.yield(neighbour)
    }

    /// Syncs neighbours as their changes arrive, until a graceful shutdown.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await neighbour in changes.cancelOnGracefulShutdown() {
                if running.contains(neighbour.peerID) {
                    again[neighbour.peerID] = neighbour
                    continue
                }
                running.insert(neighbour.peerID)
                group.addTask { await self.syncRepeatedly(neighbour) }
            }
            group.cancelAll()
        }
        changed.finish()
    }

    private func syncRepeatedly(_ first: Neighbour) async {
        var neighbour = first
        while !Task.isCancelled {
            await syncOnce(neighbour)
            guard let next = again.removeValue(forKey: neighbour.peerID) else { break }
            neighbour = next
        }
        running.remove(neighbour.peerID)
    }

    private func syncOnce(_ neighbour: Neighbour) async {
        guard let endpoint = neighbour.endpoint else { return }
        do {
            let state = try await catalog.remoteSyncState(peerID: neighbour.peerID)
            if let state, state.epoch != nil, let generation = neighbour.generation,
                generation == state.syncedGeneration
            {
                return
            }
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
                let page = try await source.catalog(endpoint, since: since, after: after)
                if firstPage, let known = state?.epoch, known != page.epoch, !restart {
                    logger.info(
                        "neighbour's index was rebuilt; syncing its whole catalog", metadata: ["peer": "\(endpoint)"])
                    restart = true
                    since = 0
                    continue
                }
                firstPage = false
                try await catalog.applyRemoteDelta(
                    peerID: neighbour.peerID, name: neighbour.name, delta: page, restart: restart)
                restart = false
                entries += page.entries.count
                guard page.more, let last = page.entries.last else { break }
                since = last.generation
                after = last.id
            }
            logger.debug("synced a neighbour's catalog", metadata: ["peer": "\(endpoint)", "entries": "\(entries)"])
        } catch  where Task.isCancelled {
            logger.debug("catalog sync cancelled", metadata: ["peer": "\(endpoint)"])
        } catch {
            logger.info("cannot sync a neighbour's catalog", metadata: ["peer": "\(endpoint)", "error": "\(error)"])
        }
    }
}
