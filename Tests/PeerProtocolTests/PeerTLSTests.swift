import AsyncHTTPClient
import BoxIdentity
import Crypto
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization
import Testing
import WireVocabulary

@testable import PeerProtocol

/// The peer API over mutual TLS on loopback: two boxes' identities in one process, the server's and the client's.
@Suite(.timeLimit(.minutes(2))) final class PeerTLSTests: Sendable {
    let server: BoxIdentity
    let client: BoxIdentity
    let file: ObjectFixture
    let handler: FakePeerHandler
    let logger = Logger(label: "peer-tls-test")
    /// A goodbye's own deadline is half a second, for a box stopping; a loaded test machine's handshake can take
    /// longer, and what these tests check is who may say goodbye, not how fast.
    static let generous: TimeAmount = .seconds(60)

    init() throws {
        server = try BoxIdentity(privateKey: P256.Signing.PrivateKey())
        client = try BoxIdentity(privateKey: P256.Signing.PrivateKey())
        file = try ObjectFixture(size: 3 * ObjectFixture.chunkSize + 10)
        handler = FakePeerHandler(objects: [file.servable()], manifests: [file.manifest], id: server.peerID)
    }

    deinit { file.remove() }

    /// Runs the TLS peer server with the server identity until `body` returns; `body` gets its port and an HTTP
    /// client of its own, shut down afterwards, so no pooled connection outlives the test.
    private func withTLSServer<T: Sendable>(_ body: @Sendable (Int, HTTPClient) async throws -> T) async throws -> T {
        let (listening, continuation) = AsyncStream.makeStream(of: Int.self)
        let service = try PeerServer.makeApplication(
            port: 0, handler: handler, identity: server, logger: logger,
            onListening: { port in
                continuation.yield(port)
                continuation.finish()
            })
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let group = ServiceGroup(services: [service], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                var ports = listening.makeAsyncIterator()
                let port = try #require(await ports.next())
                let result = try await body(port, http)
                // The client's pooled connections close first, so the server's graceful shutdown waits for none.
                try await http.shutdown()
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                try? await http.shutdown()
                tasks.cancelAll()
                throw error
            }
        }
    }

    private func endpoint(_ port: Int, id: String) throws -> PeerEndpoint {
        try #require(PeerEndpoint(peerID: id, name: "tls peer", host: "127.0.0.1", port: port))
    }

    @Test func aClientReachesTheBoxWhoseKeyHasTheIdItAsksFor() async throws {
        let info = try await withTLSServer { port, http in
            try await PeerClient(http: http, trust: PeerTrust(identity: self.client)).info(
                self.endpoint(port, id: self.server.peerID))
        }
        #expect(info.id == server.peerID)
    }

    @Test func aServerWithAnotherKeyIsRefused() async throws {
        let someoneElse = try BoxIdentity(privateKey: P256.Signing.PrivateKey())
        let error = try await withTLSServer { port, http in
            await #expect(throws: PeerClientError.self) {
                try await PeerClient(http: http, trust: PeerTrust(identity: self.client)).info(
                    self.endpoint(port, id: someoneElse.peerID))
            }
        }
        guard case .unproven(_, let reason)? = error else {
            Issue.record("expected an unproven peer, got \(String(describing: error))")
            return
        }
        #expect(reason.contains(server.peerID))
        #expect(handler.asked.isEmpty)
    }

    @Test func anEndpointWithoutAnIdIsNotReachedUnlessLearning() async throws {
        try await withTLSServer { port, http in
            let peer = try self.endpoint(port, id: "")
            let client = PeerClient(http: http, trust: try PeerTrust(identity: self.client))
            await #expect(throws: PeerClientError.self) { try await client.goodbye(peer, from: self.client.peerID) }
            let learnt = try await client.info(peer, learning: true)
            #expect(learnt.id == self.server.peerID)
        }
    }

    @Test func aClientWithoutACertificateIsRefused() async throws {
        try await withTLSServer { port, http in
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            var request = HTTPClientRequest(url: "https://127.0.0.1:\(port)/v1/info")
            request.tlsConfiguration = tls
            await #expect(throws: (any Error).self) { _ = try await http.execute(request, timeout: .seconds(10)) }
        }
        #expect(handler.asked.isEmpty)
    }

    @Test func aPlainHTTPClientIsRefused() async throws {
        try await withTLSServer { port, http in
            await #expect(throws: (any Error).self) {
                _ = try await PeerClient(http: http).info(self.endpoint(port, id: self.server.peerID))
            }
        }
        #expect(handler.asked.isEmpty)
    }

    @Test func aGoodbyeCountsForTheKeyItCameWith() async throws {
        try await withTLSServer { port, http in
            let client = PeerClient(http: http, trust: try PeerTrust(identity: self.client))
            try await client.goodbye(
                self.endpoint(port, id: self.server.peerID), from: self.client.peerID, timeout: Self.generous)
        }
        #expect(handler.asked == ["goodbye \(client.peerID)"])
    }

    @Test func aGoodbyeForAnotherBoxIsRefused() async throws {
        let victim = try BoxIdentity(privateKey: P256.Signing.PrivateKey())
        let error = try await withTLSServer { port, http in
            await #expect(throws: PeerClientError.self) {
                try await PeerClient(http: http, trust: PeerTrust(identity: self.client)).goodbye(
                    self.endpoint(port, id: self.server.peerID), from: victim.peerID, timeout: Self.generous)
            }
        }
        guard case .refused(_, let status, _)? = error else {
            Issue.record("expected a refusal, got \(String(describing: error))")
            return
        }
        #expect(status == 403)
        #expect(handler.asked.isEmpty)
    }

    @Test func objectBytesArriveWholeOverTLS() async throws {
        let received = Mutex<[UInt8]>([])
        let count = try await withTLSServer { port, http in
            try await PeerClient(http: http, trust: PeerTrust(identity: self.client)).pieces(
                self.endpoint(port, id: self.server.peerID), id: self.file.id,
                range: 0..<Int64(self.file.bytes.count), pieceLength: ObjectFixture.chunkSize,
                pieceTimeout: .seconds(10), buffers: FetchBufferBudget(bytes: 4 * ObjectFixture.chunkSize)
            ) { _, piece in
                received.withLock { $0 += Array(buffer: piece) }
                return true
            }
        }
        #expect(count == 4)
        #expect(received.withLock { $0 } == file.bytes)
    }
}

/// The probe that learns a box's certificate, where nothing listens.
@Suite struct PeerTrustProbeTests {
    @Test func aProbeOfAPortWhereNothingListensFailsAsUnreachable() async throws {
        // A port just released by a listener of our own: nothing answers there.
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(channel.localAddress?.port)
        try await channel.close()
        let trust = try PeerTrust(identity: BoxIdentity(privateKey: P256.Signing.PrivateKey()))
        let error = await #expect(throws: PeerClientError.self) {
            try await trust.probe(host: "127.0.0.1", port: port, expecting: nil, timeout: .seconds(5))
        }
        guard case .unreachable? = error else {
            Issue.record("expected unreachable, got \(String(describing: error))")
            return
        }
    }
}
