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
    let logger = Logger(label: "test.http-service")

    /// Runs `service` in a service group on loopback until `body` returns, then shuts the group down gracefully and
    /// waits for it to end. Returns the server's listening channel.
    @discardableResult
    func withRunningService(
        router: Router<BasicRequestContext>, address: ListenAddress = .hostname("127.0.0.1", port: 0),
        serverName: String? = nil, limits: HTTPServiceLimits = .none,
        _ body: @Sendable (_ port: Int) async throws -> Void
    ) async throws -> any Channel {
        let (listening, listeningContinuation) = AsyncStream.makeStream(of: (any Channel).self)
        let service = HTTPService(
            router: router, address: address, serverName: serverName, limits: limits,
            logger: logger,
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

    func get(_ url: String) async throws -> (HTTPClientResponse, String) {
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

    // MARK: Limits

    private static let getHello = "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n"

    private func helloRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/hello") { _, _ in "hi" }
        return router
    }

    /// Opens `count` connections, each answered once, so the server has counted every one of them.
    private func openAnswered(_ count: Int, port: Int) async throws -> [RawConnection] {
        var connections: [RawConnection] = []
        for _ in 0..<count {
            let connection = try await RawConnection.open(port: port)
            try await connection.send(Self.getHello)
            let response = try #require(await connection.response())
            #expect(response.hasPrefix("HTTP/1.1 200"))
            connections.append(connection)
        }
        return connections
    }

    @Test func aConnectionOverThePerAddressLimitIsClosedWhileTheOthersWork() async throws {
        let limits = HTTPServiceLimits(maxConnections: 256, maxConnectionsPerAddress: 16)
        try await withRunningService(router: helloRouter(), limits: limits) { port in
            let admitted = try await openAnswered(16, port: port)
            let seventeenth = try await RawConnection.open(port: port)
            #expect(await seventeenth.untilClosed() == "")
            for connection in admitted {
                try await connection.send(Self.getHello)
                let response = await connection.response()
                #expect(response?.hasPrefix("HTTP/1.1 200") == true)
                #expect(response?.hasSuffix("\r\n\r\nhi") == true)
                await connection.close()
            }
        }
    }

    @Test func aConnectionOverTheTotalLimitIsClosedWhileTheOthersWork() async throws {
        try await withRunningService(router: helloRouter(), limits: HTTPServiceLimits(maxConnections: 3)) { port in
            let admitted = try await openAnswered(3, port: port)
            let fourth = try await RawConnection.open(port: port)
            #expect(await fourth.untilClosed() == "")
            for connection in admitted {
                try await connection.send(Self.getHello)
                #expect(await connection.response()?.hasPrefix("HTTP/1.1 200") == true)
                await connection.close()
            }
        }
    }

    /// Writes `piece` every few milliseconds until the connection fails: a client trickling a request. Only the
    /// server can end it (the test's request is far longer than the trickle could send in the test's time limit).
    private func trickle(_ piece: String, on connection: RawConnection) -> Task<Void, Never> {
        Task {
            while !Task.isCancelled, (try? await connection.send(piece)) != nil {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    @Test func aRequestWhoseBodyTricklesIsCutAtTheDeadlineWith408() async throws {
        let router = Router()
        router.post("/upload") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            return "received \(body.readableBytes) bytes"
        }
        let limits = HTTPServiceLimits(requestDeadline: .milliseconds(300))
        try await withRunningService(router: router, limits: limits) { port in
            let connection = try await RawConnection.open(port: port)
            try await connection.send("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 100000\r\n\r\n")
            let trickling = trickle("x", on: connection)
            let answer = await connection.untilClosed()
            trickling.cancel()
            await trickling.value
            #expect(answer.hasPrefix("HTTP/1.1 408"))
        }
    }

    @Test func aRequestWhoseHeadTricklesIsCutAtTheDeadlineWith408() async throws {
        let limits = HTTPServiceLimits(requestDeadline: .milliseconds(300))
        try await withRunningService(router: helloRouter(), limits: limits) { port in
            let connection = try await RawConnection.open(port: port)
            try await connection.send("GET /hello HTTP/1.1\r\n")
            let trickling = trickle("x-slow: a\r\n", on: connection)
            let answer = await connection.untilClosed()
            trickling.cancel()
            await trickling.value
            #expect(answer.hasPrefix("HTTP/1.1 408"))
        }
    }

    @Test func aRequestThatArrivesInTimeIsAnsweredUnderADeadline() async throws {
        let limits = HTTPServiceLimits(requestDeadline: .seconds(10))
        try await withRunningService(router: helloRouter(), limits: limits) { port in
            let connection = try await RawConnection.open(port: port)
            try await connection.send(Self.getHello)
            #expect(await connection.response()?.hasPrefix("HTTP/1.1 200") == true)
            await connection.close()
        }
    }
}
