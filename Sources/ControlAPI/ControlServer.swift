import ControlWire
import Foundation
import HTTPService
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import WireVocabulary

/// What the daemon answers to the control API. The server only routes and validates; the daemon decides.
public protocol ControlHandler: Sendable {
    func status() async throws -> DaemonStatus
    func list(kind: MediaKind?, limit: Int, offset: Int) async throws -> LibraryPage
    func search(_ text: String, kind: MediaKind?, limit: Int) async throws -> LibraryPage
    func item(_ reference: String) async throws -> MediaItem?
    func requestScan() async throws -> ScanTicket
    func peers() async throws -> PeerList
    /// Objects anywhere in the home (this box and its online neighbours).
    func listHome(kind: MediaKind?, limit: Int, offset: Int) async throws -> HomePage
    func searchHome(_ text: String, kind: MediaKind?, limit: Int) async throws -> HomePage
    /// Starts fetching an object named by content id, content-id prefix or title.
    func fetch(_ reference: String) async throws -> FetchProgress
    func fetchProgress(_ id: ContentID) async throws -> FetchProgress?
    func fetches() async throws -> FetchList
    /// Cancels the unfinished fetch named by content id, content-id prefix or title: stops it, deletes its partial
    /// file and its record.
    func cancelFetch(_ reference: String) async throws -> FetchCancellation
    /// The player URL of the title named by content id, content-id prefix or title, anywhere in the home; `host`
    /// replaces this box's LAN address in it.
    func url(for reference: String, host: String?) async throws -> TitleURL
    /// The titles most in demand in the home, at most `limit` (nil: every title with demand).
    func popular(limit: Int?) async throws -> PopularList
    /// The cache's contents, quota, watermarks and today's writes.
    func cache() async throws -> CacheReport
    /// Removes the replica named by content id, content-id prefix or title from the cache; `force` also removes one
    /// a player or a neighbour read lately.
    func evict(_ reference: String, force: Bool) async throws -> CacheEviction
    /// Pins the title named by content id, content-id prefix or title in the cache, fetching it if needed.
    func pin(_ reference: String) async throws -> PinChange
    /// Unpins the title named by content id, content-id prefix or title.
    func unpin(_ reference: String) async throws -> PinChange
    /// How the control API should answer an error a request ended with, when it is not a fault (logged and answered
    /// 500) but something the user can act on: a busy index is worth asking again. Nil: a fault.
    func refusal(for error: any Error) -> ControlRefusal?
}

extension ControlHandler {
    public func refusal(for error: any Error) -> ControlRefusal? { nil }
}

/// The household side of the control API (`mediapeerctl pair`, `join`, `household`, `leave`).
public protocol HouseholdControlHandler: Sendable {
    func household() async throws -> HouseholdReport
    func pair() async throws -> PairingCodeAnswer
    func join(code: String) async throws -> HouseholdReport
    func removeFromHousehold(_ box: String) async throws -> HouseholdReport
    func leaveHousehold() async throws -> HouseholdReport
}

/// The control API server: Hummingbird on a Unix socket.
public enum ControlServer {
    /// Bounds of its own, apart from the peer API's, so that peers can never take the connections the CLI needs.
    /// The socket's clients are local and few (mediapeerctl opens one connection per command).
    static let limits = HTTPServiceLimits(maxConnections: 64, requestDeadline: .seconds(10))

    /// Builds the server as a ``Service`` for the daemon's service group.
    ///
    /// - parameter onListening: called once the socket accepts connections (systemd's READY comes after it).
    public static func makeApplication(
        socketPath: String, handler: some ControlHandler, logger: Logger,
        onListening: @escaping @Sendable () async -> Void = {}
    ) throws(ControlSocketError) -> some Service {
        try ControlSocket.prepare(path: socketPath)
        return HTTPService(
            router: makeRouter(handler: handler, logger: logger), address: .unixDomainSocket(path: socketPath),
            limits: limits, logger: logger,
            onServerRunning: { _ in
                // 0660: the daemon's user and the `mediapeer` group may talk to it, nobody else.
                chmod(socketPath, 0o660)
                if let group = getgrnam("mediapeer") { chown(socketPath, getuid(), group.pointee.gr_gid) }
                await onListening()
            })
    }

    /// The routes: each validates its parameters (a client mistake is a 400 that says what to send instead), asks
    /// `handler`, and encodes the answer as JSON; the handler's ``ControlRefusal``s keep their status and message.
    public static func makeRouter(handler: some ControlHandler, logger: Logger) -> Router<BasicRequestContext> {
        let router = Router()
        router.middlewares.add(ErrorLoggingMiddleware(logger: logger, classify: { handler.refusal(for: $0) }))
        router.get(RouterPath(ControlRoute.status)) { _, _ in try await handler.status() }
        router.get(RouterPath(ControlRoute.library)) { request, context in
            let query = request.uri.queryParameters
            return try await handler.list(
                kind: try kind(query.get("kind")),
                limit: try bounded(query.get("limit"), name: "limit", default: 100, max: 10_000),
                offset: try bounded(query.get("offset"), name: "offset", default: 0, max: Int(Int32.max)))
        }
        router.get(RouterPath(ControlRoute.search)) { request, _ in
            let query = request.uri.queryParameters
            let text = try searchText(query.get("q"))
            return try await handler.search(
                text, kind: try kind(query.get("kind")),
                limit: try bounded(query.get("limit"), name: "limit", default: 100, max: 10_000))
        }
        router.get(RouterPath(ControlRoute.items + "/:reference")) { _, context in
            let reference = try context.parameters.require("reference")
            guard let item = try await handler.item(reference) else {
                throw HTTPError(
                    .notFound,
                    message: "no media item \(reference) (use a numeric id or a content id of at least 8 hex digits)")
            }
            return item
        }
        router.post(RouterPath(ControlRoute.scan)) { _, _ in try await handler.requestScan() }
        router.get(RouterPath(ControlRoute.peers)) { _, _ in try await handler.peers() }
        router.get(RouterPath(ControlRoute.home)) { request, _ in
            let query = request.uri.queryParameters
            return try await handler.listHome(
                kind: try kind(query.get("kind")),
                limit: try bounded(query.get("limit"), name: "limit", default: 100, max: 10_000),
                offset: try bounded(query.get("offset"), name: "offset", default: 0, max: Int(Int32.max)))
        }
        router.get(RouterPath(ControlRoute.homeSearch)) { request, _ in
            let query = request.uri.queryParameters
            let text = try searchText(query.get("q"))
            return try await handler.searchHome(
                text, kind: try kind(query.get("kind")),
                limit: try bounded(query.get("limit"), name: "limit", default: 100, max: 10_000))
        }
        router.post(RouterPath(ControlRoute.fetches)) { request, context in
            try await handler.fetch(try await fetchReference(request, context))
        }
        router.post(RouterPath(ControlRoute.fetchCancellation)) { request, context in
            try await handler.cancelFetch(try await fetchReference(request, context))
        }
        router.get(RouterPath(ControlRoute.fetches)) { _, _ in try await handler.fetches() }
        router.get(RouterPath(ControlRoute.urls)) { request, _ in
            let query = request.uri.queryParameters
            return try await handler.url(
                for: try reference(query.get("reference")), host: try host(query.get("host")))
        }
        router.get(RouterPath(ControlRoute.popular)) { request, _ in
            let query = request.uri.queryParameters
            let all = try flag(query.get("all"), name: "all")
            return try await handler.popular(
                limit: all ? nil : try bounded(query.get("limit"), name: "limit", default: 20, max: 10_000))
        }
        router.get(RouterPath(ControlRoute.cache)) { _, _ in try await handler.cache() }
        router.post(RouterPath(ControlRoute.cacheEviction)) { request, context in
            let body = try await request.decode(as: EvictRequest.self, context: context)
            return try await handler.evict(try reference(body.reference), force: body.force)
        }
        router.post(RouterPath(ControlRoute.pins)) { request, context in
            try await handler.pin(try await fetchReference(request, context))
        }
        router.post(RouterPath(ControlRoute.pinRemoval)) { request, context in
            try await handler.unpin(try await fetchReference(request, context))
        }
        router.get(RouterPath(ControlRoute.fetches + "/:id")) { _, context in
            let text = try context.parameters.require("id")
            guard let id = ContentID(hex: text) else {
                throw HTTPError(.badRequest, message: "not a content id (64 hex digits)")
            }
            guard let progress = try await handler.fetchProgress(id) else {
                throw HTTPError(.notFound, message: "no fetch of \(text) since the daemon started")
            }
            return progress
        }
        if let households = handler as? any HouseholdControlHandler { addHouseholdRoutes(router, households) }
        return router
    }

    private static func addHouseholdRoutes(
        _ router: Router<BasicRequestContext>, _ handler: any HouseholdControlHandler
    ) {
        router.get(RouterPath(HouseholdRoute.household)) { _, _ in try await handler.household() }
        router.post(RouterPath(HouseholdRoute.pair)) { _, _ in try await handler.pair() }
        router.post(RouterPath(HouseholdRoute.join)) { request, context in
            let code = try await request.decode(as: JoinRequest.self, context: context).code
            guard code.utf8.count <= 64 else {
                throw HTTPError(.badRequest, message: "a pairing code is 24 characters")
            }
            return try await handler.join(code: code)
        }
        router.post(RouterPath(HouseholdRoute.remove)) { request, context in
            let box = try await request.decode(as: HouseholdRemoveRequest.self, context: context).box
            guard !box.trimmingCharacters(in: .whitespaces).isEmpty, box.utf8.count <= 255 else {
                throw HTTPError(.badRequest, message: "name the box: its peer id, 4+ hex digits of it, or its name")
            }
            return try await handler.removeFromHousehold(box)
        }
        router.post(RouterPath(HouseholdRoute.leave)) { _, _ in try await handler.leaveHousehold() }
    }

    /// The reference of a ``FetchRequest`` body.
    private static func fetchReference(_ request: Request, _ context: BasicRequestContext) async throws -> String {
        try reference(try await request.decode(as: FetchRequest.self, context: context).reference)
    }

    /// A content id, an id prefix or title words, as the user gave them.
    private static func reference(_ text: String?) throws -> String {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty, text.utf8.count <= 512 else {
            throw HTTPError(
                .badRequest, message: "give a content id, an id prefix of 8+ hex digits, or a title (up to 512 bytes)")
        }
        return text
    }

    /// A host name or numeric address to put in a URL: letters, digits, `.`, `-`, and for IPv6 `:` and a `%zone`.
    private static func host(_ text: String?) throws -> String? {
        guard let text else { return nil }
        let allowed = text.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || [UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "%"), UInt8(ascii: "_")]
                    .contains(byte)
        }
        // A `%` starts the zone of an IPv6 address; in a name it would be a percent-escape.
        let zoneWithoutIPv6 = text.contains("%") && !text.contains(":")
        guard !text.isEmpty, text.utf8.count <= 253, allowed, !zoneWithoutIPv6, text.first != "-" else {
            throw HTTPError(
                .badRequest,
                message: "host must be a host name or a numeric address (letters, digits, . - : %), up to 253 bytes")
        }
        return text
    }

    private static func searchText(_ text: String?) throws -> String {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw HTTPError(.badRequest, message: "missing search text (q)")
        }
        guard text.utf8.count <= 512 else { throw HTTPError(.badRequest, message: "search text longer than 512 bytes") }
        return text
    }

    private static func kind(_ text: String?) throws -> MediaKind? {
        guard let text else { return nil }
        guard let kind = MediaKind(rawValue: text) else {
            throw HTTPError(.badRequest, message: "unknown kind \"\(text)\" (video, audio, image or subtitle)")
        }
        return kind
    }

    private static func flag(_ text: String?, name: String) throws -> Bool {
        switch text {
        case nil, "false"?: return false
        case "true"?: return true
        default: throw HTTPError(.badRequest, message: "\(name) must be true or false")
        }
    }

    private static func bounded(_ text: String?, name: String, default value: Int, max: Int) throws -> Int {
        guard let text else { return value }
        guard let number = Int(text), number >= 0, number <= max else {
            throw HTTPError(.badRequest, message: "\(name) must be a whole number from 0 to \(max)")
        }
        return number
    }
}

extension DaemonStatus: ResponseEncodable {}
extension LibraryPage: ResponseEncodable {}
extension MediaItem: ResponseEncodable {}
extension ScanTicket: ResponseEncodable {}
extension PeerList: ResponseEncodable {}
extension HomePage: ResponseEncodable {}
extension FetchProgress: ResponseEncodable {}
extension FetchList: ResponseEncodable {}
extension FetchCancellation: ResponseEncodable {}
extension TitleURL: ResponseEncodable {}
extension PopularList: ResponseEncodable {}
extension CacheReport: ResponseEncodable {}
extension CacheEviction: ResponseEncodable {}
extension PinChange: ResponseEncodable {}
extension HouseholdReport: ResponseEncodable {}
extension PairingCodeAnswer: ResponseEncodable {}

/// A request the daemon refuses for a reason the user can fix; the message is shown as is.
public enum ControlRefusal: Error, Equatable {
    case badRequest(String)
    case notFound(String)
    case conflict(String)
    /// Not now: the daemon is busy or stopping; asking again later may succeed.
    case unavailable(String)

    var httpError: HTTPError {
        switch self {
        case .badRequest(let message): HTTPError(.badRequest, message: message)
        case .notFound(let message): HTTPError(.notFound, message: message)
        case .conflict(let message): HTTPError(.conflict, message: message)
        case .unavailable(let message): HTTPError(.serviceUnavailable, headers: [.retryAfter: "1"], message: message)
        }
    }
}

/// Logs unexpected failures (not client mistakes) once, with the route.
struct ErrorLoggingMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger
    /// The handler's ``ControlHandler/refusal(for:)``.
    let classify: @Sendable (any Error) -> ControlRefusal?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            throw error
        } catch let refusal as ControlRefusal {
            throw refusal.httpError
        } catch let error where classify(error) != nil {
            throw (classify(error) ?? .unavailable("\(error)")).httpError
        } catch {
            logger.error("control request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            throw HTTPError(.internalServerError, message: "\(error)")
        }
    }
}
