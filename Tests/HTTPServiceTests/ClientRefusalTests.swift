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
