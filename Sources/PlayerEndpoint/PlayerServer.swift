import HTTPService
import Hummingbird
import HummingbirdCore
import Logging
import MediaServer
import NIOCore
import ServiceLifecycle
import WireVocabulary

/// What the player endpoint lets clients hold. Players open several connections per play (a TV probes, seeks and
/// reconnects), fewer than a fetching box would.
public struct PlayerLimits: Sendable, Equatable {
    public var maxConnections = 64
    public var maxConnectionsPerAddress = 16
    /// How long a request's head (and, under `/upnp/`, its body) may take to arrive.
    public var requestDeadline: Duration = .seconds(10)
    /// Entries of a playlist at most.
    public var playlistEntries = 10_000
    /// A client that takes longer than this to accept one block (1 MiB of a file, a chunk of a stream) is cut off.
    public var blockDeadline: TimeAmount = .seconds(30)
    /// How long a client must leave a title alone before its next request counts as a new play.
    public var playQuietPeriod: Duration = .seconds(300)
    /// (client, title) pairs remembered for play detection at most.
    public var rememberedPlays = 1024

    public init() {}
}

/// The request context of the player endpoint: Hummingbird's basic context plus the connection's addresses.
public struct PlayerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's IP address, without the IPv4-mapped prefix of a dual-stack socket.
    public let remoteIP: String?
    /// The connection: file blocks are written below Hummingbird's codec, the stall watchdog closes it.
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
        remoteIP = source.channel.remoteAddress?.clientIP
    }

    /// Bodies are read only under `/upnp/`, bounded there by the MediaServer's own limit.
    public var maxUploadSize: Int { 1 << 20 }

    /// The address the request arrived on, as a URL host (IPv6 in brackets, IPv4-mapped unwrapped).
    var localURLHost: String? { channel.localAddress?.ipAddress.map(RequestAuthority.urlHost(ofIP:)) }
    /// The port the request arrived on.
    var localPort: Int? { channel.localAddress?.port }
}

/// What players reach (`player_port`, plain HTTP even once the peer API is not): `GET`/`HEAD /media/ID[.ext]`,
/// `/playlist.m3u8`, `/thumbnails/ID.jpg`, and the UPnP MediaServer's requests under `/upnp/`.
///
/// Players cannot authenticate, so two things keep a box's titles in its home: only clients from the allowed
/// networks are answered (decided when they connect; others get a 403 saying so), and nothing here changes the
/// box's state beyond counting a play.
public enum PlayerServer {
    /// Which clients are answered: those `allowsClient` allows (IPv4-mapped addresses unwrapped), asked once per
    /// connection (`allowed_networks`, which a reload may change while listening; the reload then closes the open
    /// connections it no longer allows, ``ClientRefusal/closeConnectionsRefusedNow()``). A client on this box itself
    /// is always answered: see ``isThisBox(clientIP:serverIP:)``.
    public static func makeRefusal(allowsClient: @escaping @Sendable (_ clientIP: String) -> Bool) -> ClientRefusal {
        ClientRefusal { clientIP, serverIP in
            isThisBox(clientIP: clientIP, serverIP: serverIP) || allowsClient(clientIP) ? nil : refusalReason(clientIP)
        }
    }

    /// Builds the server as a service for the daemon's service group, listening on `host` (nil: every address,
    /// IPv4 and IPv6, as `WildcardListening` binds it: TVs reach the box at whatever address SSDP gave them, on
    /// every interface).
    ///
    /// - parameter upnp: answers `/upnp/` (nil when DLNA is off: 404 there).
    /// - parameter refusal: which clients are answered (``makeRefusal(allowsClient:)``).
    /// - parameter clock: what play detection measures quiet periods on.
    public static func makeApplication(
        host: String? = nil, port: Int, handler: some PlayerRequestHandler, upnp: (any UPnPResponding)?,
        refusal: ClientRefusal, logger: Logger,
        limits: PlayerLimits = PlayerLimits(), clock: any Clock<Duration> = ContinuousClock(),
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some Service {
        HTTPService(
            router: makeRouter(handler: handler, upnp: upnp, limits: limits, clock: clock, logger: logger),
            address: host.map { .hostname($0, port: port) } ?? .everyAddress(port: port), purpose: "player endpoint",
            serverName: "mediapeer",
            // A TV keeps its connection between seeks; one silent for a minute is let go.
            idleTimeout: .seconds(60),
            limits: HTTPServiceLimits(
                maxConnections: limits.maxConnections, maxConnectionsPerAddress: limits.maxConnectionsPerAddress,
                requestDeadline: limits.requestDeadline),
            refusal: refusal,
            logger: logger,
            // An oversized UPnP request is answered before its body is read (UPnPForwarder).
            prepareConnection: { channel in try channel.pipeline.syncOperations.addHandler(LingeringClose()) },
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) })
    }

    /// Whether a connection comes from this box itself: its client's address is the one it connected to, as for
    /// `mediapeerctl play`, whose URL names the box's LAN address, and a player running on the box. No other
    /// device can open a TCP connection from an address of this box (the handshake's answer would not reach it),
    /// and whoever runs programs here can read the media folders anyway.
    static func isThisBox(clientIP: String, serverIP: String?) -> Bool {
        clientIP == serverIP
    }

    /// The body of the 403 a client outside the allowed networks gets: what a person setting up a TV needs to know.
    static func refusalReason(_ clientIP: String) -> String {
        "this box answers players only on the networks in its allowed_networks setting, and \(clientIP) is not in "
            + "them (see docs/SECURITY.md)"
    }

    static func makeRouter(
        handler: some PlayerRequestHandler, upnp: (any UPnPResponding)?, limits: PlayerLimits,
        clock: any Clock<Duration>, logger: Logger
    ) -> Router<PlayerRequestContext> {
        let router = Router(context: PlayerRequestContext.self)
        // A middleware rather than routes: every method (GET, POST, SUBSCRIBE, …) under /upnp/ goes to the
        // MediaServer, which knows which it answers.
        router.add(middleware: UPnPForwarder(responder: upnp))
        let media = MediaResponder(
            handler: handler,
            plays: PlayDetection(
                PlayDetector(quietPeriod: limits.playQuietPeriod, capacity: limits.rememberedPlays), clock: clock),
            blockDeadline: limits.blockDeadline, logger: logger)
        router.get("/media/:id") { request, context in try await media.respond(to: request, context: context) }
        router.head("/media/:id") { request, context in try await media.respond(to: request, context: context) }
        router.get("/playlist.m3u8") { request, context -> Response in
            let query = request.uri.queryParameters
            let kind: MediaKind?
            switch query.get("kind") {
            case nil, "": kind = nil
            case "video": kind = .video
            case "audio": kind = .audio
            case "photo", "image": kind = .image
            case .some: throw HTTPError(.badRequest, message: "kind must be video, audio or photo")
            }
            let words = query.get("q").flatMap { $0.allSatisfy(\.isWhitespace) ? nil : $0 }
            if let words, words.utf8.count > 256 {
                throw HTTPError(.badRequest, message: "q: at most 256 bytes of search words")
            }
            let titles = try await handler.playlist(kind: kind, words: words, limit: limits.playlistEntries)
            let text = Playlist.render(
                Array(titles.prefix(limits.playlistEntries)), baseURL: baseURL(request, context))
            return Response(
                status: .ok, headers: [.contentType: Playlist.contentType, .cacheControl: "no-cache"],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/thumbnails/:name") { _, context -> Response in
            guard let name = context.parameters.get("name"), name.hasSuffix(".jpg"),
                let id = ContentID(hex: name.dropLast(4))
            else { throw HTTPError(.badRequest, message: "not a thumbnail name (64 hex digits, then .jpg)") }
            guard let jpeg = try await handler.thumbnail(id) else {
                throw HTTPError(.notFound, message: "no thumbnail for this title")
            }
            return Response(
                status: .ok, headers: [.contentType: "image/jpeg", .cacheControl: "max-age=86400"],
                body: .init(byteBuffer: ByteBuffer(bytes: jpeg)))
        }
        return router
    }

    /// `http://HOST:PORT` for URLs given back to this client: its `Host` header when valid, else the address the
    /// request arrived on.
    static func baseURL(_ request: Request, _ context: PlayerRequestContext) -> String {
        let port = context.localPort ?? 0
        let authority =
            RequestAuthority.fromHostHeader(request.head.authority, defaultPort: port)
            ?? "\(context.localURLHost ?? "127.0.0.1"):\(port)"
        return "http://\(authority)"
    }
}
