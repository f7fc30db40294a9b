import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1 child channel, behind a doorman: a connection over the service's limits is closed as soon
/// as it is accepted, and one from a client the ``ClientRefusal`` refuses gets its 403 from a lone handler, before
/// any HTTP handler or task is set up for either.
///
/// Hummingbird's own `availableConnectionsDelegate` stops accepting at its limit instead, which leaves every client,
/// polite or not, waiting in the listen backlog, and knows nothing of client addresses.
struct LimitedHTTP1Channel: ServerChildChannel {
    enum Value: ServerChildChannelValue {
        case admitted(HTTP1Channel.Value)
        case refused(any Channel)

        var channel: any Channel {
            switch self {
            case .admitted(let value): value.channel
            case .refused(let channel): channel
            }
        }
    }

    let http1: HTTP1Channel
    let admission: ConnectionAdmission
    /// Handlers that go in front of HTTP's (TLS), added before them.
    let prepare: HTTPConnectionPreparation?
    let refusal: ClientRefusal?
    /// How long a refused client may keep its connection.
    let refusalDeadline: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        // Known from `accept`, before the channel is registered; nil for a Unix-socket client.
        let address = channel.remoteAddress?.ipAddress
        guard admission.open(from: address) else {
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(CloseWhenActive())
                return .refused(channel)
            }
        }
        let admission = self.admission
        channel.closeFuture.whenComplete { _ in admission.close(from: address) }
        if let refusal, let clientIP = channel.remoteAddress?.clientIP {
            let serverIP = channel.localAddress?.clientIP
            if let reason = refusal.reason(clientIP, serverIP) {
                admission.refused(clientIP, reason: reason)
                let deadline = refusalDeadline
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        RefusedConnectionHandler(reason: reason, deadline: deadline))
                    return .refused(channel)
                }
            }
            refusal.admit(channel, clientIP: clientIP, serverIP: serverIP)
        }
        let http1 = self.http1
        let prepared = prepare.map { prepare in channel.eventLoop.makeCompletedFuture { try prepare(channel) } }
        return (prepared ?? channel.eventLoop.makeSucceededVoidFuture()).flatMap {
            http1.setup(channel: channel, logger: logger)
        }.map { Value.admitted($0) }.flatMapErrorThrowing {
            error in
            // Nobody else closes a channel whose setup failed.
            channel.close(promise: nil)
            throw error
        }
    }

    func handle(value: Value, logger: Logger) async {
        guard case .admitted(let http) = value else { return }
        await http1.handle(value: http, logger: logger)
    }
}

/// Closes a refused connection as soon as it is registered, on its event loop: no task, no read.
private final class CloseWhenActive: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { context.close(promise: nil) }
    }

    func channelActive(context: ChannelHandlerContext) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension CloseWhenActive: Sendable {}
