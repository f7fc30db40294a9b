import NIOCore

/// Closes a connection as nginx's `lingering_close` does, when the client may still be sending a request body the
/// server chose not to read (an oversized SOAP request): the response goes out, the output is shut (the client
/// sees the end of the answer), and whatever the client still sends is read and dropped until it closes its side
/// or ``timeout`` passes. Closing at once with unread bytes in the socket makes the kernel answer them with a
/// reset, which can destroy the response before the client has read it.
///
/// Only a connection marked with ``requested`` (a user outbound event) lingers; every other closes at once.
/// Goes first in the pipeline, so that the dropped bytes reach no HTTP handler.
public final class LingeringClose: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// The event that marks a connection to linger when it is closed.
    public struct Requested: Sendable {}
    /// Send with `channel.triggerUserOutboundEvent(LingeringClose.requested, promise: nil)` before the response
    /// whose connection closes.
    public static let requested = Requested()

    /// The longest a connection lingers: a client that never stops sending is cut off then.
    public let timeout: TimeAmount
    private var marked = false
    private var lingering = false
    private var cutOff: Scheduled<Void>?

    public init(timeout: TimeAmount = .seconds(2)) {
        self.timeout = timeout
    }

    public func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is Requested else { return context.triggerUserOutboundEvent(event, promise: promise) }
        marked = true
        promise?.succeed()
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all, marked, context.channel.isActive else {
            return context.close(mode: mode, promise: promise)
        }
        // Whoever asked for the close learns of it when the connection is really closed.
        if let promise { context.channel.closeFuture.cascade(to: promise) }
        guard !lingering else { return }
        lingering = true
        let loop = context.eventLoop.assumeIsolated()
        cutOff = loop.scheduleTask(in: timeout) { context.close(mode: .all, promise: nil) }
        let outputClosed = context.eventLoop.makePromise(of: Void.self)
        outputClosed.futureResult.assumeIsolated().whenFailure { _ in context.close(mode: .all, promise: nil) }
        context.close(mode: .output, promise: outputClosed)
        context.read()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !lingering else { return }
        context.fireChannelRead(data)
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        // The handlers above may have stopped asking for reads; the bytes must still be drained.
        guard !lingering else { return context.read() }
        context.fireChannelReadComplete()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if lingering, case ChannelEvent.inputClosed = event {
            return context.close(mode: .all, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !lingering else { return context.close(mode: .all, promise: nil) }
        context.fireErrorCaught(error)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        cutOff?.cancel()
        cutOff = nil
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension LingeringClose: Sendable {}
