import BoxIdentity
import ContentID
import Foundation
import HTTPService
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import PeerWire
import ServiceLifecycle
import WireVocabulary

/// What a box answers to its peers. The server validates and bounds every request; the handler decides.
public protocol PeerRequestHandler: Sendable {
    func info() async throws -> PeerInfo
    /// A peer says it is shutting down. Over TLS (every box's peer API) it is called only when the connection
    /// proved the key of `id`; `address` is where the request came from, so a box can only say goodbye for itself.
    func peerDeparted(id: String, address: String) async
    /// This box's catalog entries after (`since`, `after`), at most `limit`.
    func catalog(since: Int64, after: ContentID?, limit: Int) async throws -> CatalogDelta
    /// The manifest of an object this box holds, wholly or in part.
    func manifest(of id: ContentID) async throws -> ChunkManifest?
    /// The file behind an object, if this box holds any of it.
    func servableObject(_ id: ContentID) async throws -> ServableObject?
    /// Who holds an object: this box, the neighbours whose catalogs list it, or (when none) what its own
    /// neighbours answer, `ttl` hops further. `askedBy` is the address of the asking box.
    func locate(_ id: ContentID, ttl: Int, queryID: String, askedBy: String?) async throws -> LocateAnswer
    /// This box's demand digest: the titles most in demand here.
    func demand() async throws -> DemandDigest
    /// A box at `address` asked for the bytes of an object this box holds (a `GET` of `/v1/objects/ID`, any range):
    /// counted as demand served, once per asking box and title within a window.
    func objectRequested(_ id: ContentID, by address: String?) async
}

/// The household side of the peer API (`docs/PROTOCOL.md`, "Households"). `peer` is always the id the connection
/// proved over TLS.
public protocol PeerHouseholdHandler: Sendable {
    /// Why the box that proved `peerID` gets nothing from this box's peer API (nil: it is answered): in a
    /// household, a box outside it. Nil `peerID`: a connection without TLS (tests only).
    func refusal(of peerID: String?) async -> String?
    func pairingHello(_ hello: PairingHello, from joiner: String) async throws -> PairingChallenge
    func pairingProof(_ proof: PairingProof, from joiner: String) async throws -> PairingWelcome
    /// The roster, for a member or a box it records as removed; any other box is refused (403).
    func roster(for peer: String) async throws -> RosterDocument
    func rosterPushed(_ roster: RosterDocument, by peer: String) async throws
    func removalNotice(_ notice: RemovalNotice, from peer: String) async throws
}

extension PeerRequestHandler {
    /// No figures: answered 404, as a box from before demand digests does.
    public func demand() async throws -> DemandDigest {
        throw HTTPError(.notFound, message: "no demand figures here")
    }

    public func objectRequested(_ id: ContentID, by address: String?) async {}
}

/// The request context of the peer API: Hummingbird's basic context plus the address the request came from.
public struct PeerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address, without the IPv4-mapped prefix of a dual-stack socket.
    public let remoteIP: String?
    /// The connection, so that a transfer to a client that stopped reading can be cut off.
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
        remoteIP = source.channel.remoteAddress?.clientIP
    }

    /// The peer id the client proved over TLS: the id of the key its certificate carries, whose private key the
    /// TLS 1.3 handshake made it use. Nil on a connection without TLS (a test's plain server).
    public func provenPeerID() async -> String? {
        guard let certificate = try? await channel.nioSSL_peerCertificate().get() else { return nil }
        return try? PeerKeyVerification.verify(leaf: certificate.toDERBytes(), expecting: nil).get()
    }

    /// Requests here carry no bodies but a goodbye's few bytes.
    public var maxUploadSize: Int { 4096 }
}

/// The peer HTTP API (`/v1/…` on `http_port`), served to the other boxes of the home. `docs/PROTOCOL.md` is its
/// specification.
public enum PeerServer {
    /// Builds the server as a service for the daemon's service group. It listens on every address, IPv4 and IPv6
    /// (dual-stack, or IPv4 alone on a kernel without IPv6: see `WildcardListening`), because peers reach it at
    /// whatever address mDNS gave them, and addresses come and go with DHCP and the links.
    ///
    /// - Parameter identity: the box's identity: every connection is then mutual TLS 1.3 with it (a client
    ///   without a certificate fails the handshake; any client key is accepted, and the handlers learn its id from
    ///   ``PeerRequestContext/provenPeerID()``). Nil serves plain HTTP, for tests only.
    public static func makeApplication(
        port: Int, handler: some PeerRequestHandler, identity: BoxIdentity?, logger: Logger,
        limits: UploadLimits = .init(), faults: ServingFaults = .none,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some Service {
        let tls = try identity.map { try NIOSSLContext(configuration: $0.serverTLSConfiguration()) }
        return HTTPService(
            router: makeRouter(handler: handler, limits: limits, faults: faults, logger: logger),
            address: .everyAddress(port: port), purpose: "peer API",
            serverName: "mediapeer/\(PeerProtocolVersion.current)",
            // A client that keeps a connection open without asking anything is let go after 30 s.
            idleTimeout: .seconds(30),
            limits: HTTPServiceLimits(
                maxConnections: PeerLimits.maxConnections,
                maxConnectionsPerAddress: PeerLimits.maxConnectionsPerAddress,
                requestDeadline: PeerLimits.requestDeadline),
            logger: logger,
            prepareConnection: tls.map(tlsPreparation),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) })
    }

    /// - Parameter locateLimiter: locates per source address (``PeerLimits/locatesPerSecond``, burst
    ///   ``PeerLimits/locateBurst``); each costs this box catalog reads and possibly queries to every neighbour.
    /// Puts TLS in front of a connection's HTTP: any client key is accepted here, and the handlers read the
    /// client's id from it.
    private static func tlsPreparation(_ context: NIOSSLContext) -> HTTPConnectionPreparation {
        { channel in
            let verify = BoxIdentity.verification(expecting: nil, decided: { _ in })
            try channel.pipeline.syncOperations.addHandler(
                NIOSSLServerHandler(context: context, customVerificationCallback: verify))
        }
    }

    static func makeRouter(
        handler: some PeerRequestHandler, limits: UploadLimits, faults: ServingFaults, logger: Logger,
        locateLimiter: SourceRateLimiter = SourceRateLimiter()
    ) -> Router<PeerRequestContext> {
        let router = Router(context: PeerRequestContext.self)
        let households = handler as? any PeerHouseholdHandler
        if let households {
            router.middlewares.add(HouseholdGate(households: households))
            addHouseholdRoutes(router, households)
        }
        router.get("/v1/info") { _, _ in try await handler.info() }
        router.post("/v1/goodbye") { request, context -> HTTPResponse.Status in
            let goodbye = try await request.decode(as: Goodbye.self, context: context)
            guard let address = context.remoteIP else { return .badRequest }
            // A box says goodbye only for the key it proved.
            if let proven = await context.provenPeerID(), proven != goodbye.id {
                throw HTTPError(
                    .forbidden, message: "a box can only say goodbye for itself (this connection is \(proven))")
            }
            await handler.peerDeparted(id: goodbye.id, address: address)
            return .noContent
        }
        router.get("/v1/catalog") { request, _ in
            let query = request.uri.queryParameters
            let since = try parameter(query.get("since"), name: "since", default: 0)
            let limit = try parameter(query.get("limit"), name: "limit", default: Int64(PeerLimits.catalogPageSize))
            let after: ContentID? = try query.get("after").map { text in
                guard let id = ContentID(hex: text) else {
                    throw HTTPError(.badRequest, message: "after: not a content id")
                }
                return id
            }
            return try await handler.catalog(
                since: since, after: after, limit: Int(min(max(limit, 1), Int64(PeerLimits.catalogPageSize))))
        }
        router.get("/v1/demand") { _, _ in try await handler.demand() }
        router.get("/v1/objects/:id/manifest") { _, context -> Response in
            let id = try contentID(context)
            guard let manifest = try await handler.manifest(of: id) else {
                throw HTTPError(.notFound, message: "no such object here")
            }
            return Response(
                status: .ok,
                headers: [
                    .contentType: ManifestMediaType.value, .eTag: "\"\(id.hex)\"",
                    .cacheControl: "max-age=31536000, immutable",
                ],
                body: .init(byteBuffer: ByteBuffer(bytes: manifest.serialized())))
        }
        router.get("/v1/have/:id") { _, context -> HaveMap in
            let id = try contentID(context)
            guard let object = try await handler.servableObject(id) else {
                throw HTTPError(.notFound, message: "no such object here")
            }
            return HaveMap(id: id, have: object.available)
        }
        router.get("/v1/locate/:id") { request, context -> LocateAnswer in
            // A request without a peer address (a test channel) shares one bucket.
            guard locateLimiter.admit(context.remoteIP ?? "") else {
                throw HTTPError(.tooManyRequests, headers: [.retryAfter: "1"], message: "too many locates; retry later")
            }
            let id = try contentID(context)
            let query = request.uri.queryParameters
            let ttl = try parameter(query.get("ttl"), name: "ttl", default: 2, in: 0...PeerLimits.maxLocateTTL)
            let queryID = query.get("qid") ?? QueryID.make()
            guard PeerLimits.isValidQueryID(queryID) else {
                throw HTTPError(.badRequest, message: "qid: 1 to 64 of [A-Za-z0-9_-]")
            }
            return try await handler.locate(id, ttl: ttl, queryID: queryID, askedBy: context.remoteIP)
        }
        let objects = ObjectResponder(
            handler: handler, limiter: UploadLimiter(limits: limits), faults: faults, logger: logger)
        router.get("/v1/objects/:id") { request, context in try await objects.respond(to: request, context: context) }
        router.head("/v1/objects/:id") { request, context in try await objects.respond(to: request, context: context) }
        return router
    }

    /// Pairing (open to any box that proved a key: the joiner is no member yet) and the roster's spread (members
    /// only, through ``HouseholdGate``).
    static func addHouseholdRoutes(_ router: Router<PeerRequestContext>, _ households: any PeerHouseholdHandler) {
        router.post("/v1/household/pairing/hello") { request, context -> PairingChallenge in
            let hello = try await request.decode(as: PairingHello.self, context: context)
            return try await households.pairingHello(hello, from: try await provenPeer(context))
        }
        router.post("/v1/household/pairing/proof") { request, context -> PairingWelcome in
            let proof = try await request.decode(as: PairingProof.self, context: context)
            return try await households.pairingProof(proof, from: try await provenPeer(context))
        }
        router.get("/v1/household/roster") { _, context -> RosterDocument in
            try await households.roster(for: try await provenPeer(context))
        }
        router.post("/v1/household/roster") { request, context -> HTTPResponse.Status in
            let roster: RosterDocument = try await largeBody(request)
            try await households.rosterPushed(roster, by: try await provenPeer(context))
            return .noContent
        }
        router.post("/v1/household/removed") { request, context -> HTTPResponse.Status in
            let notice: RemovalNotice = try await largeBody(request)
            try await households.removalNotice(notice, from: try await provenPeer(context))
            return .noContent
        }
    }

    private static func provenPeer(_ context: PeerRequestContext) async throws -> String {
        guard let peer = await context.provenPeerID() else {
            throw HTTPError(.forbidden, message: "households need a connection that proves a box key (mutual TLS)")
        }
        return peer
    }

    /// A roster: larger than the 4 KiB of other bodies, read up to ``PeerLimits/maxRosterBytes``.
    private static func largeBody<T: Decodable>(_ request: Request) async throws -> T {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: PeerLimits.maxRosterBytes)
        } catch {
            throw HTTPError(.contentTooLarge, message: "a roster is at most \(PeerLimits.maxRosterBytes) bytes")
        }
        do {
            return try JSONDecoder().decode(T.self, from: body)
        } catch {
            throw HTTPError(.badRequest, message: "not a roster: \(error)")
        }
    }

    /// The object id in the path: exactly 64 hex digits, so no request can name anything but content.
    static func contentID(_ context: PeerRequestContext) throws -> ContentID {
        guard let text = context.parameters.get("id"), let id = ContentID(hex: text) else {
            throw HTTPError(.badRequest, message: "not a content id (64 hex digits)")
        }
        return id
    }

    /// A whole number within `range`, checked as `Int64` before it becomes an `Int` (32 bits on armhf), so that
    /// `?ttl=2147483648` is a 400 naming the range, never a trap or a value cut to its low bits.
    private static func parameter(_ text: String?, name: String, default value: Int, in range: ClosedRange<Int>)
        throws -> Int
    {
        guard let text else { return value }
        guard let number = Int64(text), Int64(range.lowerBound) <= number, number <= Int64(range.upperBound),
            let inRange = Int(exactly: number)
        else {
            throw HTTPError(
                .badRequest, message: "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return inRange
    }

    private static func parameter(_ text: String?, name: String, default value: Int64) throws -> Int64 {
        guard let text else { return value }
        guard let number = Int64(text), number >= 0 else {
            throw HTTPError(.badRequest, message: "\(name) must be a whole number ≥ 0")
        }
        return number
    }
}

/// The media type of a serialized ``ChunkManifest``.
public enum ManifestMediaType {
    public static let value = "application/vnd.mediapeer.manifest"
}

/// Fresh query ids for locate.
public enum QueryID {
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in String(generator.next() as UInt64, radix: 36) }.joined(separator: "-")
    }
}

/// In household mode, a box outside the household gets a 403 with the reason for every request but pairing's and
/// the roster's (whose handler answers a removed box too), before any handler runs.
struct HouseholdGate: RouterMiddleware {
    typealias Context = PeerRequestContext
    let households: any PeerHouseholdHandler

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if !request.uri.path.hasPrefix("/v1/household/pairing/"),
            !(request.method == .get && request.uri.path == "/v1/household/roster"),
            let reason = await households.refusal(of: await context.provenPeerID())
        {
            throw HTTPError(.forbidden, message: reason)
        }
        return try await next(request, context)
    }
}

extension PeerInfo: ResponseEncodable {}
extension PairingChallenge: ResponseEncodable {}
extension PairingWelcome: ResponseEncodable {}
extension RosterDocument: ResponseEncodable {}
extension CatalogDelta: ResponseEncodable {}
extension HaveMap: ResponseEncodable {}
extension LocateAnswer: ResponseEncodable {}
extension DemandDigest: ResponseEncodable {}
