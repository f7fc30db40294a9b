import ControlWire
import PeerAddresses
import PeerWire
import WireVocabulary

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
///
/// Claims: anyone on the LAN can announce any id, but only the id's key proves it, and every health check is a TLS
/// handshake that must prove the key (the check the daemon gives the table). A peer that answered a check at its
/// endpoint with its own id is *confirmed* (proven), and stays so through failed checks until it leaves the table.
/// An announcement that claims a known peer's id from another address or port (a resolved instance not from the
/// peer's own host, or a static entry answering) does not move it, confirmed or not yet: the claim is noted and set
/// aside. When the peer leaves the table (goodbye, unreachable), the instances set aside for its id are resolved
/// again, so a box that really moved is found at its new endpoint, and a claim is believed only as long as its
/// own checks prove the key. A check of an announced peer answering with another id than the announced
/// one fails (the announcement is a lie, or stale); it is not a change of identity. Only a static address may
/// change identity: it is configured by hand, and a box behind it may be replaced.
struct PeerTableState {
    /// What the state needs of ``PeerTable/Configuration``.
    struct Settings: Sendable {
        var ownID: String
        var healthInterval: Duration
        var healthTimeout: Duration
        var failuresBeforeDrop: Int
        /// False without a health check: no round is ever started and no timer armed.
        var checksHealth: Bool
        /// The most identified peers held; also the most announcements set aside (see the type's documentation).
        var maxPeers = PeerLimits.maxPeers
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
        /// An instance announcing another protocol version (TXT `v`) than this build's was ignored.
        case otherProtocolVersion(name: String, version: String)
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
        /// An announcement at `address`, `port` (a resolved instance, or static entries) claimed the id of `peer`,
        /// which is known at its own endpoint: ignored, and set aside until that peer leaves.
        case ignoredClaim(id: String, peer: String, address: String, port: UInt16)
        /// The table holds ``Settings/maxPeers`` identified peers: this one was ignored (noted once until there is
        /// room again).
        case tableFull(ignored: String, limit: Int)
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
        /// The latest check answered with this record's id: announcements claiming it from elsewhere are ignored.
        var confirmed = false

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
    /// Instances whose claim of a confirmed peer's id was ignored, resolved again when that peer leaves.
    private var setAside: [ServiceInstance: ResolvedService] = [:]
    /// Instances announcing another protocol version than this build's, with it: ignored without a connection
    /// (noted once per instance and version; at most ``Settings/maxPeers`` remembered).
    private var otherVersions: [ServiceInstance: String] = [:]
    /// Claims set aside for peers that left during the event being handled, resolved at its end.
    private var reconsidered: [ResolvedService] = []
    /// The instances of peers dropped on an HTTP goodbye, until mDNS says they went too. A box restarting within the
    /// second its mDNS goodbye leaves the record in the neighbours' caches announces again before the record
    /// expires: avahi then reports neither a removal nor a new instance, and the box would stay unknown. An instance
    /// still here at a health-check timer ``goodbyeGrace`` after the goodbye is taken as announced again.
    private var leftByGoodbye: [ServiceInstance: (service: ResolvedService, at: Duration)] = [:]
    /// Longer than the second receivers keep a record after its mDNS goodbye (RFC 6762 §10.1).
    static let goodbyeGrace: Duration = .seconds(2)
    /// The peers dropped as unreachable while mDNS still announces them, by id, until mDNS says they went. A box
    /// whose link failed for a while (Wi-Fi, a cable) comes back with the records it had, so avahi reports nothing
    /// and it would stay unknown until its records change or expire, up to 75 minutes later. Each is checked again
    /// in the rounds, less often after each failure (see ``lostRetryCap``), and listed again once it answers.
    private var lost: [String: LostPeer] = [:]
    /// The longest wait between two checks of a lost peer: a box back on the network is listed again within
    /// about this long.
    static let lostRetryCap: Duration = .seconds(60)

    private struct LostPeer {
        /// The record as it was dropped, with the instances that still announce it.
        var record: PeerRecord
        /// When it is next checked, and the wait after that if it fails again.
        var retryAt: Duration
        var wait: Duration
    }
    /// Whether ``Note/tableFull(ignored:limit:)`` was noted since the table was last below its limit.
    private var notedTableFull = false
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
        for (instance, left) in leftByGoodbye where now - left.at >= Self.goodbyeGrace {
            leftByGoodbye[instance] = nil
            resolved(left.service, at: now)
        }
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
        guard record.addresses.contains(where: { Self.withoutZone($0) == Self.withoutZone(address) }) else {
            actions.append(.note(.ignoredGoodbye(id: id, address: address)))
            return (false, finish(at: now))
        }
        if record.staticEntries.isEmpty {
            for service in Self.services(of: record) { leftByGoodbye[service.instance] = (service, now) }
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
        // A box of another version speaks another protocol (one of version 1 plain HTTP, which a TLS server cannot
        // answer): not worth a connection. An announcement without `v` is taken for this version.
        if let version = service.txt[MediapeerTXT.protocolVersion], version != MediapeerTXT.currentProtocolVersion {
            if otherVersions[service.instance] != version, otherVersions.count < settings.maxPeers {
                otherVersions[service.instance] = version
                actions.append(.note(.otherProtocolVersion(name: service.instance.name, version: version)))
            }
            return
        }
        otherVersions[service.instance] = nil
        leftByGoodbye[service.instance] = nil
        forgetLost(service.instance)
        // This announcement supersedes whatever the instance claimed before.
        let earlierClaim = setAside.removeValue(forKey: service.instance)
        if let previous = instanceOwners[service.instance], previous != id {
            // The instance name now belongs to another box (the first one left, another took its name).
            removed(service.instance)
        }
        let before = peers[.id(id)]
        // The peer's own announcements are never claims: a TXT update or another resolve of an instance it owns,
        // or an instance on its host name, which avahi may resolve to another of the host's addresses (IPv6 after
        // IPv4, say). A device elsewhere cannot announce that host name without a conflict the real host wins.
        let ownAnnouncement =
            instanceOwners[service.instance] == id
            || before.map { $0.hostName?.lowercased() == service.hostName.lowercased() } == true
        if let before, !ownAnnouncement, Self.isElsewhere(before, [service.address], port: service.port) {
            if setAside.count < settings.maxPeers { setAside[service.instance] = service }
            // A TXT update of the same claim is not noted again.
            if earlierClaim?.peerID != id || earlierClaim?.address != service.address
                || earlierClaim?.port != service.port
            {
                actions.append(
                    .note(.ignoredClaim(id: id, peer: before.name, address: service.address, port: service.port)))
            }
            return
        }
        if before == nil, !hasRoom(for: id) { return }
        instanceOwners[service.instance] = id
        var record =
            before
            ?? PeerRecord(
                id: id, name: service.instance.name, port: service.port, firstSeen: now, lastSeen: now, reachable: true)
        // Fresh instances replace what was remembered from before a daemon restart.
        if record.instances.isEmpty { record.unconfirmedAddresses = [] }
        record.instances[service.instance] = service.address
        record.name = Self.shownName(service.txt[MediapeerTXT.name] ?? service.instance.name)
        record.hostName = service.hostName
        record.port = service.port
        record.txt = service.txt
        record.generation = service.txt[MediapeerTXT.generation].flatMap { UInt64($0) }
        record.protocolVersion = service.txt[MediapeerTXT.protocolVersion]
        record.lastSeen = now
        store(record, at: .id(id), before: before)
    }

    private mutating func removed(_ instance: ServiceInstance) {
        setAside[instance] = nil
        otherVersions[instance] = nil
        leftByGoodbye[instance] = nil
        forgetLost(instance)
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
        // Unobserved now, like the instances merged into peers; the re-browse resolves them again.
        setAside = [:]
        otherVersions = [:]
        leftByGoodbye = [:]
        // The re-browse resolves them again, and their checks decide anew.
        lost = [:]
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
        var targets = peers.map { CheckTarget(key: $0.key, peer: snapshot(of: $0.value)) }
        for (id, peer) in lost where peer.retryAt <= now {
            unanswered.insert(.id(id))
            targets.append(CheckTarget(key: .id(id), peer: snapshot(of: peer.record)))
        }
        targets.sort { ($0.peer.name, $0.peer.id ?? "") < ($1.peer.name, $1.peer.id ?? "") }
        actions.append(.checkHealth(round: round, targets, deadline: now + settings.healthTimeout))
    }

    private mutating func record(_ result: HealthResult, for key: Key, at now: Duration) {
        guard let record = peers[key] else {
            if case .id(let id) = key, lost[id] != nil { retried(id, result, at: now) }
            return  // it left while being checked
        }
        var updated = record
        switch result {
        case .healthy(let id, let name, let generation, let protocolVersion):
            if let id {
                if id == settings.ownID {
                    actions.append(.note(.ownStaticEntry(peer: record.name)))
                    drop(key, reason: .ownInstance)
                    return
                }
                if MediapeerTXT.isValidPeerID(id), record.id != id {
                    if record.staticEntries.isEmpty {
                        // Announced as one id, answering as another: the announcement lies or is stale.
                        failed(
                            record, at: key, "answered as \(id), not as the \(record.id ?? "") it announces", at: now)
                    } else if let refusal = identify(
                        record, at: key, as: id, name: name, generation: generation,
                        protocolVersion: protocolVersion, at: now)
                    {
                        failed(record, at: key, refusal, at: now)
                    }
                    return
                }
            }
            if !record.reachable, record.failures > 0 { actions.append(.note(.answersAgain(peer: record.name))) }
            updated.reachable = true
            updated.failures = 0
            updated.confirmed = updated.id != nil
            updated.lastSeen = now
            if let name, record.instances.isEmpty { updated.name = Self.shownName(name) }
            if let generation { updated.generation = generation }
            if let protocolVersion { updated.protocolVersion = protocolVersion }
            store(updated, at: key, before: record)
        case .unhealthy(let reason):
            failed(record, at: key, reason, at: now)
        }
    }

    /// One more failed check of `record`; a discovered peer is dropped after ``Settings/failuresBeforeDrop`` in a
    /// row.
    private mutating func failed(_ record: PeerRecord, at key: Key, _ reason: String, at now: Duration) {
        var updated = record
        updated.failures += 1
        updated.reachable = false
        if record.failures == 0 { actions.append(.note(.stoppedAnswering(peer: record.name, reason: reason))) }
        if updated.failures >= settings.failuresBeforeDrop, updated.staticEntries.isEmpty {
            actions.append(.note(.droppedUnreachable(peer: record.name, failures: updated.failures)))
            peers[key] = updated
            drop(key, reason: .unreachable)
            if case .id(let id) = key, !updated.instances.isEmpty, lost.count < settings.maxPeers {
                lost[id] = LostPeer(
                    record: updated, retryAt: now + settings.healthInterval, wait: settings.healthInterval)
            }
            return
        }
        store(updated, at: key, before: record)
    }

    /// The answer of a check of the lost peer `id`. Answering with its own id, it is listed again, with the
    /// instances that announce it; failing, it is checked again after twice the wait, up to ``lostRetryCap``.
    private mutating func retried(_ id: String, _ result: HealthResult, at now: Duration) {
        guard var peer = lost[id] else { return }
        guard case .healthy(let answered, _, _, _) = result, answered == nil || answered == id else {
            peer.wait = min(peer.wait * 2, max(Self.lostRetryCap, settings.healthInterval))
            peer.retryAt = now + peer.wait
            lost[id] = peer
            return
        }
        lost[id] = nil
        actions.append(.note(.answersAgain(peer: peer.record.name)))
        for service in Self.services(of: peer.record) { resolved(service, at: now) }
        record(result, for: .id(id), at: now)
    }

    /// The resolved instances `record` was known by.
    private static func services(of record: PeerRecord) -> [ResolvedService] {
        record.instances.map { instance, address in
            ResolvedService(
                instance: instance, hostName: record.hostName ?? "", address: address, port: record.port,
                txt: record.txt)
        }.sorted { ($0.instance.name, $0.address) < ($1.instance.name, $1.address) }
    }

    /// `instance` no longer announces the lost peer it did (it went, or announces anew); a lost peer left without
    /// instances is forgotten.
    private mutating func forgetLost(_ instance: ServiceInstance) {
        guard let id = lost.first(where: { $0.value.record.instances[instance] != nil })?.key else { return }
        lost[id]?.record.instances[instance] = nil
        if lost[id]?.record.instances.isEmpty == true { lost[id] = nil }
    }

    /// A static peer answered with its id: its static entries move to that id, merged with the peer mDNS may
    /// already know under it. The same happens when a static address starts answering with another id (the box
    /// behind it was replaced): the old peer is dropped as ``PeerRemovalReason/replaced`` unless mDNS still
    /// announces it.
    ///
    /// - Returns: why the answer counts as a failed check instead (the id is a confirmed peer's, claimed from
    ///   another endpoint); nil otherwise. With the table full, the entries stay where they are, answering.
    private mutating func identify(
        _ record: PeerRecord, at key: Key, as id: String, name: String?, generation: UInt64?,
        protocolVersion: String?, at now: Duration
    ) -> String? {
        let entries = record.staticEntries
        let target = Key.id(id)
        let before = peers[target]
        let port = entries.first?.port ?? record.port
        if let before, Self.isConfirmed(before, elsewhereThan: entries.map(\.host), port: port) {
            if record.failures == 0 {
                let hosts = entries.map(\.host).sorted().joined(separator: ", ")
                actions.append(.note(.ignoredClaim(id: id, peer: before.name, address: hosts, port: port)))
            }
            return "answered as \(id), a peer that answers at its own address"
        }
        // Dropping an identified record that only its static entries kept makes room for the new one.
        var freeing = 0
        if case .id = key, record.instances.isEmpty { freeing = 1 }
        if before == nil, !hasRoom(for: id, freeing: freeing) {
            var updated = record
            updated.reachable = true
            updated.failures = 0
            updated.lastSeen = now
            store(updated, at: key, before: record)
            return nil
        }
        var remaining = record
        remaining.staticEntries = []
        if case .unidentified = key {
            peers[key] = nil
        } else if remaining.instances.isEmpty {
            drop(key, reason: .replaced)
        } else {
            store(remaining, at: key, before: record)
        }
        var merged =
            before
            ?? PeerRecord(
                id: id, name: Self.shownName(name ?? record.name), port: record.port, firstSeen: record.firstSeen,
                lastSeen: record.lastSeen, reachable: true)
        merged.staticEntries.formUnion(entries)
        if merged.instances.isEmpty {
            if let name { merged.name = Self.shownName(name) }
            if let port = entries.first?.port { merged.port = port }
        }
        if let generation { merged.generation = generation }
        if let protocolVersion { merged.protocolVersion = protocolVersion }
        merged.reachable = true
        merged.failures = 0
        merged.confirmed = true
        merged.lastSeen = now
        actions.append(.note(.identified(entries: entries.sorted { $0.description < $1.description }, id: id)))
        store(merged, at: target, before: before)
        return nil
    }

    // MARK: - Claims and bounds

    /// Whether `record` answered a check with its own id (its key proven there), and an announcement at
    /// `addresses`, `port` would move it: another port, or an address it is not known at (compared without zones).
    private static func isConfirmed(_ record: PeerRecord, elsewhereThan addresses: [String], port: UInt16) -> Bool {
        record.confirmed && isElsewhere(record, addresses, port: port)
    }

    /// Whether an announcement at `addresses`, `port` would move `record`: another port, or an address it is not
    /// known at (compared without zones, which name interfaces).
    private static func isElsewhere(_ record: PeerRecord, _ addresses: [String], port: UInt16) -> Bool {
        let known = Set(record.addresses.map(withoutZone))
        return port != record.port || !addresses.allSatisfy { known.contains(withoutZone($0)) }
    }

    /// `address` without the zone of a link-local address: the zone names an interface, which differs between the
    /// two boxes, so the same peer's address reads `fe80::2%2` here and `fe80::2%3` there.
    private static func withoutZone(_ address: String) -> Substring {
        address.split(separator: "%").first ?? Substring(address)
    }

    /// Whether a new identified peer `id` fits under ``Settings/maxPeers`` (with `freeing` records about to go);
    /// notes the first refusal until there is room again.
    private mutating func hasRoom(for id: String, freeing: Int = 0) -> Bool {
        let identified = peers.keys.count { if case .id = $0 { true } else { false } } - freeing
        if identified < settings.maxPeers {
            notedTableFull = false
            return true
        }
        if !notedTableFull {
            notedTableFull = true
            actions.append(.note(.tableFull(ignored: id, limit: settings.maxPeers)))
        }
        return false
    }

    /// A name another box chose, as shown: control characters replaced, cut to `PeerLimits.maxPeerNameBytes` bytes of UTF-8.
    static func shownName(_ name: String) -> String {
        DisplayText.prefix(DisplayText.replacingControls(name), utf8Bytes: PeerLimits.maxPeerNameBytes)
    }

    // MARK: - Bookkeeping

    /// Stores `record`, reporting it as added or updated (not when only `lastSeen` moved). Static peers not
    /// identified yet are not reported.
    private mutating func store(_ record: PeerRecord, at key: Key, before: PeerRecord?) {
        peers[key] = record
        guard case .id(let id) = key else { return }
        lost[id] = nil
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
        guard case .id(let id) = key else { return }
        let claims = setAside.filter { $0.value.peerID == id }
        for instance in claims.keys { setAside[instance] = nil }
        reconsidered += claims.values.sorted { ($0.instance.name, $0.address) < ($1.instance.name, $1.address) }
        actions.append(.emit(.removed(snapshot(of: record), reason: reason)))
    }

    /// Arms the timer when peers are there and none is armed or running, cancels it when none are left, and hands
    /// over the event's actions.
    private mutating func finish(at now: Duration) -> [Action] {
        // The claims set aside for peers that left: their instances are resolved again, in order.
        while !reconsidered.isEmpty {
            let claims = reconsidered
            reconsidered = []
            for claim in claims { resolved(claim, at: now) }
        }
        if settings.checksHealth {
            if peers.isEmpty, leftByGoodbye.isEmpty, lost.isEmpty {
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
