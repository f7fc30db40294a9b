import Hummingbird
import NIOCore
import NIOPosix
import ServiceLifecycle
import Testing

@testable import HTTPService

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A server on every address: bound by address, dual-stack where the kernel has IPv6.
extension HTTPServiceTests {
    @discardableResult
    private func helloOnEveryAddress(_ body: @Sendable (_ port: Int) async throws -> Void) async throws -> any Channel {
        let router = Router()
        router.get("/hello") { _, _ in "hi" }
        return try await withRunningService(router: router, address: .everyAddress(port: 0), body)
    }

    @Test func everyAddressAnswersIPv4AndIPv6ClientsOnOneSocket() async throws {
        try await helloOnEveryAddress { port in
            let (overIPv4, _) = try await get("http://127.0.0.1:\(port)/hello")
            #expect(overIPv4.status == .ok)
            let (overIPv6, body) = try await get("http://[::1]:\(port)/hello")
            #expect(overIPv6.status == .ok)
            #expect(body == "hi")
        }
    }

    @Test func aKernelRefusingIPv6GetsEveryIPv4AddressInstead() async throws {
        let router = Router()
        router.get("/hello") { _, _ in "hi" }
        let (listening, continuation) = AsyncStream.makeStream(of: (any Channel).self)
        var service = HTTPService(
            router: router, address: .everyAddress(port: 0), logger: logger,
            onServerRunning: { continuation.yield($0) })
        // Not an address of this box: the bind fails with EADDRNOTAVAIL, as [::] does without IPv6.
        service.dualStackAddress = try SocketAddress(ipAddress: "2001:db8::1", port: 0)
        let group = ServiceGroup(services: [service], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = listening.makeAsyncIterator()
            let listener = try #require(await iterator.next())
            #expect(listener.localAddress?.protocol == .inet)
            let (response, _) = try await get("http://127.0.0.1:\(listener.localAddress?.port ?? 0)/hello")
            #expect(response.status == .ok)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func aPortInUseIsReportedNotTakenForAMissingIPv6() async throws {
        try await helloOnEveryAddress { port in
            let router = Router()
            router.get("/") { _, _ in "second" }
            let second = HTTPService(router: router, address: .everyAddress(port: port), logger: logger)
            let error = await #expect(throws: IOError.self) { try await second.run() }
            #expect(error?.errnoCode == EADDRINUSE)
        }
    }

    @Test func onlyAMissingAddressFamilyFallsBackToIPv4() {
        for missing in [EAFNOSUPPORT, EPROTONOSUPPORT, EADDRNOTAVAIL] {
            #expect(WildcardListening.isMissingAddressFamily(IOError(errnoCode: missing, reason: "socket")))
        }
        for other in [EADDRINUSE, EACCES, EMFILE] {
            #expect(!WildcardListening.isMissingAddressFamily(IOError(errnoCode: other, reason: "bind")))
        }
        #expect(WildcardListening.preference == [.dualStack, .ipv4Only])
    }
}
