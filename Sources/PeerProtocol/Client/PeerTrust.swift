import AsyncHTTPClient
import BoxIdentity
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// What this box knows of other boxes' keys, and how it proves them: the TLS side of ``PeerClient``.
///
/// AsyncHTTPClient has no per-connection verification callback, so a box's certificate is learnt once by a
/// probe: a bare TLS handshake whose custom verification accepts the server only if its key has the id the probe
/// was made to reach (``PeerKeyVerification``). Requests then go through AsyncHTTPClient with that certificate as
/// the only trust root (and no host name check): a server is accepted only if it proves the same key, at any
/// address. The certificates are kept by id, at most ``capacity`` of them; a request whose handshake fails forgets
/// the id's certificate, so the next one probes again.
public final class PeerTrust: Sendable {
    public let identity: BoxIdentity
    private let probeContext: NIOSSLContext
    private let known: NIOLockedValueBox<[String: NIOSSLCertificate]>
    /// Why this box does not talk to a peer (nil: it does): a box in a household talks only to its members.
    private let refusal: @Sendable (String) -> String?
    /// Boxes whose certificates are kept: far more than the 64 neighbours a box follows, for the referrals of
    /// locate answers too.
    static var capacity: Int { 256 }

    /// - Parameter refusal: why requests to the box of an id are not made at all (a box in a household makes none
    ///   to boxes outside it); nil lets every box be reached.
    public init(identity: BoxIdentity, refusal: @escaping @Sendable (String) -> String? = { _ in nil }) throws {
        self.identity = identity
        self.refusal = refusal
        probeContext = try NIOSSLContext(configuration: identity.clientTLSConfiguration(trusting: nil))
        known = NIOLockedValueBox([:])
    }

    /// The TLS configuration of a request to `peer`, and the id the peer proved: its certificate is probed first
    /// unless already known. With `learning`, whoever answers is accepted and the id is that of its key (a static
    /// peer not yet identified); otherwise `peer.peerID` must be a well-formed id and the key must have it.
    ///
    /// With `restricted` (every request but the few of pairing and households), a box whose id ``refusal`` refuses
    /// is not reached: before a connection when its id is known, after the probe when it is learnt.
    func configuration(
        for peer: PeerEndpoint, learning: Bool, timeout: TimeAmount, restricted: Bool = true
    ) async throws(PeerClientError) -> (TLSConfiguration, provenID: String) {
        if restricted, !learning, let reason = refusal(peer.peerID) {
            throw .refusedHere(peer: peer.description, reason: reason)
        }
        let expected: String?
        if learning {
            expected = nil
        } else {
            guard PeerKeyID.isWellFormed(peer.peerID) else {
                throw .unproven(peer: peer.description, reason: "no peer id to check its key against")
            }
            expected = peer.peerID
        }
        let certificate: NIOSSLCertificate
        let id: String
        if let expected, let cached = known.withLockedValue({ $0[expected] }) {
            (certificate, id) = (cached, expected)
        } else {
            (certificate, id) = try await probe(host: peer.host, port: peer.port, expecting: expected, timeout: timeout)
            known.withLockedValue { known in
                if known[id] == nil, known.count >= Self.capacity, let evicted = known.keys.first {
                    known[evicted] = nil
                }
                known[id] = certificate
            }
        }
        if restricted, learning, let reason = refusal(id) {
            throw .refusedHere(peer: peer.description, reason: reason)
        }
        do {
            return (try identity.clientTLSConfiguration(trusting: certificate), id)
        } catch {
            throw .unproven(peer: peer.description, reason: "cannot set up TLS: \(error)")
        }
    }

    /// Forgets what was learnt of `id`'s certificate (a handshake with it failed).
    func forget(_ id: String) {
        _ = known.withLockedValue { $0.removeValue(forKey: id) }
    }

    /// Connects to `host`:`port`, makes a TLS handshake presenting this box's certificate, and returns the
    /// server's certificate and id if its key has the id `expected` (any id when nil).
    func probe(
        host: String, port: Int, expecting expected: String?, timeout: TimeAmount
    ) async throws(PeerClientError) -> (NIOSSLCertificate, String) {
        let decision = NIOLockedValueBox<Result<String, PeerKeyRejection>?>(nil)
        let peer = "\(host) port \(port)"
        do {
            let context = probeContext
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let verify = BoxIdentity.verification(expecting: expected) { result in
                            decision.withLockedValue { $0 = result }
                        }
                        try channel.pipeline.syncOperations.addHandlers(
                            NIOSSLClientHandler(
                                context: context, serverHostname: nil, customVerificationCallback: verify),
                            HandshakeWaiter(promise: channel.eventLoop.makePromise()))
                    }
                }
                .connect(host: host, port: port).get()
            defer { channel.close(promise: nil) }
            let waiter = try await channel.pipeline.handler(type: HandshakeWaiter.self).get()
            let deadline = channel.eventLoop.scheduleTask(in: timeout) {
                waiter.promise.fail(ProbeTimeout())
            }
            defer { deadline.cancel() }
            try await waiter.promise.futureResult.get()
            guard let certificate = try await channel.nioSSL_peerCertificate().get(),
                case .success(let id)? = decision.withLockedValue({ $0 })
            else {
                throw PeerClientError.unproven(peer: peer, reason: "the handshake ended without a verified key")
            }
            return (certificate, id)
        } catch let error as PeerClientError {
            throw error
        } catch {
            if case .failure(let rejection)? = decision.withLockedValue({ $0 }) {
                throw .unproven(peer: peer, reason: "\(rejection)")
            }
            throw .unreachable(peer: peer, reason: "TLS probe: \(error)")
        }
    }

    private struct ProbeTimeout: Error, CustomStringConvertible {
        var description: String { "no TLS handshake within the deadline" }
    }
}

/// Completes its promise when the TLS handshake has completed, and fails it when the connection errs, closes or
/// never opens first (a promise completed twice keeps its first result).
private final class HandshakeWaiter: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny
    let promise: EventLoopPromise<Void>

    init(promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted? = event as? TLSUserEvent { promise.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
        context.fireChannelInactive()
    }

    /// A connection that never became active (refused) goes without `channelInactive`: the promise must not
    /// outlive it unfulfilled.
    func handlerRemoved(context: ChannelHandlerContext) {
        promise.fail(ChannelError.ioOnClosedChannel)
    }
}
