import NIOCore
import Synchronization

/// Which clients a server answers, judged by address once per connection, when it is accepted: before any HTTP
/// handler, task or request parsing is set up for it.
///
/// A refused client gets one `403 Forbidden` with `reason` as its plain-text body (so a person looking at a TV that
/// shows "403" can find out why), then the connection ends. The refusal reads nothing of the request but its first
/// bytes (to know whether it was a `HEAD`), holds no task, and is bounded by the server's request deadline.
///
/// When the rules behind `reason` change (a reload of `allowed_networks`), ``closeConnectionsRefusedNow()`` ends the
/// connections admitted before that the new rules refuse: a TV taken out of the allowed networks stops streaming
/// then, not when it next reconnects.
public final class ClientRefusal: Sendable {
    /// The reason to give the client at `clientIP`, connected to this server at `serverIP` (both IPv4-mapped
    /// addresses unwrapped), or nil to answer it.
    let reason: @Sendable (_ clientIP: String, _ serverIP: String?) -> String?

    private struct Admitted {
        let channel: any Channel
        let clientIP: String
        let serverIP: String?
    }

    /// The connections answered and still open, by channel.
    private let admitted = Mutex<[ObjectIdentifier: Admitted]>([:])

    public init(reason: @escaping @Sendable (_ clientIP: String, _ serverIP: String?) -> String?) {
        self.reason = reason
    }

    /// Remembers a connection it answered until it closes.
    func admit(_ channel: any Channel, clientIP: String, serverIP: String?) {
        let key = ObjectIdentifier(channel)
        admitted.withLock { $0[key] = Admitted(channel: channel, clientIP: clientIP, serverIP: serverIP) }
        channel.closeFuture.whenComplete { [weak self] _ in _ = self?.admitted.withLock { $0.removeValue(forKey: key) }
        }
    }

    /// Closes every open connection it answered that `reason` refuses now, and returns their clients' addresses
    /// (one per connection).
    @discardableResult
    public func closeConnectionsRefusedNow() -> [String] {
        let refused = admitted.withLock { admitted in
            admitted.values.filter { reason($0.clientIP, $0.serverIP) != nil }
        }
        for connection in refused { connection.channel.close(promise: nil) }
        return refused.map(\.clientIP)
    }

    /// The connections it answered that are open now.
    var openConnections: Int { admitted.withLock { $0.count } }
}

/// The whole life of a refused connection, on its event loop: the 403 once the first bytes of a request arrive,
/// then the output closed, and whatever the client still sends read and dropped until it closes too, so that the
/// kernel does not answer those bytes with a reset that could discard the 403 before the client read it. A client
/// that sends more than a request's head or keeps the connection past the deadline is cut off. (The server allows
/// remote half-closure: the client's end of input arrives as an event, not as the channel's close.)
final class RefusedConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// More than any request head a player sends; past it the client is not reading the answer anyway.
    static let maxDiscardedBytes = 64 * 1024

    private let reason: String
    private let deadline: TimeAmount
    private var answered = false
    /// The 403 is written (or could not be).
    private var answerDone = false
    /// The client closed its output: nothing more will arrive.
    private var inputClosed = false
    private var discarded = 0
    private var timer: Scheduled<Void>?

    init(reason: String, deadline: TimeAmount) {
        self.reason = reason
        self.deadline = deadline
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armDeadline(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        armDeadline(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        discarded += bytes.readableBytes
        guard !answered else {
            if discarded > Self.maxDiscardedBytes { context.close(promise: nil) }
            return
        }
        answered = true
        let isHead = bytes.readableBytesView.starts(with: "HEAD ".utf8)
        let body = reason + "\n"
        var head =
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\nDate: \(HTTPDate.now())\r\n\r\n"
        if !isHead { head += body }
        let closed = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: head)), promise: closed)
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        closed.futureResult.whenComplete { result in
            let (handler, context) = loopBound.value
            handler.answerDone = true
            if case .success = result, !handler.inputClosed {
                context.close(mode: .output, promise: nil)
            } else {
                context.close(promise: nil)
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        inputClosed = true
        // Unanswered (it sent nothing) or answered: done. An answer still being written closes when it is.
        if !answered || answerDone { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func armDeadline(_ context: ChannelHandlerContext) {
        guard timer == nil else { return }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: deadline) { loopBound.value.close(promise: nil) }
    }
}

@available(*, unavailable)
extension RefusedConnectionHandler: Sendable {}
