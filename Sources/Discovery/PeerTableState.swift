import ControlWire
import PeerAddresses

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The rules of ``PeerTable`` without its I/O: merging instances into peers, what a health answer or a goodbye
/// means, and when the next round of checks is due. Each event goes in with the current instant and returns the
/// actions the table must carry out (emit a change, start checks, arm or cancel its one timer); nothing here
/// sleeps, reads a clock or logs, so every rule can be tested on hand-built instants.
///
/// Instants are durations since the table was made, on the table's clock; `origin` is the date of instant zero,
/// from which the snapshots' `firstSeen` and `lastSeen` are computed.
struct PeerTableState {
    /// What the state needs of ``PeerTable/Configuration``.
    struct Settings: Sendable {
        var ownID: String
        var healthInterval: Duration
        var healthTimeout: Duration
        var failuresBeforeDrop: Int
        /// False without a health check: no round is ever started and no timer armed.
        var checksHealth: Bool
    }

    /// A peer is keyed by its id, or, until its health check answers, by its static entry.
    enum Key: Hashable, Sendable {
        case id(String)
        case unidentified(StaticPeer)
    }

    /// One peer to check in a round.
    struct CheckTarget: Sendable, Hashable {
        var key: Key
        var peer: PeerSnapshot
    }

    enum Action: Sendable, Hashable {
        /// Report this change on ``PeerTable/changes``.
        case emit(PeerChange)
        /// Check these peers now; an answer not in by `deadline` is a failure. Each answer goes back through
        /// ``healthChecked(_:round:_:at:)`` with this `round`.
        case checkHealth(round: UInt64, [CheckTarget], deadline: Duration)
        /// Call ``timerFired(at:)`` at this instant, instead of at any instant asked before.
        case scheduleHealthCheck(at: Duration)
        /// Forget the timer: the table is empty, and an empty table never wakes up.
        case cancelHealthCheck
        /// Worth logging, though no change reports it.
        case note(Note)
    }

    enum Note: Sendable, Hashable {
        /// An instance without a valid TXT `id` was ignored.
        case ignoredInstance(name: String)
        /// A goodbye came from an address the peer is not known at.
        case ignoredGoodbye(id: String, address: String)
        /// The peer's first failed check in a row.
        case stoppedAnswering(peer: String, reason: String)
        /// The peer answered again after failing.
        case answersAgain(peer: String)
        /// The peer failed ``Settings/failuresBeforeDrop`` checks in a row and is dropped.
        case droppedUnreachable(peer: String, failures: Int)
        /// Static entries answered with this id.
        case identified(entries: [StaticPeer], id: String)
        /// A static entry answered with our own id.
        case ownStaticEntry(peer: String)
    }

    private struct PeerRecord {
        var id: String?
        var name: String
        var hostName: String?
        var port: UInt16
        var generation: UInt64?
        var protocolVersion: String?
        var txt: [String: String] = [:]
        /// Each instance announcing the peer, with the address it resolved to.
        var instances: [ServiceInstance: String] = [:]
        /// Addresses of instances lost with avahi-daemon (no goodbye), kept until the peer is seen again.
        var unconfirmedAddresses: Set<String> = []
        var staticEntries: Set<StaticPeer> = []
        var firstSeen: Duration
        var lastSeen: Duration
        var reachable: Bool
        var failures = 0

        var addresses: [String] {
            var all = Set(instances.values)
            all.formUnion(unconfirmedAddresses)
            all.formUnion(staticEntries.map(\.host))
            return AddressPreference.sorted(all)
        }
    }

    private let settings: Settings
    private let origin: Date
    private var peers: [Key: PeerRecord] = [:]
    /// Which peer each instance belongs to, as a goodbye names only the instance.
    private var instanceOwners: [ServiceInstance: String] = [:]
    /// Set by `daemonUp`: the next `browseSettled` closes the re-browse after a daemon restart.
    private var awaitingRebrowse = false
    /// When the next round is due; nil while a round runs, and while there is nothing to check.
    private(set) var nextCheck: Duration?
    /// When the round after the running one is due: an interval after the running one started, so that rounds
    /// keep their pace however long their checks take.
    private var followingRound: Duration?
    /// The number of the latest round, so that an answer to an earlier one is not counted in it.
    private var round: UInt64 = 0
    /// The peers of the latest round that have not answered yet.
    private var unanswered: Set<Key> = []
    /// The actions of the event being handled.
    private var actions: [Action] = []

    /// The state at instant zero, with the static peers listed and waiting for their first check (see
    /// ``start(at:)``).
    init(settings: Settings, staticPeers: [StaticPeer], origin: Date) {
        self.settings = settings
        self.origin = origin
        for entry in staticPeers {
            peers[.unidentified(entry)] = PeerRecord(
                id: nil, name: entry.description, port: entry.port, staticEntries: [entry], firstSeen: .zero,
                lastSeen: .zero, reachable: false)
        }
    }

    // MARK: - Events

    /// The table starts: static peers learn their id from a first check at once, not an interval later.
    mutating func start(at now: Duration) -> [Action] {
        if settings.checksHealth, !peers.isEmpty { startRound(at: now) }
        return finish(at: now)
    }

    /// A discovery event.
    mutating func apply(_ event: DiscoveryEvent, at now: Duration) -> [Action] {
        switch event {
        case .resolved(let service): resolved(service, at: now)
        case .removed(let instance): removed(instance)
        case .daemonDown: daemonLost()
        case .daemonUp: awaitingRebrowse = true
        case .browseSettled: rebrowseSettled()
        case .registered, .nameChanged: break
        }
        return finish(at: now)
    }

    /// The timer asked for by ``Action/scheduleHealthCheck(at:)`` went off: every peer is checked. A timer that is
    /// no longer wanted (cancelled, or replaced by a later one, but already on its way) changes nothing.
    mutating func timerFired(at now: Duration) -> [Action] {
        guard let due = nextCheck, now >= due else { return [] }
        startRound(at: now)
        return finish(at: now)
    }

    /// The answer of one check of ``Action/checkHealth(round:_:deadline:)``, or its failure at the deadline. Only
    /// the first report of a check counts, and none of an earlier round. When the last peer of the round has
    /// answered, the next round is due an interval after this one started (at once if that has passed: rounds never
    /// overlap).
    mutating func healthChecked(_ key: Key, round: UInt64, _ result: HealthResult, at now: Duration) -> [Action] {
        guard round == self.round, unanswered.remove(key) != nil else { return [] }
        record(result, for: key, at: now)
        return finish(at: now)
    }

    /// A peer said over HTTP that it is leaving. Accepted only from one of the addresses the peer is known at, so
    /// a box can say goodbye for itself alone; static peers stay listed (marked unreachable), as they are never
    /// dropped.
    mutating func departed(id: String, from address: String, at now: Duration) -> (dropped: Bool, actions: [Action]) {
        guard var record = peers[.id(id)] else { return (false, []) }
        // The zone of a link-local address names an interface, which differs between the two boxes.
        func withoutZone(_ address: String) -> Substring { address.split(separator: "%").first ?? Substring(address) }
        guard record.addresses.contains(where: { withoutZone($0) == withoutZone(address) }) else {
            actions.append(.note(.ignoredGoodbye(id: id, address: address)))
            return (false, finish(at: now))
        }
        if record.staticEntries.isEmpty {
            drop(.id(id), reason: .goodbye)
            return (true, finish(at: now))
        }
        let before = record
        record.reachable = false
        store(record, at: .id(id), before: before)
        return (false, finish(at: now))
    }

    // MARK: - Views

    /// Every peer, identified ones by name then id, then static ones still waiting for their first answer.
    var snapshot: [PeerSnapshot] {
        peers.values.map(snapshot(of:)).sorted {
            ($0.id == nil ? 1 : 0, $0.name, $0.id ?? "") < ($1.id == nil ? 1 : 0, $1.name, $1.id ?? "")
        }
    }

    /// The peer with this id, if known.
    func peer(id: String) -> PeerSnapshot? {
        peers[.id(id)].map(snapshot(of:))
    }

    private func snapshot(of record: PeerRecord) -> PeerSnapshot {
        let statics = record.staticEntries.sorted { $0.description < $1.description }
        let instances = record.instances.keys.sorted {
            ($0.name, $0.interfaceIndex, $0.family.rawValue) < ($1.name, $1.interfaceIndex, $1.family.rawValue)
        }
        return PeerSnapshot(
            id: record.id, name: record.name, hostName: record.hostName, addresses: record.addresses,
            port: record.port, generation: record.generation, protocolVersion: record.protocolVersion,
            txt: record.txt, instances: instances, staticEntries: statics, firstSeen: date(record.firstSeen),
            lastSeen: date(record.lastSeen), reachable: record.reachable, consecutiveFailures: record.failures)
    }

    private func date(_ instant: Duration) -> Date {
        let (seconds, attoseconds) = instant.components
        return origin.addingTimeInterval(Double(seconds) + Double(attoseconds) / 1e18)
    }

    // MARK: - Discovery

    private mutating func resolved(_ service: ResolvedService, at now: Duration) {
        guard let id = service.peerID, MediapeerTXT.isValidPeerID(id) else {
            actions.append(.note(.ignoredInstance(name: service.instance.name)))
            return
        }
        guard id != settings.ownID else { return }
        if let previous = instanceOwners[service.instance], previous != id {
            // The instance name now belongs to another box (the first one left, another took its name).
            removed(service.instance)
        }
        instanceOwners[service.instance] = id
        let before = peers[.id(id)]
        var record =
            before
            ?? PeerRecord(
                id: id, name: service.instance.name, port: service.port, firstSeen: now, lastSeen: now, reachable: true)
        // Fresh instances replace what was remembered from before a daemon restart.
        if record.instances.isEmpty { record.unconfirmedAddresses = [] }
        record.instances[service.instance] = service.address
        record.name = service.txt[MediapeerTXT.name] ?? service.instance.name
        record.hostName = service.hostName
        record.port = service.port
        record.txt = service.txt
        record.generation = service.txt[MediapeerTXT.generation].flatMap { UInt64($0) }
        record.protocolVersion = service.txt[MediapeerTXT.protocolVersion]
        record.lastSeen = now
        store(record, at: .id(id), before: before)
    }

    private mutating func removed(_ instance: ServiceInstance) {
        guard let id = instanceOwners.removeValue(forKey: instance), var record = peers[.id(id)] else { return }
        let before = record
        record.instances[instance] = nil
        if record.instances.isEmpty, record.staticEntries.isEmpty {
            drop(.id(id), reason: .goodbye)
        } else {
            store(record, at: .id(id), before: before)
        }
    }

    /// avahi-daemon went away: its instances did not say goodbye, so their peers stay, with their addresses, until
    /// the health check (or, without one, the re-browse) shows whether they are still there.
    private mutating func daemonLost() {
        awaitingRebrowse = false
        instanceOwners = [:]
        for (key, record) in peers where !record.instances.isEmpty {
            var updated = record
            updated.unconfirmedAddresses.formUnion(record.instances.values)
            updated.instances = [:]
            store(updated, at: key, before: record)
        }
    }

    private mutating func rebrowseSettled() {
        guard awaitingRebrowse else { return }
        awaitingRebrowse = false
        // With a health check, the check decides whether the peers not seen again are gone.
        guard !settings.checksHealth else { return }
        for (key, record) in peers where record.instances.isEmpty && record.staticEntries.isEmpty {
            drop(key, reason: .notRediscovered)
        }
    }

    // MARK: - Health

    private mutating func startRound(at now: Duration) {
        nextCheck = nil
        followingRound = now + settings.healthInterval
        round += 1
        unanswered = Set(peers.keys)
        let targets = peers.map { CheckTarget(key: $0.key, peer: snapshot(of: $0.value)) }
            .sorted { ($0.peer.name, $0.peer.id ?? "") < ($1.peer.name, $1.peer.id ?? "") }
        actions.append(.checkHealth(round: round, targets, deadline: now + settings.healthTimeout))
    }

    private mutating func record(_ result: HealthResult, for key: Key, at now: Duration) {
        guard let record = peers[key] else { return }  // it left while being checked
        var updated = record
        switch result {
        case .healthy(let id, let name, let generation, let protocolVersion):
            if !record.reachable, record.failures > 0 { actions.append(.note(.answersAgain(peer: record.name))) }
            updated.reachable = true
            updated.failures = 0
            updated.lastSeen = now
            if let id {
                if id == settings.ownID {
                    actions.append(.note(.ownStaticEntry(peer: record.name)))
                    drop(key, reason: .ownInstance)
                    return
                }
                if MediapeerTXT.isValidPeerID(id), record.id != id {
                    identify(
                        updated, at: key, as: id, name: name, generation: generation,
                        protocolVersion: protocolVersion, at: now)
                    return
                }
            }
            if let name, record.instances.isEmpty { updated.name = name }
            if let generation { updated.generation = generation }
            if let protocolVersion { updated.protocolVersion = protocolVersion }
            store(updated, at: key, before: record)
        case .unhealthy(let reason):
            updated.failures += 1
            updated.reachable = false
            if record.failures == 0 { actions.append(.note(.stoppedAnswering(peer: record.name, reason: reason))) }
            if updated.failures >= settings.failuresBeforeDrop, updated.staticEntries.isEmpty {
                actions.append(.note(.droppedUnreachable(peer: record.name, failures: updated.failures)))
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
    private mutating func identify(
        _ record: PeerRecord, at key: Key, as id: String, name: String?, generation: UInt64?,
        protocolVersion: String?, at now: Duration
    ) {
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
        let target = Key.id(id)
        let before = peers[target]
        var merged =
            before
            ?? PeerRecord(
                id: id, name: name ?? record.name, port: record.port, firstSeen: record.firstSeen,
                lastSeen: record.lastSeen, reachable: true)
        merged.staticEntries.formUnion(entries)
        if merged.instances.isEmpty {
            if let name { merged.name = name }
            if let port = entries.first?.port { merged.port = port }
        }
        if let generation { merged.generation = generation }
        if let protocolVersion { merged.protocolVersion = protocolVersion }
        merged.reachable = true
        merged.failures = 0
        merged.lastSeen = now
        actions.append(.note(.identified(entries: entries.sorted { $0.description < $1.description }, id: id)))
        store(merged, at: target, before: before)
    }

    // MARK: - Bookkeeping

    /// Stores `record`, reporting it as added or updated (not when only `lastSeen` moved). Static peers not
    /// identified yet are not reported.
    private mutating func store(_ record: PeerRecord, at key: Key, before: PeerRecord?) {
        peers[key] = record
        guard case .id = key else { return }
        let after = snapshot(of: record)
        guard let before else {
            actions.append(.emit(.added(after)))
            return
        }
        var previous = snapshot(of: before)
        previous.lastSeen = after.lastSeen
        if previous != after { actions.append(.emit(.updated(after))) }
    }

    private mutating func drop(_ key: Key, reason: PeerRemovalReason) {
        guard let record = peers.removeValue(forKey: key) else { return }
        for instance in record.instances.keys { instanceOwners[instance] = nil }
        guard case .id = key else { return }
        actions.append(.emit(.removed(snapshot(of: record), reason: reason)))
    }

    /// Arms the timer when peers are there and none is armed or running, cancels it when none are left, and hands
    /// over the event's actions.
    private mutating func finish(at now: Duration) -> [Action] {
        if settings.checksHealth {
            if peers.isEmpty {
                // A peer arriving later waits a whole interval for its first check.
                followingRound = nil
                if nextCheck != nil {
                    nextCheck = nil
                    actions.append(.cancelHealthCheck)
                }
            } else if nextCheck == nil, unanswered.isEmpty {
                let due = followingRound ?? now + settings.healthInterval
                followingRound = nil
                nextCheck = due
                actions.append(.scheduleHealthCheck(at: due))
            }
        }
        defer { actions = [] }
        return actions
    }
}
