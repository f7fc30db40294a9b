import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Testing

@testable import HTTPService

/// A router served as a service: what it answers, and that it ends with its service group.
@Suite(.timeLimit(.minutes(1))) struct HTTPServiceTests {
    private let logger = Logger(label: "test.http-service")

    /// Runs `service` in a service group on loopback until `body` returns, then shuts the group down gracefully and
    /// waits for it to end. Returns the server's listening channel.
    @discardableResult
    private func withRunningService(
        router: Router<BasicRequestContext>, serverName: String? = nil,
        _ body: @Sendable (_ port: Int) async throws -> Void
    ) async throws -> any Channel {
        let (listening, listeningContinuation) = AsyncStream.makeStream(of: (any Channel).self)
        let service = HTTPService(
            router: router, address: .hostname("127.0.0.1", port: 0), serverName: serverName, logger: logger,
            onServerRunning: { channel in
                listeningContinuation.yield(channel)
                listeningContinuation.finish()
            })
        let group = ServiceGroup(services: [service], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = listening.makeAsyncIterator()
            let channel = try #require(await iterator.next())
            try await body(channel.localAddress?.port ?? 0)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return channel
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

    @Test func gracefulShutdownEndsTheServiceAndClosesItsListeningSocket() async throws {
        let router = Router()
        router.get("/") { _, _ in "x" }
        let channel = try await withRunningService(router: router) { _ in }
        // The service group has returned (the helper waited for it), and the socket it listened on is closed.
        #expect(!channel.isActive)
        try await channel.closeFuture.get()
    }
}
