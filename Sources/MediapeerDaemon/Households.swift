import BoxIdentity
import ControlAPI
import ControlWire
import ElapsedTime
import Foundation
import Household
import Hummingbird
import Logging
import PeerProtocol
import PeerWire
import ServiceLifecycle
import Synchronization

/// The household this box is in, if any: the roster every peer request is judged by. Shared by the peer client
/// (which reaches only members) and ``Households`` (which changes it).
final class HouseholdMembership: Sendable {
    private let current: Mutex<Roster?>
    /// Told the household id whenever it changes (joined, removed, left): the announcement carries it.
    let householdChanges: AsyncStream<String?>
    private let householdChanged: AsyncStream<String?>.Continuation
    /// Told the roster whenever it changes (a member added or removed, a household joined or left): who is
    /// followed on the network depends on it.
    let rosterChanges: AsyncStream<Roster?>
    private let rosterChanged: AsyncStream<Roster?>.Continuation

    init(_ roster: Roster?) {
        current = Mutex(roster)
        (householdChanges, householdChanged) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        (rosterChanges, rosterChanged) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    var roster: Roster? { current.withLock { $0 } }

    /// Runs `change` on the roster under the lock, so that two changes (a join, a pull) never lose one another.
    func update<T: Sendable>(_ change: (inout Roster?) throws(HouseholdDriverError) -> T) throws(HouseholdDriverError)
        -> T
    {
        let (result, before, after) = try current.withLock { roster throws(HouseholdDriverError) in
            let before = roster
            let result = try change(&roster)
            return (result, before, roster)
        }
        if before?.householdID != after?.householdID { householdChanged.yield(after?.householdID) }
        if before != after { rosterChanged.yield(after) }
        return result
    }

    /// Why this box makes no request to `peerID`: in a household, it is not a member.
    func outgoingRefusal(_ peerID: String) -> String? {
        guard let roster, !roster.isMember(peerID) else { return nil }
        return "\(peerID) is not in this box's household"
    }
}

/// The driver of households: pairing on both sides, the household file, the roster's spread to members (pushed
/// after a change made here, pulled from a member whose `/v1/info` shows another roster version), removal and
/// leaving. The decisions are the pure core's (``Roster``, ``PairingDesk``, ``HouseholdAccess``).
final class Households: Service, Sendable {
    let membership: HouseholdMembership
    private let identity: BoxIdentity
    private let name: String
    private let file: HouseholdFile
    private let client: PeerClient
    private let clock: ElapsedClock
    private let logger: Logger
    private let pairing: Mutex<Pairing>
    private let pulls: AsyncStream<(member: PeerEndpoint, version: String)>
    private let pullRequests: AsyncStream<(member: PeerEndpoint, version: String)>.Continuation
    /// The version each member announced when its roster was last pulled and brought nothing new (its records
    /// are ones this box does not take): not pulled again until it announces another, so two members that
    /// disagree for good do not pull from each other at every health check.
    private let fruitlessPulls = Mutex<[String: String]>([:])

    private struct Pairing {
        var desk: PairingDesk
        /// The names joiners gave in their hello, for the roster: as many as the desk keeps joiners waiting.
        var names: [String: String] = [:]
    }

    init(
        identity: BoxIdentity, name: String, file: HouseholdFile, membership: HouseholdMembership, client: PeerClient,
        pairingValidity: Duration = PairingDesk.defaultValidity, clock: some Clock<Duration> = ContinuousClock(),
        logger: Logger
    ) {
        self.identity = identity
        self.name = name
        self.file = file
        self.membership = membership
        self.client = client
        self.clock = ElapsedClock(clock)
        self.logger = logger
        pairing = Mutex(Pairing(desk: PairingDesk(validity: pairingValidity)))
        // A few pulls waiting at most: a member's roster is pulled again at its next check if one is dropped.
        (pulls, pullRequests) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(8))
    }

    /// Pulls the rosters of members whose version differs, one at a time, until shutdown.
    func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await (member, version) in self.pulls {
                    await self.pull(from: member, announcing: version)
                }
            }
            try? await gracefulShutdown()
            pullRequests.finish()
        }
    }

    // MARK: The peer API

    func refusal(of peerID: String?) -> String? {
        HouseholdAccess.refusal(of: peerID, roster: membership.roster)
    }

    /// A health check of `peer` read `info`: its roster is pulled when it is a member with another version.
    func checked(_ peer: PeerEndpoint, info: PeerWire.PeerInfo) {
        fruitlessPulls.withLock { pulls in
            if pulls[info.id] == Self.refusedTag { pulls[info.id] = nil }
        }
        guard let roster = membership.roster, info.household == roster.householdID,
            let version = info.rosterVersion,
            HouseholdAccess.pullsRoster(of: info.id, announcedTag: version, roster: roster),
            fruitlessPulls.withLock({ $0[info.id] }) != version
        else { return }
        pullRequests.yield((peer, version))
    }

    /// A member refused this box's health check (403): this box may have been removed while it was offline, and
    /// nobody could tell it. The member's roster is pulled; it answers a removed box with the signed removal.
    /// Pulled once until that member answers a check again, if the roster brought nothing new.
    func refused(by member: PeerEndpoint) {
        guard membership.roster?.isMember(member.peerID) == true,
            fruitlessPulls.withLock({ $0[member.peerID] }) != Self.refusedTag
        else { return }
        pullRequests.yield((member, Self.refusedTag))
    }

    /// The version a pull after a refusal is recorded under: no member announces it.
    private static let refusedTag = "refused"

    func pairingHello(_ hello: PairingHello, from joiner: String) throws -> PairingChallenge {
        guard let joinerNonce = Hex.decode(hello.joinerNonce, count: 32) else {
            throw HTTPError(.badRequest, message: "joinerNonce: 32 bytes in hex")
        }
        if membership.roster?.isMember(joiner) == true {
            throw HTTPError(.conflict, message: "\(joiner) is in this household already")
        }
        let memberNonce = PairingProofs.nonce()
        let now = clock.now
        try pairing.withLock { pairing throws(HTTPError) in
            do throws(PairingRefusal) {
                try pairing.desk.hello(from: joiner, joinerNonce: joinerNonce, memberNonce: memberNonce, at: now)
            } catch {
                throw HTTPError(.forbidden, message: error.description)
            }
            if pairing.names.count >= 8 { pairing.names.removeAll() }
            pairing.names[joiner] = hello.name
        }
        return PairingChallenge(memberNonce: Hex.encode(memberNonce))
    }

    func pairingProof(_ proof: PairingProof, from joiner: String) throws -> PairingWelcome {
        guard let proofBytes = Hex.decode(proof.proof, count: 32) else {
            throw HTTPError(.badRequest, message: "proof: 32 bytes in hex")
        }
        let now = clock.now
        let (memberProof, joinerName) = try pairing.withLock { pairing throws(HTTPError) in
            do throws(PairingRefusal) {
                let memberProof = try pairing.desk.prove(
                    from: joiner, proof: proofBytes, memberID: identity.peerID, at: now)
                return (memberProof, pairing.names[joiner] ?? "")
            } catch {
                logger.warning(
                    "refused a pairing attempt", metadata: ["peer_id": "\(joiner)", "reason": "\(error)"])
                throw HTTPError(.forbidden, message: error.description)
            }
        }
        let roster: Roster
        do {
            roster = try membership.update { roster throws(HouseholdDriverError) in
                var changed = roster ?? Roster.found(by: identity, name: name)
                do throws(HouseholdError) {
                    try changed.add(joiner, name: joinerName, by: identity)
                } catch {
                    throw .household(error)
                }
                try save(changed)
                roster = changed
                return changed
            }
        } catch {
            throw HTTPError(.internalServerError, message: "\(error)")
        }
        logger.notice(
            "a box joined the household",
            metadata: ["peer_id": "\(joiner)", "name": "\(joinerName)", "household": "\(roster.householdID)"])
        return PairingWelcome(proof: Hex.encode(memberProof), roster: roster.document)
    }

    func roster(for peer: String) throws -> RosterDocument {
        guard let roster = membership.roster else {
            throw HTTPError(.notFound, message: "this box is in LAN mode: it has no household")
        }
        if let reason = HouseholdAccess.rosterRefusal(of: peer, roster: roster) {
            throw HTTPError(.forbidden, message: reason)
        }
        return roster.document
    }

    /// A member sent its roster (after a change it made, or to tell this box it was removed).
    func rosterPushed(_ document: RosterDocument, by peer: String) throws {
        do {
            try merge(document, from: peer)
        } catch {
            throw HTTPError(.forbidden, message: error.description)
        }
    }

    // MARK: The control API

    func report(peers: [PeerSnapshot]) -> HouseholdReport {
        let now = clock.now
        let codeOpen = pairing.withLock { $0.desk.isOpen(at: now) }
        guard let roster = membership.roster else {
            return HouseholdReport(household: nil, version: nil, members: [], pairingCodeOpen: codeOpen)
        }
        let online = Set(peers.filter(\.reachable).compactMap(\.id))
        return HouseholdReport(
            household: roster.householdID, version: roster.tag,
            members: roster.members.map { id, name in
                HouseholdMember(
                    peerID: id, name: name, online: id == identity.peerID || online.contains(id),
                    isThisBox: id == identity.peerID)
            }.sorted { $0.peerID < $1.peerID }, pairingCodeOpen: codeOpen)
    }

    func pair() -> PairingCodeAnswer {
        let code = PairingCode.make(for: identity.peerID)
        let now = clock.now
        let validity = pairing.withLock { pairing in
            pairing.desk.open(code, at: now)
            pairing.names = [:]
            return pairing.desk.validity
        }
        logger.notice("a pairing code was opened (good for one join)", metadata: ["valid_for": "\(validity)"])
        return PairingCodeAnswer(code: code.description, validSeconds: Int(validity.components.seconds))
    }

    /// Joins the household of the box that printed `text`, found among `peers` by the code's first group.
    func join(code text: String, among peers: [PeerSnapshot]) async throws -> HouseholdReport {
        guard let code = PairingCode(typed: text) else {
            throw ControlRefusal.badRequest(
                "a pairing code is 24 characters (letters A-Z and digits 2-7, dashes optional), as `mediapeerctl pair` "
                    + "printed it")
        }
        if let roster = membership.roster {
            throw ControlRefusal.conflict(
                "this box is in household \(roster.householdID) already: `mediapeerctl leave` first")
        }
        let candidates = peers.compactMap { peer -> PeerEndpoint? in
            guard let id = peer.id, id != identity.peerID, code.mayBeFrom(id) else { return nil }
            return PeerEndpoint(peerID: id, name: peer.name, addresses: peer.addresses, port: Int(peer.port))
        }
        guard !candidates.isEmpty else {
            throw ControlRefusal.notFound(
                "no box on the network matches the code (its first group names the box that printed it): check the "
                    + "code, and that both boxes see each other (`mediapeerctl peers`)")
        }
        var problems: [String] = []
        for member in candidates {
            do {
                return try await join(member, code: code, peers: peers)
            } catch let refusal as ControlRefusal {
                throw refusal
            } catch {
                problems.append("\(error)")
            }
        }
        throw ControlRefusal.conflict("not joined: " + problems.joined(separator: "; "))
    }

    private func join(_ member: PeerEndpoint, code: PairingCode, peers: [PeerSnapshot]) async throws -> HouseholdReport
    {
        let joinerNonce = PairingProofs.nonce()
        let challenge: PairingChallenge
        let welcome: PairingWelcome
        do {
            challenge = try await client.pairingHello(
                member, PairingHello(joinerNonce: Hex.encode(joinerNonce), name: name))
            guard let memberNonce = Hex.decode(challenge.memberNonce, count: 32) else {
                throw ControlRefusal.conflict("\(member.name) sent an unusable nonce: not joined")
            }
            let proof = PairingProofs.proof(
                .joiner, code: code, memberID: member.peerID, joinerID: identity.peerID, memberNonce: memberNonce,
                joinerNonce: joinerNonce)
            welcome = try await client.pairingProof(member, PairingProof(proof: Hex.encode(proof)))
            guard let memberProof = Hex.decode(welcome.proof, count: 32),
                PairingProofs.isValid(
                    memberProof, .member, code: code, memberID: member.peerID, joinerID: identity.peerID,
                    memberNonce: memberNonce, joinerNonce: joinerNonce)
            else {
                throw ControlRefusal.conflict(
                    "\(member.name) did not prove that it knows the code: not joined (is another device posing as it?)")
            }
        } catch PeerClientError.refused(_, 403, let message) {
            throw ControlRefusal.conflict("\(member.name) refused: \(Self.message(message))")
        }
        let roster: Roster
        do {
            roster = try Roster(verifying: welcome.roster)
        } catch {
            throw ControlRefusal.conflict("\(member.name) sent a roster that is not valid: \(error)")
        }
        guard roster.isMember(identity.peerID), roster.isMember(member.peerID) else {
            throw ControlRefusal.conflict("\(member.name)'s roster does not list both boxes: not joined")
        }
        try membership.update { current throws(HouseholdDriverError) in
            try save(roster)
            current = roster
        }
        logger.notice(
            "joined a household",
            metadata: ["household": "\(roster.householdID)", "through": "\(member.peerID)"])
        return report(peers: peers)
    }

    /// Removes the member `box` names (id, id prefix of 4+ hex digits, or name): it is told if online, and every
    /// online member is handed the new roster.
    func remove(_ box: String, peers: [PeerSnapshot]) async throws -> HouseholdReport {
        guard let roster = membership.roster else {
            throw ControlRefusal.conflict("this box is in LAN mode: it has no household to remove boxes from")
        }
        let subject = try Self.member(named: box, in: roster)
        guard subject != identity.peerID else {
            throw ControlRefusal.badRequest("that is this box: use `mediapeerctl leave` to take it out")
        }
        let changed = try membership.update { current throws(HouseholdDriverError) in
            guard var changed = current else { throw .lanMode }
            do throws(HouseholdError) {
                try changed.remove(subject, by: identity)
            } catch {
                throw .household(error)
            }
            try save(changed)
            current = changed
            return changed
        }
        logger.notice("removed a box from the household", metadata: ["peer_id": "\(subject)"])
        await withDiscardingTaskGroup { group in
            if let endpoint = Self.endpoint(of: subject, in: peers) {
                group.addTask {
                    do {
                        try await self.client.removalNotice(endpoint, RemovalNotice(roster: changed.document))
                    } catch {
                        self.logger.info(
                            "could not tell a removed box", metadata: ["peer_id": "\(subject)", "error": "\(error)"])
                    }
                }
            }
            group.addTask { await self.push(changed, to: peers) }
        }
        return report(peers: peers)
    }

    /// This box leaves: its removal of itself is handed to every online member, then it returns to LAN mode.
    func leave(peers: [PeerSnapshot]) async throws -> HouseholdReport {
        let changed = try membership.update { current throws(HouseholdDriverError) in
            guard var changed = current else { throw .lanMode }
            do throws(HouseholdError) {
                try changed.remove(identity.peerID, by: identity)
            } catch {
                throw .household(error)
            }
            return changed
        }
        await push(changed, to: peers)
        try membership.update { current throws(HouseholdDriverError) in
            try forget()
            current = nil
        }
        logger.notice("left the household: back to LAN mode", metadata: ["household": "\(changed.householdID)"])
        return report(peers: peers)
    }

    // MARK: Spreading

    private func pull(from member: PeerEndpoint, announcing version: String) async {
        do {
            let document = try await client.roster(member)
            let changed = try merge(document, from: member.peerID)
            fruitlessPulls.withLock { pulls in
                if pulls.count >= 256 { pulls.removeAll() }
                pulls[member.peerID] = changed ? nil : version
            }
        } catch {
            logger.info(
                "could not pull a member's roster", metadata: ["peer_id": "\(member.peerID)", "error": "\(error)"])
        }
    }

    /// Hands `roster` to every online member but this box, at once, giving up on each after 5 s.
    private func push(_ roster: Roster, to peers: [PeerSnapshot]) async {
        await withDiscardingTaskGroup { group in
            for member in roster.members.keys where member != identity.peerID {
                guard let endpoint = Self.endpoint(of: member, in: peers) else { continue }
                group.addTask {
                    do {
                        try await self.client.pushRoster(endpoint, roster.document)
                    } catch {
                        self.logger.info(
                            "could not hand the roster to a member",
                            metadata: ["peer_id": "\(member)", "error": "\(error)"])
                    }
                }
            }
        }
    }

    /// Takes in a member's roster; when it removes this box, back to LAN mode.
    /// Returns whether anything changed.
    @discardableResult
    private func merge(_ document: RosterDocument, from peer: String) throws(HouseholdDriverError) -> Bool {
        let outcome = try membership.update { current throws(HouseholdDriverError) -> (changed: Bool, out: Bool) in
            guard var changed = current else { throw .lanMode }
            do throws(HouseholdError) {
                guard try changed.merge(document, from: peer) else { return (false, false) }
            } catch {
                throw .household(error)
            }
            if !changed.isMember(identity.peerID) {
                try forget()
                current = nil
                return (true, true)
            }
            try save(changed)
            current = changed
            return (true, false)
        }
        if outcome.out {
            logger.notice("this box was removed from its household: back to LAN mode", metadata: ["by": "\(peer)"])
        } else if outcome.changed {
            logger.info("took in a member's roster", metadata: ["from": "\(peer)"])
        }
        return outcome.changed
    }

    private func save(_ roster: Roster) throws(HouseholdDriverError) {
        do {
            try file.save(roster)
        } catch {
            throw .file(error)
        }
    }

    private func forget() throws(HouseholdDriverError) {
        do {
            try file.remove()
        } catch {
            throw .file(error)
        }
    }

    static func endpoint(of peerID: String, in peers: [PeerSnapshot]) -> PeerEndpoint? {
        guard let peer = peers.first(where: { $0.id == peerID && $0.reachable }) else { return nil }
        return PeerEndpoint(peerID: peerID, name: peer.name, addresses: peer.addresses, port: Int(peer.port))
    }

    /// The member `box` names: its id, a prefix of 4+ hex digits, or its name; exactly one.
    static func member(named box: String, in roster: Roster) throws(ControlRefusal) -> String {
        let members = roster.members
        if members[box] != nil { return box }
        let lowered = box.lowercased()
        var matches = members.filter { $0.value == box }.map(\.key)
        if matches.isEmpty, lowered.count >= 4,
            PeerKeyID.isWellFormed(lowered.padding(toLength: 32, withPad: "0", startingAt: 0))
        {
            matches = members.keys.filter { $0.hasPrefix(lowered) }
        }
        switch matches.count {
        case 1: return matches[0]
        case 0: throw .notFound("no member of the household is \(box) (`mediapeerctl household` lists them)")
        default: throw .badRequest("\(box) names \(matches.count) members: give more of the peer id")
        }
    }

    /// A refusal's message from its JSON error body, if it has one.
    static func message(_ body: String) -> String {
        struct Body: Decodable {
            struct Inner: Decodable { var message: String }
            var error: Inner
        }
        return (try? JSONDecoder().decode(Body.self, from: Data(body.utf8)).error.message) ?? body
    }
}

/// Why a household change failed in the driver.
enum HouseholdDriverError: Error, CustomStringConvertible {
    case household(HouseholdError)
    case file(HouseholdFileError)
    case lanMode

    var description: String {
        switch self {
        case .household(let error): "\(error)"
        case .file(let error): "\(error)"
        case .lanMode: "this box is in LAN mode: it has no household"
        }
    }
}
