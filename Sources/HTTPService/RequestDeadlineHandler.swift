import Hummingbird
import NIOCore
import NIOHTTPTypes

/// Gives each request a total deadline to arrive, head and body, counted from its first byte; a request still
/// arriving then gets 408 (unless a response to it has begun) and its connection is closed. So a client that
/// trickles a request, a byte now and then, cannot hold a connection and a task for long.
///
/// It sits after the HTTP codec, where requests' ends are seen, and puts a companion at the front of the pipeline,
/// where their first bytes are. The deadline runs from the first byte read while the connection waits for a request
/// (or, for bytes that came while a response was being written, from that response's end) to the request's end.
/// The time between requests belongs to the idle timeout; the time taken to answer is not counted.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Phase {
        /// No request in progress, and no byte of one read.
        case waiting
        /// A request is arriving: its first byte was read, its end not yet.
        case arriving
        /// The request arrived whole and is being answered; `bytesPending` if bytes of another came meanwhile.
        case answering(bytesPending: Bool)
    }

    private let deadline: Duration
    private let admission: ConnectionAdmission
    private var phase = Phase.waiting
    /// A response part was written since the current request began: a 408 can no longer be sent for it.
    private var responded = false
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    /// - parameter admission: logs the connections cut off.
    init(deadline: Duration, admission: ConnectionAdmission) {
        self.deadline = deadline
        self.admission = admission
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        do {
            try context.pipeline.syncOperations.addHandler(FirstByteWatcher(owner: self), position: .first)
        } catch {
            // Without its watcher this handler would see no request start: no deadline rather than a wrong one.
            context.fireErrorCaught(error)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    /// Bytes arrived (from the watcher, before the codec turns them into request parts).
    fileprivate func bytesRead() {
        switch phase {
        case .waiting: requestBegins()
        case .arriving, .answering(bytesPending: true): break
        case .answering(bytesPending: false): phase = .answering(bytesPending: true)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data), case .arriving = phase {
            phase = .answering(bytesPending: false)
            disarm()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        responded = true
        if case .end = unwrapOutboundIn(data), case .answering(let bytesPending) = phase {
            if bytesPending {
                requestBegins()
            } else {
                phase = .waiting
            }
        }
        context.write(data, promise: promise)
    }

    private func requestBegins() {
        phase = .arriving
        responded = false
        guard let context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: TimeAmount(deadline)) { loopBound.value.expired() }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }

    private func expired() {
        timer = nil
        guard case .arriving = phase, let context, context.channel.isActive else { return }
        admission.requestTooSlow(from: context.channel.remoteAddress?.ipAddress, deadline: deadline)
        if !responded {
            let head = HTTPResponse(status: .requestTimeout, headerFields: [.connection: "close", .contentLength: "0"])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension RequestDeadlineHandler: Sendable {}

/// The front of the pipeline: tells its ``RequestDeadlineHandler`` when bytes arrive.
private final class FirstByteWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let owner: RequestDeadlineHandler

    init(owner: RequestDeadlineHandler) {
        self.owner = owner
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        owner.bytesRead()
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension FirstByteWatcher: Sendable {}
