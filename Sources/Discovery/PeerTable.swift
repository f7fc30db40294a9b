import ControlWire
import ElapsedTime
import Logging
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The peers of this box: the DNS-SD instances Avahi reports, merged into one peer per peer id, plus the
/// configured static peers, kept honest by a health check.
///
/// ```swift
/// let peers = try PeerTable(configuration: .init(
///     ownID: peerID, staticPeers: [StaticPeer(host: "nas.local", port: 8737)],
///     healthCheck: { peer in await probe(peer) }))
/// Task { await peers.consume(discovery.events) }
/// for await change in peers.changes { … }      // added / updated / removed
/// let now = await peers.snapshot()
/// ```
///
/// Merging: Avahi reports a dual-stack peer once per interface and IP version, and a peer renamed after a name
/// collision under its new instance name. All of them carry the same TXT `id`, so they become one
/// ``PeerSnapshot`` whose addresses are the union of theirs. A peer leaves when its last instance says goodbye,
/// not its first. Our own id is ignored wherever it shows up.
///
/// avahi-daemon restarts: instances seen before the daemon went away did not say goodbye, so their peers stay,
/// with their addresses, until the health check (or, without one, the first browse after the restart) shows
/// whether they are still there.
///
/// Claims: an announcement of the id of a peer whose latest check answered at its own endpoint, from another
/// address or port, is logged and ignored until that peer leaves; a discovered peer answering its check with another
/// id than it announced fails the check; at most ``PeerWire/PeerLimits/maxPeers`` identified peers are held. Names
/// are cut to 255 bytes of UTF-8, control characters replaced.
///
/// Health: with a ``Configuration/healthCheck``, every peer is checked every ``Configuration/healthInterval``
/// while the table is not empty (a peer's first check comes an interval after it arrives, a static peer's at once);
/// that timer is the table's only one, so an empty table never wakes up, and a table with peers wakes once per
/// interval (10 s by default). A peer failing
/// ``Configuration/failuresBeforeDrop`` checks in a row is dropped; after its first failure it is marked
/// unreachable. Static peers are never dropped, only marked unreachable, and they learn their id from the check.
/// A dropped peer whose mDNS instance is still announced is *lost*: not listed, but checked again in the rounds,
/// half as often after each failure down to once a minute, and listed again when it answers; the timer keeps
/// running for it until its instance goes (a link that failed and came back brings no mDNS news).
///
/// The rules live in a state machine without I/O (`PeerTableState`); this actor feeds it events with the time of
/// its clock and carries out what it answers: changes, checks, and the one timer. The clock is injected, so tests
/// advance virtual time instead of waiting.
public actor PeerTable {
    /// Probes one peer; the daemon plugs in an HTTP `GET /v1/info`. It should give up by itself within
    /// ``Configuration/healthTimeout``; past that the answer is taken as a failure and the probe cancelled.
    public typealias HealthCheck = @Sendable (PeerSnapshot) async -> HealthResult

    /// How the table merges, checks and drops peers.
    public struct Configuration: Sendable {
        /// Our own peer id: instances carrying it are ignored.
        public var ownID: String
        /// The configured peers to check even when mDNS never sees them.
        public var staticPeers: [StaticPeer]
        /// How often every peer is checked, while there are peers.
        public var healthInterval: Duration
        /// How long one check may take before it counts as failed.
        public var healthTimeout: Duration
        /// Failed checks in a row after which a discovered peer is dropped (static ones are kept).
        public var failuresBeforeDrop: Int
        /// The check; nil: peers leave by goodbye only.
        public var healthCheck: HealthCheck?

        public init(
            ownID: String, staticPeers: [StaticPeer] = [], healthInterval: Duration = .seconds(10),
            healthTimeout: Duration = .seconds(5), failuresBeforeDrop: Int = 3, healthCheck: HealthCheck? = nil
        ) {
            self.ownID = ownID
            self.staticPeers = staticPeers
            self.healthInterval = healthInterval
            self.healthTimeout = healthTimeout
            self.failuresBeforeDrop = failuresBeforeDrop
            self.healthCheck = healthCheck
        }
    }

    /// Every change, in order. Iterate it from one task only; changes are buffered while nobody reads.
    public nonisolated let changes: AsyncStream<PeerChange>

    private let configuration: Configuration
    private let logger: Logger
    private let changesContinuation: AsyncStream<PeerChange>.Continuation
    private let timeline: ElapsedClock
    private var state: PeerTableState
    /// Sleeps until the next round is due; the table's only timer.
    private var timer: Task<Void, Never>?
    /// Counts the timers armed, so that one that went off just as it was replaced does not forget its successor.
    private var timerNumber: UInt64 = 0
    /// The checks of the latest round, cancelled at shutdown (cancelling one already reported does nothing).
    private var checks: [CheckRace] = []
    private var isShutDown = false

    /// Creates the table, with its static peers waiting for their first check (started at once).
    ///
    /// - Parameters:
    ///   - clock: times the health interval and each check's timeout; tests pass a test clock.
    /// - throws: ``DiscoveryError/invalidConfiguration(_:)`` for an own id that is not 32 hex digits, or a
    ///   non-positive interval, timeout or failure count.
    public init(
        configuration: Configuration, clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger = Logger(label: "mediapeer.peers")
    ) throws(DiscoveryError) {
        guard MediapeerTXT.isValidPeerID(configuration.ownID) else {
            throw .invalidConfiguration("own peer id \"\(configuration.ownID)\" is not 32 lowercase hex digits")
        }
        guard configuration.healthInterval > .zero, configuration.healthTimeout > .zero else {
            throw .invalidConfiguration("healthInterval and healthTimeout must be positive")
        }
        guard configuration.failuresBeforeDrop >= 1 else {
            throw .invalidConfiguration("failuresBeforeDrop must be at least 1")
        }
        self.configuration = configuration
        self.logger = logger
        (changes, changesContinuation) = AsyncStream.makeStream(of: PeerChange.self, bufferingPolicy: .unbounded)
        timeline = ElapsedClock(clock)
        state = PeerTableState(
            settings: .init(
                ownID: configuration.ownID, healthInterval: configuration.healthInterval,
                healthTimeout: configuration.healthTimeout, failuresBeforeDrop: configuration.failuresBeforeDrop,
                checksHealth: configuration.healthCheck != nil),
            staticPeers: configuration.staticPeers, origin: Date())
        if !configuration.staticPeers.isEmpty, configuration.healthCheck != nil {
            Task { [weak self] in await self?.start() }
        }
    }

    deinit {
        timer?.cancel()
        for check in checks { check.cancel() }
        changesContinuation.finish()
    }

    // MARK: - Input

    /// Applies every event of `events` until it finishes (when ``MDNSDiscovery/stop()`` is called).
    public func consume(_ events: AsyncStream<DiscoveryEvent>) async {
        for await event in events { apply(event) }
    }

    /// Applies one discovery event.
    public func apply(_ event: DiscoveryEvent) {
        guard !isShutDown else { return }
        perform(state.apply(event, at: timeline.now.sinceOrigin))
    }

    /// A peer said over HTTP that it is leaving. Accepted only from one of the addresses the peer is known at, so a
    /// box can say goodbye for itself alone; static peers stay listed (marked unreachable), as they are never
    /// dropped. Returns whether the peer was dropped.
    @discardableResult
    public func departed(id: String, from address: String) -> Bool {
        guard !isShutDown else { return false }
        let (dropped, actions) = state.departed(id: id, from: address, at: timeline.now.sinceOrigin)
        perform(actions)
        return dropped
    }

    /// Stops the health checks and finishes ``changes``; the table then ignores further events.
    public func shutdown() {
        isShutDown = true
        timer?.cancel()
        timer = nil
        for check in checks { check.cancel() }
        checks = []
        changesContinuation.finish()
    }

    // MARK: - Output

    /// Every peer, identified ones by name then id, then static ones still waiting for their first answer.
    public func snapshot() -> [PeerSnapshot] {
        state.snapshot
    }

    /// The peer with this id, if known.
    public func peer(id: String) -> PeerSnapshot? {
        state.peer(id: id)
    }

    /// Whether the timer is armed for a next round (for tests: an empty table must have none).
    var awaitsNextRound: Bool { timer != nil }

    // MARK: - Driving the state

    private func start() {
        guard !isShutDown else { return }
        perform(state.start(at: timeline.now.sinceOrigin))
    }

    private func timerFired(_ number: UInt64) {
        guard !isShutDown else { return }
        if number == timerNumber { timer = nil }
        perform(state.timerFired(at: timeline.now.sinceOrigin))
    }

    private func healthChecked(_ key: PeerTableState.Key, round: UInt64, _ result: HealthResult) {
        guard !isShutDown else { return }
        perform(state.healthChecked(key, round: round, result, at: timeline.now.sinceOrigin))
    }

    private func perform(_ actions: [PeerTableState.Action]) {
        for action in actions {
            switch action {
            case .emit(let change):
                switch change {
                case .added(let peer):
                    logger.info("peer found", metadata: ["peer": "\(peer.name)", "addresses": "\(peer.addresses)"])
                case .removed(let peer, let reason):
                    logger.info("peer left", metadata: ["peer": "\(peer.name)", "reason": "\(reason.rawValue)"])
                case .updated:
                    break
                }
                changesContinuation.yield(change)
            case .checkHealth(let round, let targets, let deadline):
                startChecks(targets, round: round, deadline: deadline)
            case .scheduleHealthCheck(let due):
                timer?.cancel()
                timerNumber += 1
                let (timeline, number) = (timeline, timerNumber)
                // Weak, so that a table nobody holds any more is freed (its deinit cancels this task).
                timer = Task { [weak self] in
                    do { try await timeline.sleep(until: ElapsedInstant(due), tolerance: nil) } catch { return }
                    await self?.timerFired(number)
                }
            case .cancelHealthCheck:
                timer?.cancel()
                timer = nil
            case .note(let note):
                log(note)
            }
        }
    }

    /// Runs each check against its deadline. Whichever comes first is reported and cancels the other; a check
    /// that ignores cancellation finishes in the background and its late answer is discarded.
    private func startChecks(_ targets: [PeerTableState.CheckTarget], round: UInt64, deadline: Duration) {
        guard let check = configuration.healthCheck else { return }
        let timeline = self.timeline
        let timeout = configuration.healthTimeout
        checks = targets.map { target in
            let race = CheckRace()
            let report: @Sendable (HealthResult) async -> Void = { [weak self] result in
                guard race.finish() else { return }
                await self?.healthChecked(target.key, round: round, result)
            }
            race.add(Task { await report(await check(target.peer)) })
            race.add(
                Task {
                    do { try await timeline.sleep(until: ElapsedInstant(deadline), tolerance: nil) } catch { return }
                    await report(.unhealthy("no answer within \(timeout)"))
                })
            return race
        }
    }

    private func log(_ note: PeerTableState.Note) {
        switch note {
        case .ignoredInstance(let name):
            logger.debug("ignoring an instance without a valid TXT id", metadata: ["instance": "\(name)"])
        case .otherProtocolVersion(let name, let version):
            logger.notice(
                "ignoring a box of another protocol version; update both boxes to the same mediapeer version",
                metadata: [
                    "instance": "\(name)", "version": "\(version)",
                    "own_version": "\(MediapeerTXT.currentProtocolVersion)",
                ])
        case .ignoredGoodbye(let id, let address):
            logger.debug(
                "ignored a goodbye from an address the peer is not known at",
                metadata: ["peer": "\(id)", "address": "\(address)"])
        case .stoppedAnswering(let peer, let reason):
            logger.notice("peer does not answer", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
        case .answersAgain(let peer):
            logger.info("peer answers again", metadata: ["peer": "\(peer)"])
        case .droppedUnreachable(let peer, let failures):
            logger.notice(
                "dropping a peer that stopped answering",
                metadata: [
                    "peer": "\(peer)", "failures": "\(failures)",
                ])
        case .identified(let entries, let id):
            logger.info(
                "static peer identified", metadata: ["entries": "\(entries.map(\.description))", "id": "\(id)"])
        case .ownStaticEntry(let peer):
            logger.notice("a static peer is this box itself; ignoring it", metadata: ["peer": "\(peer)"])
        case .ignoredClaim(let id, let peer, let address, let port):
            logger.warning(
                "an announcement claims the id of \(peer), which answers at its own address; ignored",
                metadata: ["peer_id": "\(id)", "address": "\(address)", "port": "\(port)"])
        case .tableFull(let id, let limit):
            logger.warning(
                "the peer table holds \(limit) peers; ignoring further ones until one leaves",
                metadata: ["peer_id": "\(id)"])
        }
    }
}

/// One check and its deadline: the first to report wins and cancels the other.
private final class CheckRace: Sendable {
    private struct State {
        var finished = false
        var tasks: [Task<Void, Never>] = []
    }
    private let state = Mutex(State())

    func add(_ task: Task<Void, Never>) {
        let late = state.withLock { state in
            if !state.finished { state.tasks.append(task) }
            return state.finished
        }
        if late { task.cancel() }
    }

    /// Whether this call is the first; it then cancels both sides.
    func finish() -> Bool {
        let tasks: [Task<Void, Never>]? = state.withLock { state in
            guard !state.finished else { return nil }
            state.finished = true
            defer { state.tasks = [] }
            return state.tasks
        }
        guard let tasks else { return false }
        for task in tasks { task.cancel() }
        return true
    }

    func cancel() {
        _ = finish()
    }
}
