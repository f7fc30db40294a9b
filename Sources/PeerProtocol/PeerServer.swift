import HTTPService
import Hummingbird
import ServiceLifecycle
import Logging

/// What a box answers to its peers.
public protocol PeerRequestHandler: Sendable {
    func info() async throws -> PeerInfo
    /// A peer says it is shutting down. `address` is where the request came from, so a box can only say goodbye
    /// for itself.
    func peerDeparted(id: String, address: String) async
}

/// `POST /v1/goodbye`: sent by a box to the peers it knows when it stops. mDNS goodbyes alone take a second to
/// act on (RFC 6762 §10.1 has receivers keep the record one more second); this takes a round trip.
public struct Goodbye: Sendable, Codable, Equatable {
    public var id: String
    public init(id: String) { self.id = id }
}

/// The request context of the peer API: Hummingbird's basic context plus the address the request came from.
public struct PeerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address, without the IPv4-mapped prefix of a dual-stack socket.
    public let remoteIP: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteIP = source.channel.remoteAddress?.ipAddress.map { address in
            address.hasPrefix("::ffff:") && address.contains(".") ? String(address.dropFirst(7)) : address
        }
    }
}

/// The peer HTTP API (`/v1/…` on `http_port`), served to the other boxes of the home.
public enum PeerServer {
    /// Builds the server as a service for the daemon's service group. It listens on every address, IPv4 and IPv6
    /// (`::` is dual-stack on Linux), because peers reach it at whatever address mDNS gave them.
    public static func makeApplication(
        port: Int, handler: some PeerRequestHandler, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some Service {
        let router = Router(context: PeerRequestContext.self)
        router.get("/v1/info") { _, _ in try await handler.info() }
        router.post("/v1/goodbye") { request, context -> HTTPResponse.Status in
            let goodbye = try await request.decode(as: Goodbye.self, context: context)
            guard let address = context.remoteIP else { return .badRequest }
            await handler.peerDeparted(id: goodbye.id, address: address)
            return .noContent
        }
        return HTTPService(
            router: router, address: .hostname("::", port: port), serverName: "mediapeer/\(PeerProtocolVersion.current)",
            logger: logger, onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) })
    }
}

extension PeerInfo: ResponseEncodable {}
