import ElapsedTime
import Foundation
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
/// A neighbour is not trusted: each page is checked (``CatalogPageCheck``: in order, past the position asked for,
/// strings and numbers bounded) and each catalog is kept within ``Configuration/limits``. A sync that meets a bad
/// page or a limit stops, keeping what it stored, and the neighbour is not synced again before
/// ``PeerLimits/catalogRetryDelay`` (a failed sync too; ``PeerLimits/catalogUnreachableRetryDelay`` when it could
/// not be reached), whatever it announces; a change announced meanwhile is synced when the delay ends. A sync cut short resumes where it stopped.
///
/// Neighbours that leave are remembered as unseen, and their catalogs are deleted once unseen for
/// ``Configuration/forgetPeersAfter`` (checked at start and then once an hour, so an idle box wakes once an hour
/// for it), or at once when their address answers with another id.
///
/// The syncs are child tasks of ``run()``, so they belong to the service: a graceful shutdown cancels those
/// running (what a page already applied stays; the neighbour counts as synced only after its last page) and
/// `run()` returns once they have ended.
public actor CatalogSync: Service {
    /// The bounds of the neighbours' catalogs (`peer_catalog_max_objects`, `peer_catalog_max_bytes` and
    /// `forget_peers_after` in the configuration).
    public struct Configuration: Sendable, Equatable {
        public var limits: RemoteCatalogLimits
        /// Nil: never.
        public var forgetPeersAfter: Duration?

        public init(
            limits: RemoteCatalogLimits = RemoteCatalogLimits(maxObjects: 100_000, maxBytes: 64 << 20),
            forgetPeersAfter: Duration? = .seconds(14 * 86_400)
        ) {
            self.limits = limits
            self.forgetPeersAfter = forgetPeersAfter
        }
    }

    /// Why a neighbour left.
    public enum Departure: Sendable, Equatable {
        /// It went away (goodbye, unreachable…): its catalog is kept until it has been unseen for long.
        case left
        /// Its address now answers with another id: its catalog goes at once.
        case replaced
    }

    private enum Event {
        case changed(Neighbour)
        case departed(String, Departure)
        /// A sync was deferred until the peer's retry delay ends.
        case deferred(String)
        case retryDue(String)
    }

    /// What a neighbour's lane does next.
    private enum Work {
        case sync(Neighbour)
        case left
        case forget
    }

    /// The work queued for a neighbour, done one at a time by its lane's task.
    private struct Lane {
        var queue: [Work]
        /// Set when the running sync should stop after its current page (the peer's catalog is being forgotten).
        var interrupt = false
    }

    /// Where a sync that did not finish stopped, so the next one goes on from there.
    private struct Resume {
        var epoch: String
        var cursor: CatalogCursor
    }

    private enum SyncResult {
        case complete, failed, unreachable, cut, interrupted
    }

    private let catalog: Catalog
    private let source: any CatalogSource
    private let configuration: Configuration
    private let clock: ElapsedClock
    private let unixTime: @Sendable () -> Int64
    private let logger: Logger
    private let events: AsyncStream<Event>
    private let post: AsyncStream<Event>.Continuation
    private var lanes: [String: Lane] = [:]
    /// The neighbours announced and not departed: never forgotten for being unseen.
    private var present: Set<String> = []
    private var retryAt: [String: ElapsedInstant] = [:]
    private var deferred: [String: Neighbour] = [:]
    private var armed: Set<String> = []
    private var resume: [String: Resume] = [:]
    /// Neighbours already warned about for exceeding a limit, until a sync of theirs completes.
    private var warnedLimit: Set<String> = []

    /// - parameter clock: what the retry delays and the hourly look for unseen peers sleep on.
    /// - parameter unixTime: the wall-clock time in seconds, for when a peer was last seen (kept across restarts).
    public init(
        catalog: Catalog, client: any CatalogSource = PeerClient(), configuration: Configuration = Configuration(),
        clock: any Clock<Duration> = ContinuousClock(),
        unixTime: @escaping @Sendable () -> Int64 = { Int64(time(nil)) }, logger: Logger
    ) {
        self.catalog = catalog
        source = client
        self.configuration = configuration
        self.clock = ElapsedClock(clock)
        self.unixTime = unixTime
        self.logger = logger
        (events, post) = AsyncStream.makeStream()
    }

    /// A neighbour appeared or changed: sync its catalog if its generation says there is something new. Changes
    /// reported before ``run()`` starts wait for it.
    public func neighbourChanged(_ neighbour: Neighbour) {
        post.yield(.changed(neighbour))
    }

    /// A neighbour left the peer table.
    public func neighbourDeparted(peerID: String, _ departure: Departure) {
        post.yield(.departed(peerID, departure))
    }

    /// Forgets the neighbours unseen for too long, then syncs neighbours as their changes arrive, until a graceful
    /// shutdown.
    public func run() async {
        let started = clock.now
        await startForgetting()
        await withDiscardingTaskGroup { group in
            if configuration.forgetPeersAfter != nil {
                group.addTask { await self.forgetHourly(from: started) }
            }
            for await event in events.cancelOnGracefulShutdown() {
                handle(event, in: &group)
            }
            group.cancelAll()
        }
        post.finish()
    }

    private func handle(_ event: Event, in group: inout DiscardingTaskGroup) {
        switch event {
        case .changed(let neighbour):
            let peerID = neighbour.peerID
            present.insert(peerID)
            if isWaiting(peerID) {
                deferred[peerID] = neighbour
                arm(peerID, in: &group)
            } else {
                enqueue(.sync(neighbour), for: peerID, in: &group)
            }
        case .departed(let peerID, let departure):
            present.remove(peerID)
            deferred[peerID] = nil
            if departure == .replaced {
                resume[peerID] = nil
                retryAt[peerID] = nil
            }
            enqueue(departure == .replaced ? .forget : .left, for: peerID, in: &group)
        case .deferred(let peerID):
            arm(peerID, in: &group)
        case .retryDue(let peerID):
            armed.remove(peerID)
            if let neighbour = deferred.removeValue(forKey: peerID) { handle(.changed(neighbour), in: &group) }
        }
    }

    private func isWaiting(_ peerID: String) -> Bool {
        guard let until = retryAt[peerID] else { return false }
        if clock.now < until { return true }
        retryAt[peerID] = nil
        return false
    }

    /// Wakes the deferred sync of a peer when its retry delay ends (one timer per peer).
    private func arm(_ peerID: String, in group: inout DiscardingTaskGroup) {
        guard let until = retryAt[peerID], armed.insert(peerID).inserted else { return }
        group.addTask { [clock] in
            do {
                try await clock.sleep(until: until, tolerance: nil)
            } catch {
                return
            }
            await self.retryDue(peerID)
        }
    }

    private func retryDue(_ peerID: String) {
        post.yield(.retryDue(peerID))
    }

    private func enqueue(_ work: Work, for peerID: String, in group: inout DiscardingTaskGroup) {
        guard var lane = lanes[peerID] else {
            lanes[peerID] = Lane(queue: [work])
            group.addTask { await self.runLane(peerID) }
            return
        }
        // Only the latest change of a peer matters, and a departure makes pending syncs moot.
        switch work {
        case .sync:
            if case .sync = lane.queue.last { lane.queue.removeLast() }
            lane.queue.append(work)
        case .left:
            lane.queue.removeAll { if case .sync = $0 { true } else { false } }
            if lane.queue.isEmpty { lane.queue.append(work) }
        case .forget:
            lane.queue = [.forget]
            lane.interrupt = true
        }
        lanes[peerID] = lane
    }

    private func nextWork(for peerID: String) -> Work? {
        guard var lane = lanes[peerID], !lane.queue.isEmpty else {
            lanes[peerID] = nil
            return nil
        }
        let work = lane.queue.removeFirst()
        lane.interrupt = false
        lanes[peerID] = lane
        return work
    }

    private func runLane(_ peerID: String) async {
        while let work = nextWork(for: peerID) {
            if Task.isCancelled {
                lanes[peerID] = nil
                return
            }
            switch work {
            case .sync(let neighbour):
                if isWaiting(peerID) {
                    deferred[peerID] = neighbour
                    post.yield(.deferred(peerID))
                    continue
                }
                switch await syncOnce(neighbour) {
                case .complete:
                    retryAt[peerID] = nil
                case .failed, .cut:
                    retryAt[peerID] = clock.now + PeerLimits.catalogRetryDelay
                case .unreachable:
                    retryAt[peerID] = clock.now + PeerLimits.catalogUnreachableRetryDelay
                case .interrupted:
                    break
                }
            case .left:
                do {
                    try await catalog.remotePeerLeft(peerID: peerID, at: unixTime())
                } catch {
                    logger.warning(
                        "cannot record that a neighbour left", metadata: ["peer_id": "\(peerID)", "error": "\(error)"])
                }
            case .forget:
                do {
                    try await catalog.forgetRemotePeer(peerID: peerID)
                    logger.info(
                        "forgot a neighbour's catalog: its address answers with another id",
                        metadata: ["peer_id": "\(peerID)"])
                } catch {
                    logger.warning(
                        "cannot forget a neighbour's catalog", metadata: ["peer_id": "\(peerID)", "error": "\(error)"])
                }
            }
        }
    }

    private func isInterrupted(_ peerID: String) -> Bool { lanes[peerID]?.interrupt ?? false }

    private func syncOnce(_ neighbour: Neighbour) async -> SyncResult {
        guard let endpoint = neighbour.endpoint else { return .complete }
        let peerID = neighbour.peerID
        let peer: Logger.Metadata = ["peer_id": "\(peerID)", "peer": "\(endpoint)"]
        let limits = configuration.limits
        do {
            let state = try await catalog.remoteSyncState(peerID: peerID)
            let resumed = resume[peerID]
            if resumed == nil, let state, state.epoch != nil, let generation = neighbour.generation,
                generation == state.syncedGeneration
            {
                try await catalog.remotePeerSeen(peerID: peerID)
                return .complete
            }
            var restart = false
            var cursor = resumed?.cursor ?? CatalogCursor(generation: state?.syncedGeneration ?? 0, after: nil)
            // Behind what was synced: its index went back. (A cut sync's position may be past the generation it
            // announces, as a page's entries are not checked against it.)
            if let generation = neighbour.generation, generation < state?.syncedGeneration ?? 0 {
                restart = true
                cursor = .start
            }
            let knownEpoch = restart ? nil : resumed?.epoch ?? state?.epoch
            let name = CatalogPageCheck.peerName(neighbour.name)
            // Removals and refused entries are not stored, so only this bounds how much one sync may be sent.
            let maxReceived = limits.maxObjects > Int.max / 2 ? Int.max : limits.maxObjects * 2
            var received = 0
            var firstPage = true
            while true {
                if isInterrupted(peerID) { return .interrupted }
                let page = try await source.catalog(endpoint, since: cursor.generation, after: cursor.after)
                if firstPage, let knownEpoch, knownEpoch != page.epoch, !restart {
                    logger.info("neighbour's index was rebuilt; syncing its whole catalog", metadata: peer)
                    restart = true
                    cursor = .start
                    resume[peerID] = nil
                    continue
                }
                firstPage = false
                let checked: CheckedCatalogPage
                do {
                    checked = try CatalogPageCheck.check(page, after: cursor)
                } catch {
                    logger.warning(
                        "stopped syncing a neighbour's catalog: \(error)",
                        metadata: peer.merging(["since": "\(cursor.generation)"]) { $1 })
                    return .cut
                }
                if checked.rejected > 0 {
                    logger.warning(
                        "left out catalog entries with control characters",
                        metadata: peer.merging(["rejected": "\(checked.rejected)"]) { $1 })
                }
                if isInterrupted(peerID) { return .interrupted }
                let outcome = try await catalog.applyRemoteDelta(
                    peerID: peerID, name: name,
                    delta: CatalogDelta(
                        epoch: page.epoch, generation: page.generation, entries: checked.entries, more: page.more),
                    restart: restart, limits: limits)
                restart = false
                received += page.entries.count
                if let limit = outcome.limitReached {
                    if outcome.applied > 0 {
                        let last = checked.entries[outcome.applied - 1]
                        cursor = CatalogCursor(generation: last.generation, after: last.id)
                    }
                    resume[peerID] = Resume(epoch: page.epoch, cursor: cursor)
                    if !warnedLimit.insert(peerID).inserted {
                        logger.debug("a neighbour's catalog is still at its limit", metadata: peer)
                    } else {
                        let (most, bytes) = (limits.maxObjects, limits.maxBytes)
                        let message =
                            switch limit {
                            case .objects:
                                "a neighbour's catalog lists more than \(most) objects; keeping the first \(most)"
                            case .bytes:
                                "a neighbour's catalog takes more than \(bytes) bytes; keeping the objects that fit"
                            }
                        logger.warning(
                            "\(message)",
                            metadata: peer.merging([
                                "bound": limit == .objects
                                    ? "peer_catalog_max_objects=\(limits.maxObjects)"
                                    : "peer_catalog_max_bytes=\(limits.maxBytes)"
                            ]) { $1 })
                    }
                    return .cut
                }
                guard page.more else { break }
                cursor = checked.end
                resume[peerID] = Resume(epoch: page.epoch, cursor: cursor)
                if received >= maxReceived {
                    logger.warning(
                        "stopped syncing a neighbour's catalog: it sent \(received) entries in one sync",
                        metadata: peer.merging(["bound": "\(maxReceived) entries per sync"]) { $1 })
                    return .cut
                }
            }
            resume[peerID] = nil
            warnedLimit.remove(peerID)
            logger.debug("synced a neighbour's catalog", metadata: peer.merging(["entries": "\(received)"]) { $1 })
            return .complete
        } catch  where Task.isCancelled {
            logger.debug("catalog sync cancelled", metadata: peer)
            return .interrupted
        } catch {
            logger.info("cannot sync a neighbour's catalog", metadata: peer.merging(["error": "\(error)"]) { $1 })
            switch error as? PeerClientError {
            case .unreachable?, .busy?: return .unreachable
            default: return .failed
            }
        }
    }

    // MARK: Forgetting unseen neighbours

    /// No neighbour is seen yet at start: those seen when the last run stopped count as unseen from now.
    private func startForgetting() async {
        guard configuration.forgetPeersAfter != nil else { return }
        do {
            try await catalog.remotePeersUnseen(since: unixTime())
        } catch {
            logger.warning("cannot record the neighbours as unseen", metadata: ["error": "\(error)"])
        }
        await forgetUnseenPeers()
    }

    /// Looks for unseen neighbours an hour after `start`, and then an hour after each look.
    private func forgetHourly(from start: ElapsedInstant) async {
        var next = start + .seconds(3600)
        while true {
            do {
                try await clock.sleep(until: next, tolerance: .seconds(60))
            } catch {
                return
            }
            await forgetUnseenPeers()
            // After a suspend, one look, not one per hour missed.
            next = max(next + .seconds(3600), clock.now + .seconds(3600))
        }
    }

    private func forgetUnseenPeers() async {
        guard let after = configuration.forgetPeersAfter else { return }
        // A neighbour here now, or whose lane is busy, is not unseen whatever its row says.
        let seen = present.union(lanes.keys)
        do {
            let forgotten = try await catalog.forgetRemotePeers(
                unseenBefore: unixTime() - after.components.seconds, except: seen)
            for peerID in forgotten {
                resume[peerID] = nil
                retryAt[peerID] = nil
                warnedLimit.remove(peerID)
                logger.info(
                    "forgot the catalog of a neighbour unseen for long",
                    metadata: ["peer_id": "\(peerID)", "bound": "forget_peers_after=\(after)"])
            }
            logger.trace("looked for neighbours unseen for long", metadata: ["forgotten": "\(forgotten.count)"])
        } catch {
            logger.warning("cannot forget the neighbours unseen for long", metadata: ["error": "\(error)"])
        }
    }
}
