import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Testing
import WireVocabulary

@testable import PeerProtocol

/// `PeerClient.info` and `goodbye` against real HTTP on loopback, and the address an endpoint picks.
@Suite(.timeLimit(.minutes(2))) final class PeerClientTests: Sendable {
    /// Three 64 KiB chunks, the last one short.
    let file: ObjectFixture
    let handler: FakePeerHandler

    init() throws {
        file = try ObjectFixture(size: 2 * ObjectFixture.chunkSize + 100)
        handler = FakePeerHandler(objects: [file.servable()], manifests: [file.manifest])
    }

    deinit { file.remove() }

    private func withPeerServer<T: Sendable>(_ body: @Sendable (PeerEndpoint) async throws -> T) async throws -> T {
        let router = PeerServer.makeRouter(
            handler: handler, limits: .init(), faults: .none,
            logger: Logger(label: "client-test"))
        return try await withLiveServer(router) { port in try await body(Self.endpoint(port)) }
    }

    /// A server answering `GET /v1/info` with `status`, `headers` and `body`.
    private func withInfoServer<T: Sendable>(
        status: HTTPResponse.Status = .ok, headers: HTTPFields = [:],
        body: String, _ run: @Sendable (PeerEndpoint) async throws -> T
    )
        async throws -> T
    {
        let router = Router()
        router.get("/v1/info") { _, _ in
            Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        return try await withLiveServer(router) { port in try await run(Self.endpoint(port)) }
    }

    private static func endpoint(_ port: Int) -> PeerEndpoint {
        PeerEndpoint.loopback(port: port, name: "test peer")
    }

    @Test func infoSaysWhoThePeerIs() async throws {
        let info = try await withPeerServer { peer in try await PeerClient().info(peer) }
        #expect(info.id == String(repeating: "0", count: 32) && info.name == "fake" && info.generation == 7)
    }

    @Test func aGoodbyeReachesThePeerWithOurID() async throws {
        let me = "a11ce000000000000000000000000001"
        try await withPeerServer { peer in try await PeerClient().goodbye(peer, from: me, timeout: .seconds(60)) }
        #expect(handler.asked == ["goodbye \(me)"])
    }

    @Test func aRedirectIsNotFollowed() async throws {
        try await withPeerServer { honest in
            let location = honest.baseURL + "/v1/info"
            try await withInfoServer(status: .found, headers: [.location: location], body: "") { peer in
                await #expect(throws: PeerClientError.refused(peer: peer.description, status: 302, message: "")) {
                    try await PeerClient().info(peer)
                }
            }
        }
        #expect(handler.asked.isEmpty)
    }

    @Test func anInfoWithAMalformedIDIsAnInvalidAnswer() async throws {
        let body = #"{"id":"ALICE","name":"x","version":"1","protocolVersion":1,"generation":1}"#
        try await withInfoServer(body: body) { peer in
            let error = await #expect(throws: PeerClientError.self) { try await PeerClient().info(peer) }
            guard case .invalidAnswer = error else {
                Issue.record("expected an invalid answer, got \(String(describing: error))")
                return
            }
        }
    }

    @Test func anInfoLongerThan64KiBIsAnInvalidAnswer() async throws {
        let padding = String(repeating: " ", count: 70_000)
        let body =
            #"{"id":"a11ce000000000000000000000000001","name":"x","version":"1","protocolVersion":1,"#
            + #""generation":1}"#
        try await withInfoServer(body: padding + body) { peer in
            let error = await #expect(throws: PeerClientError.self) { try await PeerClient().info(peer) }
            guard case .invalidAnswer = error else {
                Issue.record("expected an invalid answer, got \(String(describing: error))")
                return
            }
        }
    }

    @Test func anEndpointUsesTheIPv4AddressFirst() {
        let endpoint = PeerEndpoint(
            peerID: "p", name: "n",
            addresses: ["nas.local", "fe80::1%2", "fd00::1", "10.0.0.2"], port: 8737)
        #expect(endpoint?.baseURL == "http://10.0.0.2:8737")
    }

    @Test func anEndpointPrefersRoutableIPv6ToLinkLocalAndWritesTheZoneEscaped() {
        #expect(
            PeerEndpoint(peerID: "p", name: "n", addresses: ["fe80::1%2", "fd00::1"], port: 1)?.baseURL
                == "http://[fd00::1]:1")
        #expect(
            PeerEndpoint(peerID: "p", name: "n", addresses: ["nas.local", "fe80::1%2"], port: 1)?.baseURL
                == "http://[fe80::1%252]:1")
    }

    @Test func anEndpointSkipsAddressesThatAreNeitherIPLiteralsNorHostNames() {
        let endpoint = PeerEndpoint(
            peerID: "p", name: "n", addresses: ["10.0.0.1/evil?x=1", "10.0.0.1@10.0.0.9", "fd00::1"], port: 8737)
        #expect(endpoint?.baseURL == "http://[fd00::1]:8737")
    }

    @Test func anEndpointRefusesAHostCarryingAPathOrQuery() {
        let hosts = [
            "10.0.0.1/v1/objects", "10.0.0.1?x", "a.example/x", "user@10.0.0.1", "10.0.0.1:80", "", "[fd00::1]",
        ]
        for host in hosts {
            #expect(PeerEndpoint(peerID: "p", name: "n", host: host, port: 8737) == nil, "\(host)")
        }
    }

    @Test func anEndpointRefusesAPortOutOfRange() {
        #expect(PeerEndpoint(peerID: "p", name: "n", host: "10.0.0.1", port: 0) == nil)
        #expect(PeerEndpoint(peerID: "p", name: "n", host: "10.0.0.1", port: 65536) == nil)
    }

    @Test func anEndpointAcceptsAConfiguredHostName() {
        #expect(PeerEndpoint(peerID: "p", name: "n", host: "nas.local", port: 8737)?.baseURL == "http://nas.local:8737")
    }

    @Test func locateRefusesAQueryIDThatWouldChangeTheURL() async throws {
        let id = try #require(ContentID(bytes: [UInt8](repeating: 7, count: 32)))
        // Refused before any connection: port 1 on loopback would otherwise answer "unreachable".
        let error = await #expect(throws: PeerClientError.self) {
            try await PeerClient().locate(Self.endpoint(1), id: id, ttl: 1, queryID: "a&ttl=9")
        }
        guard case .refused(_, status: 400, _)? = error else {
            Issue.record("expected a refusal, got \(String(describing: error))")
            return
        }
    }

    // MARK: Manifests

    @Test func aManifestWithTheAcceptedChunkSizeIsVerifiedAgainstItsID() async throws {
        let verifier = try await withPeerServer { peer in
            try await PeerClient().manifest(peer, id: self.file.id, chunkSize: ObjectFixture.chunkSize)
        }
        #expect(verifier.manifest == file.manifest)
    }

    @Test func aManifestWithAnotherChunkSizeThanThisVersionsIsAnInvalidAnswer() async throws {
        try await withPeerServer { peer in
            let error = await #expect(throws: PeerClientError.self) {
                try await PeerClient().manifest(peer, id: self.file.id)
            }
            guard case .invalidAnswer(_, let reason) = error else {
                Issue.record("expected an invalid answer, got \(String(describing: error))")
                return
            }
            #expect(reason.contains("chunk size \(ObjectFixture.chunkSize) is not this version's \(1 << 20)"))
        }
    }

    @Test func aManifestWithMoreChunksThanAcceptedIsAnInvalidAnswer() async throws {
        try await withPeerServer { peer in
            let error = await #expect(throws: PeerClientError.self) {
                try await PeerClient().manifest(
                    peer, id: self.file.id, chunkSize: ObjectFixture.chunkSize, maxChunkCount: 2)
            }
            guard case .invalidAnswer = error else {
                Issue.record("expected an invalid answer, got \(String(describing: error))")
                return
            }
        }
    }

    @Test func anAnswerLongerThanTheLargestAcceptedManifestIsNotReadWhole() async throws {
        // A standard header, then more hashes than 262144 chunks have.
        let router = Router()
        let id = file.id
        router.get("/v1/objects/:id/manifest") { _, _ in
            var body = ByteBuffer(bytes: Array("MPM1".utf8))
            body.writeInteger(UInt64(1) << 40)
            body.writeInteger(UInt32(1 << 20))
            body.writeRepeatingByte(0, count: 262_144 * 32 + 1)
            return Response(status: .ok, body: .init(byteBuffer: body))
        }
        try await withLiveServer(router) { port in
            let peer = Self.endpoint(port)
            let error = await #expect(throws: PeerClientError.self) { try await PeerClient().manifest(peer, id: id) }
            guard case .invalidAnswer(_, let reason) = error else {
                Issue.record("expected an invalid answer, got \(String(describing: error))")
                return
            }
            #expect(reason.contains("answer longer than \(16 + 262_144 * 32) bytes"))
        }
    }
}
