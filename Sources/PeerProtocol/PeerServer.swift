import HTTPService
import Hummingbird
import ServiceLifecycle
import Logging

/// What a box answers to its peers.
public protocol PeerRequestHandler: Sendable {
    func info() async throws -> PeerInfo
}

/// The peer HTTP API (`/v1/…` on `http_port`), served to the other boxes of the home.
public enum PeerServer {
    /// Builds the server as a service for the daemon's service group. It listens on every address, IPv4 and IPv6
    /// (`::` is dual-stack on Linux), because peers reach it at whatever address mDNS gave them.
    public static func makeApplication(
        port: Int, handler: some PeerRequestHandler, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some Service {
        let router = Router()
        router.get("/v1/info") { _, _ in try await handler.info() }
        return HTTPService(
            router: router, address: .hostname("::", port: port), serverName: "mediapeer/\(PeerProtocolVersion.current)",
            logger: logger, onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) })
    }
}

extension PeerInfo: ResponseEncodable {}
