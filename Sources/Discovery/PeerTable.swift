import ControlWire
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
///     ownID: peerID, staticPeers: [StaticPeer("nas.local:8737")!], healthCheck: { peer in await probe(peer) }))
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
/// Health: with a ``Configuration/healthCheck``, every peer is checked every ``Configuration/healthInterval``
/// while the table is not empty; that timer is the table's only one, so an empty table never wakes up, and a
/// table with peers wakes once per interval (10 s by default). A peer failing
/// ``Configuration/failuresBeforeDrop`` checks in a row is dropped; after its first failure it is marked
/// unreachable. Static peers are never dropped, only marked unreachable, and they learn their id from the check.
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

    /// A peer is keyed by its id, or, until its health check answers, by its static entry.
    private enum PeerKey: Hashable, Sendable {
        case id(String)
        case unidentified(StaticPeer)
    }

    private struct InstanceRecord {
        var address: String
    }

    private struct PeerRecord {
        var id: String?
        var name: String
        var hostName: String?
        var port: UInt16
        var generation: UInt64?
        var protocolVersion: String?
        var txt: [String: String] = [:]
        var instances: [ServiceInstance: InstanceRecord] = [:]
        /// Addresses of instances lost with avahi-daemon (no goodbye), kept until the peer is seen again.
        var unconfirmedAddresses: Set<String> = []
        var staticEntries: Set<StaticPeer> = []
        var firstSeen: Date
        var lastSeen: Date
        var reachable: Bool
        var failures = 0

        var snapshot: PeerSnapshot {
            var all = Set(instances.values.map(\.address))
            all.formUnion(unconfirmedAddresses)
            let statics = staticEntries.sorted { $0.description < $1.description }
            all.formUnion(statics.map(\.host))
            let addresses = all.sorted { PeerTable.addressOrder($0) < PeerTable.addressOrder($1) }
            return PeerSnapshot(
                id: id, name: name, hostName: hostName, addresses: addresses, port: port, generation: generation,
                protocolVersion: protocolVersion, txt: txt,
                instances: instances.keys.sorted { ($0.name, $0.interfaceIndex, $0.family.rawValue) < ($1.name, $1.interfaceIndex, $1.family.rawValue) },
                staticEntries: statics, firstSeen: firstSeen, lastSeen: lastSeen, reachable: reachable,
                consecutiveFailures: failures)
        }
    }

    private var peers: [PeerKey: PeerRecord] = [:]
    /// Which peer each instance belongs to, as a goodbye names only the instance.
    private var instanceOwners: [ServiceInstance: String] = [:]
    /// Set by `daemonUp`: the next `browseSettled` closes the re-browse after a daemon restart.
    private var awaitingRebrowse = false
    private var healthTask: Task<Void, Never>?
    private var isShutDown = false

    /// Creates the table, with its static peers waiting for their first check (started at once).
    ///
    /// - throws: ``DiscoveryError/invalidConfiguration(_:)`` for an own id that is not 32 hex digits, or a
    ///   non-positive interval, timeout or failure count.
    public init(configuration: Configuration, logger: Logger = Logger(label: "mediapeer.peers")) throws(DiscoveryError) {
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
        let now = Date()
        for entry in configuration.staticPeers {
            peers[.unidentified(entry)] = PeerRecord(
                id: nil, name: entry.description, port: entry.port, staticEntries: [entry], firstSeen: now,
                lastSeen: now, reachable: false)
        }
        if !configuration.staticPeers.isEmpty, configuration.healthCheck != nil {
            // Static peers learn their id from their first check, so that one is not made to wait an interval.
            Task { await self.startHealthLoop(checkFirst: true) }
        }
    }

    deinit {
        healthTask?.cancel()
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
        switch event {
        case .resolved(let service): resolved(service)
        case .removed(let instance): removed(instance)
        case .daemonDown: daemonLost()
        case .daemonUp: awaitingRebrowse = true
        case .browseSettled: rebrowseSettled()
        case .registered, .nameChanged: break
        }
        startHealthLoop(checkFirst: false)
    }

    /// Stops the health checks and finishes ``changes``; the table then ignores further events.
    public func shutdown() {
        isShutDown = true
        healthTask?.cancel()
        healthTask = nil
        changesContinuation.finish()
    }

    // MARK: - Output

    /// Every peer, identified ones by name then id, then static ones still waiting for their first answer.
    /// A peer said over HTTP that it is leaving. Accepted only from one of the addresses the peer is known at, so a
    /// box can say goodbye for itself alone; static peers stay listed (marked unreachable), as they are never
    /// dropped. Returns whether the peer was dropped.
    @discardableResult
    public func departed(id: String, from address: String) -> Bool {
        guard var record = peers[.id(id)] else { return false }
        let known = record.snapshot.addresses.map { $0.split(separator: "%").first.map(String.init) ?? $0 }
        guard known.contains(address.split(separator: "%").first.map(String.init) ?? address) else {
            logger.debug("ignored a goodbye from an address the peer is not known at", metadata: ["peer": "\(id)", "address": "\(address)"])
            return false
        }
        guard record.staticEntries.isEmpty else {
            let before = record
            record.reachable = false
            store(record, at: .id(id), before: before)
            return false
        }
        drop(.id(id), reason: .goodbye)
        return true
    }

    public func snapshot() -> [PeerSnapshot] {
        peers.values.map(\.snapshot).sorted { ($0.id == nil ? 1 : 0, $0.name, $0.id ?? "") < ($1.id == nil ? 1 : 0, $1.name, $1.id ?? "") }
    }

    /// The peer with this id, if known.
    public func peer(id: String) -> PeerSnapshot? {
        peers[.id(id)]?.snapshot
    }

    /// Checks every peer now, without waiting for the interval (does nothing without a health check).
    public func checkHealthNow() async {
        await healthRound(fromLoop: false)
    }

    // MARK: - Discovery events

    private func resolved(_ service: ResolvedService) {
        guard let id = service.peerID, MediapeerTXT.isValidPeerID(id) else {
            logger.debug("ignoring an instance without a valid TXT id", metadata: ["instance": "\(service.instance.name)"])
            return
        }
        guard id != configuration.ownID else { return }
        if let previous = instanceOwners[service.instance], previous != id {
            // The instance name now belongs to another box (the first one left, another took its name).
            removed(service.instance)
        }
        instanceOwners[service.instance] = id
        let now = Date()
        let before = peers[.id(id)]
        var record = before ?? PeerRecord(
            id: id, name: service.instance.name, port: service.port, firstSeen: now, lastSeen: now, reachable: true)
        // Fresh instances replace what was remembered from before a daemon restart.
        if record.instances.isEmpty { record.unconfirmedAddresses = [] }
        record.instances[service.instance] = InstanceRecord(address: service.address)
        record.name = service.txt[MediapeerTXT.name] ?? service.instance.name
        record.hostName = service.hostName
        record.port = service.port
        record.txt = service.txt
        record.generation = service.txt[MediapeerTXT.generation].flatMap { UInt64($0) }
        record.protocolVersion = service.txt[MediapeerTXT.protocolVersion]
        record.lastSeen = now
        store(record, at: .id(id), before: before)
    }

    private func removed(_ instance: ServiceInstance) {
        guard let id = instanceOwners.removeValue(forKey: instance), var record = peers[.id(id)] else { return }
        let before = record
        record.instances[instance] = nil
        if record.instances.isEmpty, record.staticEntries.isEmpty {
            drop(.id(id), reason: .goodbye)
        } else {
            store(record, at: .id(id), before: before)
        }
    }

    private func daemonLost() {
        awaitingRebrowse = false
        instanceOwners = [:]
        for (key, record) in peers where !record.instances.isEmpty {
            var updated = record
            updated.unconfirmedAddresses.formUnion(record.instances.values.map(\.address))
            updated.instances = [:]
            store(updated, at: key, before: record)
        }
    }

    private func rebrowseSettled() {
        guard awaitingRebrowse else { return }
        awaitingRebrowse = false
        // With a health check, the check decides whether the peers not seen again are gone.
        guard configuration.healthCheck == nil else { return }
        for (key, record) in peers where record.instances.isEmpty && record.staticEntries.isEmpty {
            drop(key, reason: .notRediscovered)
        }
    }

    // MARK: - Health

    private func startHealthLoop(checkFirst: Bool) {
        guard configuration.healthCheck != nil, healthTask == nil, !peers.isEmpty, !isShutDown else { return }
        let interval = configuration.healthInterval
        // Weak, so that a table nobody holds any more is freed (its deinit cancels this task).
        healthTask = Task { [weak self] in
            var first = checkFirst
            while !Task.isCancelled {
                if !first {
                    try? await Task.sleep(for: interval)
                    if Task.isCancelled { return }
                }
                first = false
                guard let table = self, await table.healthRound(fromLoop: true) else { return }
            }
        }
    }

    /// Checks every peer concurrently; false when the table is empty and the loop should end (the loop's own
    /// round then clears `healthTask`, so that the next peer starts a new loop).
    @discardableResult
    private func healthRound(fromLoop: Bool) async -> Bool {
        guard let check = configuration.healthCheck, !peers.isEmpty, !isShutDown else {
            if fromLoop { healthTask = nil }
            return false
        }
        let targets = peers.map { ($0.key, $0.value.snapshot) }
        let timeout = configuration.healthTimeout
        // The actor is free while the checks run: events keep being applied meanwhile.
        let results = await withTaskGroup(of: (PeerKey, HealthResult).self) { group in
            for (key, snapshot) in targets {
                group.addTask { (key, await Self.run(check, on: snapshot, timeout: timeout)) }
            }
            var results: [(PeerKey, HealthResult)] = []
            for await result in group { results.append(result) }
            return results
        }
        for (key, result) in results { record(result, for: key) }
        if peers.isEmpty || isShutDown {
            if fromLoop { healthTask = nil }
            return false
        }
        return true
    }

    private func record(_ result: HealthResult, for key: PeerKey) {
        guard let record = peers[key] else { return }   // it left while being checked
        var updated = record
        switch result {
        case .healthy(let info):
            if !record.reachable, record.failures > 0 {
                logger.info("peer answers again", metadata: ["peer": "\(record.name)"])
            }
            updated.reachable = true
            updated.failures = 0
            updated.lastSeen = Date()
            if let info {
                if info.id == configuration.ownID {
                    logger.notice("a static peer is this box itself; ignoring it", metadata: ["peer": "\(record.name)"])
                    drop(key, reason: .ownInstance)
                    return
                }
                if MediapeerTXT.isValidPeerID(info.id), record.id != info.id {
                    identify(updated, at: key, as: info)
                    return
                }
                if let name = info.name, record.instances.isEmpty { updated.name = name }
                if let generation = info.generation { updated.generation = generation }
                if let version = info.protocolVersion { updated.protocolVersion = version }
            }
            store(updated, at: key, before: record)
        case .unhealthy(let reason):
            updated.failures += 1
            updated.reachable = false
            if record.failures == 0 {
                logger.notice("peer does not answer", metadata: ["peer": "\(record.name)", "reason": "\(reason)"])
            }
            if updated.failures >= configuration.failuresBeforeDrop, updated.staticEntries.isEmpty {
                logger.notice("dropping a peer that stopped answering", metadata: [
                    "peer": "\(record.name)", "failures": "\(updated.failures)",
                ])
                peers[key] = updated
                drop(key, reason: .unreachable)
                return
            }
            store(updated, at: key, before: record)
        }
    }

    /// A static peer answered with its id: its static entries move to that id, merged with the peer mDNS may
    /// already know under it. The same happens when a static address starts answering with another id (the box
    /// behind it was replaced).
    private func identify(_ record: PeerRecord, at key: PeerKey, as info: PeerInfo) {
        let entries = record.staticEntries
        var remaining = record
        remaining.staticEntries = []
        if case .unidentified = key {
            peers[key] = nil
        } else if remaining.instances.isEmpty {
            drop(key, reason: .unreachable)
        } else {
            store(remaining, at: key, before: record)
        }
        let target = PeerKey.id(info.id)
        let before = peers[target]
        var merged = before ?? PeerRecord(
            id: info.id, name: info.name ?? record.name, port: record.port, firstSeen: record.firstSeen,
            lastSeen: record.lastSeen, reachable: true)
        merged.staticEntries.formUnion(entries)
        if merged.instances.isEmpty {
            if let name = info.name { merged.name = name }
            if let port = entries.first?.port { merged.port = port }
        }
        if let generation = info.generation { merged.generation = generation }
        if let version = info.protocolVersion { merged.protocolVersion = version }
        merged.reachable = true
        merged.failures = 0
        merged.lastSeen = Date()
        logger.info("static peer identified", metadata: [
            "entries": "\(entries.map(\.description).sorted())", "id": "\(info.id)",
        ])
        store(merged, at: target, before: before)
    }

    /// Runs one check with a deadline. The check is cancelled when the deadline passes; if it ignores
    /// cancellation it finishes in the background and its late answer is discarded.
    private static func run(_ check: @escaping HealthCheck, on peer: PeerSnapshot, timeout: Duration) async -> HealthResult {
        await withCheckedContinuation { (continuation: CheckedContinuation<HealthResult, Never>) in
            let race = Race(continuation)
            let work = Task {
                let result = await check(peer)
                race.finish(result)
            }
            race.setLoser(work)
            Task {
                try? await Task.sleep(for: timeout)
                guard !Task.isCancelled else { return }
                race.finish(.unhealthy("no answer within \(timeout)"))
            }
        }
    }

    /// Resumes a continuation once, with whichever of the check and its deadline comes first.
    private final class Race: Sendable {
        private struct State {
            var continuation: CheckedContinuation<HealthResult, Never>?
            var work: Task<Void, Never>?
        }
        private let state: Mutex<State>

        init(_ continuation: CheckedContinuation<HealthResult, Never>) {
            state = Mutex(State(continuation: continuation))
        }

        func setLoser(_ work: Task<Void, Never>) {
            state.withLock { $0.work = $0.continuation == nil ? nil : work }
        }

        func finish(_ result: HealthResult) {
            let (continuation, work) = state.withLock { state in
                defer { state = State() }
                return (state.continuation, state.work)
            }
            guard let continuation else { return }
            work?.cancel()
            continuation.resume(returning: result)
        }
    }

    // MARK: - Bookkeeping

    private func store(_ record: PeerRecord, at key: PeerKey, before: PeerRecord?) {
        peers[key] = record
        guard case .id = key else { return }
        let after = record.snapshot
        guard let before else {
            logger.info("peer found", metadata: ["peer": "\(after.name)", "addresses": "\(after.addresses)"])
            changesContinuation.yield(.added(after))
            return
        }
        var previous = before.snapshot
        previous.lastSeen = after.lastSeen
        if previous != after { changesContinuation.yield(.updated(after)) }
    }

    private func drop(_ key: PeerKey, reason: PeerRemovalReason) {
        guard let record = peers.removeValue(forKey: key) else { return }
        for instance in record.instances.keys { instanceOwners[instance] = nil }
        guard case .id = key else { return }
        logger.info("peer left", metadata: ["peer": "\(record.name)", "reason": "\(reason.rawValue)"])
        changesContinuation.yield(.removed(record.snapshot, reason: reason))
    }

    /// IPv4 first, then routable IPv6, then link-local IPv6, then host names; by text within each.
    fileprivate static func addressOrder(_ address: String) -> (Int, String) {
        if address.contains(":") { return (address.lowercased().hasPrefix("fe80:") ? 2 : 1, address) }
        let isIPv4 = address.split(separator: ".", omittingEmptySubsequences: false).count == 4
            && address.allSatisfy { $0 == "." || $0.isASCII && $0.isNumber }
        return (isIPv4 ? 0 : 3, address)
    }
}
