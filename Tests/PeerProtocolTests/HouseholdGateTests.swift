import ContentID
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PeerWire
import Testing
import WireVocabulary

@testable import PeerProtocol

/// A box's peer API in household mode, without TLS (no key proven: not a member): only the pairing routes and the
/// roster's reading get past the gate.
@Suite struct HouseholdGateTests {
    /// The fake peer in household mode (`refusing`) or LAN mode (nil).
    struct HouseholdPeer: PeerRequestHandler, PeerHouseholdHandler {
        let peer = FakePeerHandler()
        let refusing: String?

        func info() async throws -> PeerInfo { try await peer.info() }
        func peerDeparted(id: String, address: String) async { await peer.peerDeparted(id: id, address: address) }
        func catalog(since: Int64, after: ContentID?, limit: Int) async throws -> CatalogDelta {
            try await peer.catalog(since: since, after: after, limit: limit)
        }
        func manifest(of id: ContentID) async throws -> ChunkManifest? { try await peer.manifest(of: id) }
        func servableObject(_ id: ContentID) async throws -> ServableObject? { try await peer.servableObject(id) }
        func locate(_ id: ContentID, ttl: Int, queryID: String, askedBy: String?) async throws -> LocateAnswer {
            try await peer.locate(id, ttl: ttl, queryID: queryID, askedBy: askedBy)
        }

        func refusal(of peerID: String?) async -> String? { refusing }
        func pairingHello(_ hello: PairingHello, from joiner: String) async throws -> PairingChallenge {
            PairingChallenge(memberNonce: "")
        }
        func pairingProof(_ proof: PairingProof, from joiner: String) async throws -> PairingWelcome {
            throw HTTPError(.forbidden)
        }
        func roster(for peer: String) async throws -> RosterDocument { RosterDocument(household: "", records: []) }
        func rosterPushed(_ roster: RosterDocument, by peer: String) async throws {}
        func removalNotice(_ notice: RemovalNotice, from peer: String) async throws {}
    }

    func request(
        _ handler: HouseholdPeer, _ uri: String, method: HTTPRequest.Method = .get, body: String? = nil
    ) async throws -> (HTTPResponse.Status, String) {
        let router = PeerServer.makeRouter(
            handler: handler, limits: .init(), faults: .none, logger: Logger(label: "household-gate-test"))
        return try await Application(router: router).test(.router) { client in
            let response = try await client.execute(
                uri: uri, method: method, headers: body == nil ? [:] : [.contentType: "application/json"],
                body: body.map { ByteBuffer(string: $0) })
            return (response.status, String(buffer: response.body))
        }
    }

    @Test func aHouseholdRefusesANonMemberEveryRouteWithItsReason() async throws {
        let handler = HouseholdPeer(refusing: "not in this household")
        for uri in ["/v1/info", "/v1/catalog?since=0", "/v1/demand"] {
            let (status, body) = try await request(handler, uri)
            #expect(status == .forbidden, "\(uri)")
            #expect(body.contains("not in this household"), "\(uri): \(body)")
        }
        #expect(handler.peer.asked.isEmpty)
    }

    @Test func pairingIsNotBehindTheGate() async throws {
        let handler = HouseholdPeer(refusing: "not in this household")
        let (status, body) = try await request(
            handler, "/v1/household/pairing/hello", method: .post, body: #"{"joinerNonce":"00","name":"x"}"#)
        // Refused for want of a proven key (no TLS here), not by the gate.
        #expect(status == .forbidden)
        #expect(body.contains("proves a box key"), "\(body)")
    }

    @Test func readingTheRosterIsNotBehindTheGateItsHandlerDecides() async throws {
        // A box removed while offline reads it to learn its removal; the handler answers members and removed boxes.
        let handler = HouseholdPeer(refusing: "not in this household")
        let (status, body) = try await request(handler, "/v1/household/roster")
        #expect(status == .forbidden)
        #expect(body.contains("proves a box key"), "\(body)")
        let (pushed, _) = try await request(
            handler, "/v1/household/roster", method: .post, body: #"{"household":"","records":[]}"#)
        #expect(pushed == .forbidden)
    }

    @Test func lanModeAnswersEveryBox() async throws {
        let (status, _) = try await request(HouseholdPeer(refusing: nil), "/v1/info")
        #expect(status == .ok)
    }
}
