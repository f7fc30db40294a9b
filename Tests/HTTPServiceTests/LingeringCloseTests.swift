import NIOCore
import NIOEmbedded
import Testing

@testable import HTTPService

/// A connection that answered before reading its request's body closes only once the client stops sending.
@Suite struct LingeringCloseTests {
    /// The socket's end of the pipeline: records each close that reaches it, and shuts the output as a socket
    /// does (an `EmbeddedChannel` itself can only close whole).
    private final class SocketEnd: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var closes: [CloseMode] = []

        func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
            closes.append(mode)
            guard mode == .output else { return context.close(mode: mode, promise: promise) }
            promise?.succeed()
        }
    }

    private let timeout = TimeAmount.seconds(2)

    /// A connected channel with the handler between the socket's end and the HTTP handlers' place.
    private func connection() async throws -> (EmbeddedChannel, SocketEnd) {
        let socket = SocketEnd()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(socket, LingeringClose(timeout: timeout))
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8200))
        return (channel, socket)
    }

    private func markAndClose(_ channel: EmbeddedChannel) -> EventLoopFuture<Void> {
        channel.pipeline.triggerUserOutboundEvent(LingeringClose.requested, promise: nil)
        return channel.close()
    }

    @Test func anUnmarkedConnectionClosesAtOnce() async throws {
        let (channel, socket) = try await connection()
        try await channel.close()
        #expect(socket.closes == [.all])
        #expect(!channel.isActive)
    }

    @Test func aMarkedConnectionShutsItsOutputAndDropsWhatTheClientStillSends() async throws {
        let (channel, socket) = try await connection()
        let closed = markAndClose(channel)
        #expect(socket.closes == [.output])
        #expect(channel.isActive)
        try channel.writeInbound(ByteBuffer(string: "the rest of an oversized body"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        #expect(channel.isActive)
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        channel.embeddedEventLoop.run()
        try await closed.get()
    }

    @Test func aLingeringConnectionClosesWhenTheClientStopsSending() async throws {
        let (channel, socket) = try await connection()
        let closed = markAndClose(channel)
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        channel.embeddedEventLoop.run()
        try await closed.get()
        #expect(socket.closes == [.output, .all])
        #expect(!channel.isActive)
    }

    @Test func aClientThatNeverStopsSendingIsCutOffAfterTheTimeout() async throws {
        let (channel, socket) = try await connection()
        let closed = markAndClose(channel)
        channel.embeddedEventLoop.advanceTime(by: timeout - .milliseconds(1))
        try channel.writeInbound(ByteBuffer(string: "more"))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        try await closed.get()
        #expect(socket.closes == [.output, .all])
    }
}
