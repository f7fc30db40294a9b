import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import HTTPService

/// A refused connection on an embedded channel, whose clock the test advances: one 403, then nothing but draining.
@Suite struct ClientRefusalTests {
    private static let reason = "not from here"
    private static let deadline = TimeAmount.seconds(10)

    /// Records the close modes asked for and lets only a full close through: an embedded channel closes whole on
    /// any mode, where a socket closes only its output for `.output`.
    private final class CloseRecorder: ChannelOutboundHandler, Sendable {
        typealias OutboundIn = NIOAny
        let modes = Mutex<[CloseMode]>([])

        func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
            modes.withLock { $0.append(mode) }
            if mode == .all { context.close(mode: mode, promise: promise) } else { promise?.succeed(()) }
        }
    }

    private func makeChannel() async throws -> (EmbeddedChannel, CloseRecorder) {
        let channel = EmbeddedChannel()
        let recorder = CloseRecorder()
        try channel.pipeline.syncOperations.addHandler(recorder)
        try channel.pipeline.syncOperations.addHandler(
            RefusedConnectionHandler(reason: Self.reason, deadline: Self.deadline))
        try await channel.connect(to: SocketAddress(ipAddress: "192.0.2.7", port: 40_000)).get()
        return (channel, recorder)
    }

    private func sent(on channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    @Test func theFirstBytesOfARequestGetOne403WithTheReasonThenTheOutputCloses() async throws {
        let (channel, recorder) = try await makeChannel()
        #expect(try sent(on: channel).isEmpty)
        try channel.writeInbound(ByteBuffer(string: "GET /media/x HTTP/1.1\r\nHost: box\r\n\r\n"))
        let answer = try sent(on: channel)
        #expect(answer.hasPrefix("HTTP/1.1 403 Forbidden\r\n"))
        #expect(answer.contains("\r\nContent-Type: text/plain; charset=utf-8\r\n"))
        #expect(answer.contains("\r\nContent-Length: \(Self.reason.utf8.count + 1)\r\n"))
        #expect(answer.contains("\r\nConnection: close\r\n"))
        #expect(answer.hasSuffix("\r\n\r\n" + Self.reason + "\n"))
        #expect(recorder.modes.withLock { $0 } == [.output])
        // A second request on the same connection is read and dropped, not answered.
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
        #expect(try sent(on: channel).isEmpty)
        #expect(channel.isActive)
    }

    @Test func aHeadRequestGetsTheHeadWithoutTheBody() async throws {
        let (channel, _) = try await makeChannel()
        try channel.writeInbound(ByteBuffer(string: "HEAD /upnp/device.xml HTTP/1.1\r\n\r\n"))
        let answer = try sent(on: channel)
        #expect(answer.hasPrefix("HTTP/1.1 403 Forbidden\r\n"))
        #expect(answer.contains("\r\nContent-Length: \(Self.reason.utf8.count + 1)\r\n"))
        #expect(answer.hasSuffix("\r\n\r\n"))
    }

    @Test func aClientThatKeepsSendingPastTheBoundIsCutOff() async throws {
        let (channel, recorder) = try await makeChannel()
        let chunk = String(repeating: "x", count: 16 * 1024)
        for _ in 0..<4 { try channel.writeInbound(ByteBuffer(string: chunk)) }
        #expect(channel.isActive, "64 KiB are drained")
        try channel.writeInbound(ByteBuffer(string: "x"))
        #expect(!channel.isActive)
        #expect(recorder.modes.withLock { $0 } == [.output, .all])
    }

    @Test func aClientThatClosesItsOutputAfterTheAnswerIsClosedAtOnce() async throws {
        let (channel, recorder) = try await makeChannel()
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
        #expect(try sent(on: channel).hasPrefix("HTTP/1.1 403 Forbidden\r\n"))
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(!channel.isActive)
        #expect(recorder.modes.withLock { $0 } == [.output, .all])
    }

    @Test func aClientThatClosesBeforeSendingAnythingIsClosedUnanswered() async throws {
        let (channel, _) = try await makeChannel()
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(!channel.isActive)
        #expect(try sent(on: channel).isEmpty)
    }

    @Test func aClientSilentUntilTheDeadlineIsClosedUnanswered() async throws {
        let (channel, _) = try await makeChannel()
        channel.embeddedEventLoop.advanceTime(by: Self.deadline - .nanoseconds(1))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .nanoseconds(1))
        #expect(!channel.isActive)
        #expect(try sent(on: channel).isEmpty)
    }

    @Test func anAnsweredClientThatNeverClosesIsClosedAtTheDeadline() async throws {
        let (channel, _) = try await makeChannel()
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n"))
        #expect(try !sent(on: channel).isEmpty)
        channel.embeddedEventLoop.advanceTime(by: Self.deadline)
        #expect(!channel.isActive)
    }
}

/// Connections answered under rules that change (a reload of `allowed_networks`) are closed once the new rules refuse
/// them; the others stay.
@Suite struct ClientRefusalReexaminationTests {
    private func connected(_ ip: String) async throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try await channel.connect(to: SocketAddress(ipAddress: ip, port: 40_000)).get()
        return channel
    }

    @Test func aConnectionTheNewRulesRefuseIsClosedAndTheOthersStayOpen() async throws {
        let allowed = Mutex<Set<String>>(["192.0.2.7", "192.0.2.8"])
        let refusal = ClientRefusal { clientIP, _ in allowed.withLock { $0.contains(clientIP) } ? nil : "not here" }
        let kept = try await connected("192.0.2.7")
        let cut = try await connected("192.0.2.8")
        refusal.admit(kept, clientIP: "192.0.2.7", serverIP: "192.0.2.1")
        refusal.admit(cut, clientIP: "192.0.2.8", serverIP: "192.0.2.1")
        #expect(refusal.closeConnectionsRefusedNow().isEmpty)

        allowed.withLock { $0.remove("192.0.2.8") }
        #expect(refusal.closeConnectionsRefusedNow() == ["192.0.2.8"])
        cut.embeddedEventLoop.run()
        #expect(!cut.isActive)
        #expect(kept.isActive)
        #expect(refusal.openConnections == 1)
        _ = try await kept.finish()
    }

    @Test func aConnectionThatClosedByItselfIsForgotten() async throws {
        let refusal = ClientRefusal { _, _ in nil }
        let channel = try await connected("192.0.2.9")
        refusal.admit(channel, clientIP: "192.0.2.9", serverIP: nil)
        #expect(refusal.openConnections == 1)
        try await channel.close()
        channel.embeddedEventLoop.run()
        #expect(refusal.openConnections == 0)
    }
}
