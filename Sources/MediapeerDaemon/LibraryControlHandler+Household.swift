import ControlAPI
import ControlWire
import PeerProtocol
import PeerWire

/// Households, on the control API (`mediapeerctl pair`, `join`, `household`, `leave`) and the peer API (pairing,
/// the roster's spread, the refusal of boxes outside the household): handed to ``Households``.
extension LibraryControlHandler: HouseholdControlHandler, PeerHouseholdHandler {
    func household() async throws -> HouseholdReport {
        households.report(peers: await network.table.snapshot())
    }

    func pair() async throws -> PairingCodeAnswer {
        households.pair()
    }

    func join(code: String) async throws -> HouseholdReport {
        try await households.join(code: code, among: await network.table.snapshot())
    }

    func removeFromHousehold(_ box: String) async throws -> HouseholdReport {
        try await households.remove(box, peers: await network.table.snapshot())
    }

    func leaveHousehold() async throws -> HouseholdReport {
        try await households.leave(peers: await network.table.snapshot())
    }

    func refusal(of peerID: String?) async -> String? {
        households.refusal(of: peerID)
    }

    func pairingHello(_ hello: PairingHello, from joiner: String) async throws -> PairingChallenge {
        try households.pairingHello(hello, from: joiner)
    }

    func pairingProof(_ proof: PairingProof, from joiner: String) async throws -> PairingWelcome {
        try households.pairingProof(proof, from: joiner)
    }

    func roster(for peer: String) async throws -> RosterDocument {
        try households.roster(for: peer)
    }

    func rosterPushed(_ roster: RosterDocument, by peer: String) async throws {
        try households.rosterPushed(roster, by: peer)
    }

    func removalNotice(_ notice: RemovalNotice, from peer: String) async throws {
        try households.rosterPushed(notice.roster, by: peer)
    }
}
