import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing
@testable import HTTPService

/// A router served as a service: what it answers, and that it ends with its service group.
@Suite(.timeLimit(.minutes(1))) struct HTTPServiceTests {
    private let logger = Logger(label: "test.http-service")

    /// Runs `service` in a service group on loopback until `body` returns, then shuts the group down gracefully and
    /// waits for it to end.
    private func withRunningService(
        router: Router<BasicRequestContext>, serverName: String? = nil,
        _ body: @Sendable (_ port: Int) async throws -> Void
    ) async throws {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let service = HTTPService(
            router: router, address: .hostname("127.0.0.1", port: 0), serverName: serverName, logger: logger,
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            })
        let group = ServiceGroup(services: [service], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            try await body(port)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    private func get(_ url: String) async throws -> (HTTPClientResponse, String) {
        var request = HTTPClientRequest(url: url)
        // No idle keep-alive connection left behind: the server's graceful shutdown would wait for it.
        request.headers.add(name: "connection", value: "close")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 16)
        return (response, String(buffer: body))
    }

    @Test func answersThroughTheRouter() async throws {
        let router = Router()
        router.get("/hello") { _, _ in "hi" }
        try await withRunningService(router: router) { port in
            let (response, body) = try await get("http://127.0.0.1:\(port)/hello")
            #expect(response.status == .ok)
            #expect(body == "hi")
        }
    }

    @Test func everyResponseCarriesADateAndTheServerName() async throws {
        let router = Router()
        router.get("/") { _, _ in "x" }
        try await withRunningService(router: router, serverName: "mediapeer-test") { port in
            let (response, _) = try await get("http://127.0.0.1:\(port)/")
            let date = try #require(response.headers.first(name: "date"))
            #expect(date.wholeMatch(of: HTTPDateTests.imfFixdate) != nil)
            #expect(response.headers.first(name: "server") == "mediapeer-test")
        }
    }

    @Test func aHandlerThatThrowsAnUnexpectedErrorGivesA500() async throws {
        struct Unexpected: Error {}
        let router = Router()
        router.get("/fail") { _, _ -> String in throw Unexpected() }
        try await withRunningService(router: router) { port in
            let (response, _) = try await get("http://127.0.0.1:\(port)/fail")
            #expect(response.status == .internalServerError)
        }
    }

    @Test func gracefulShutdownEndsTheServiceAndClosesItsPort() async throws {
        let router = Router()
        router.get("/") { _, _ in "x" }
        let port = Mutex(0)
        try await withRunningService(router: router) { listening in
            port.withLock { $0 = listening }
        }
        // The service group has returned: nothing listens on the port any more.
        let closed = port.withLock { $0 }
        // A plain connect: an HTTP client would retry a refused connection until its deadline.
        await #expect(throws: (any Error).self) {
            try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: closed).get().close()
        }
    }
}
