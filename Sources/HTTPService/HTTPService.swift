import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// Runs a Hummingbird router as a service, like Hummingbird's `Application`, but without its date cache: that
/// cache refreshes a string every second for the `Date` header, a wake-up per second per server that a set-top box
/// pays for even when nobody talks to it. Here the header is formatted when a response is written, which costs a
/// few hundred nanoseconds per request and nothing while idle.
///
/// It also keeps clients within ``HTTPServiceLimits``: connections overall and per address, and a deadline for each
/// request to arrive.
public struct HTTPService<Responder: HTTPResponder>: Service
where Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
    let responder: Responder
    let address: BindAddress
    let serverName: String?
    let idleTimeout: TimeAmount?
    let limits: HTTPServiceLimits
    let refusal: ClientRefusal?
    let logger: Logger
    let prepareConnection: HTTPConnectionPreparation?
    let onServerRunning: @Sendable (any Channel) async -> Void

    /// - parameter idleTimeout: how long a connection may wait for its next request.
    /// - parameter limits: what clients can make the server hold.
    /// - parameter refusal: the clients answered with a 403 alone, judged by address when they connect; nil: none.
    /// - parameter prepareConnection: run for each admitted connection before its HTTP handlers are added.
    /// - parameter onServerRunning: called once the server accepts connections, with its listening channel.
    public init<Builder: HTTPResponderBuilder>(
        router: Builder, address: BindAddress, serverName: String? = nil, idleTimeout: TimeAmount? = nil,
        limits: HTTPServiceLimits = .none, refusal: ClientRefusal? = nil, logger: Logger,
        prepareConnection: HTTPConnectionPreparation? = nil,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) where Builder.Responder == Responder {
        self.responder = router.buildResponder()
        self.address = address
        self.serverName = serverName
        self.idleTimeout = idleTimeout
        self.limits = limits
        self.refusal = refusal
        self.logger = logger
        self.prepareConnection = prepareConnection
        self.onServerRunning = onServerRunning
    }

    public func run() async throws {
        let responder = self.responder
        let logger = self.logger
        let serverName = self.serverName
        let admission = ConnectionAdmission(limits: limits, logger: logger)
        let deadline = limits.requestDeadline
        let configuration = HTTP1Channel.Configuration(
            additionalChannelHandlers: deadline.map { deadline in
                [RequestDeadlineHandler(deadline: deadline, admission: admission)]
            } ?? [],
            idleTimeout: idleTimeout)
        let respond: HTTPChannelHandler.Responder = { (request, responseWriter: consuming ResponseWriter, channel) in
            let context = Responder.Context(source: ApplicationRequestContextSource(channel: channel, logger: logger))
            var response: Response
            do {
                response = try await responder.respond(to: request, context: context)
            } catch let error as HTTPParserError {
                throw error
            } catch {
                logger.debug("unhandled error in a request", metadata: ["error": "\(error)"])
                response = Response(status: .internalServerError)
            }
            response.headers[.date] = HTTPDate.now()
            if let serverName { response.headers[.server] = serverName }
            try await responseWriter.write(response: response.head, body: response.body)
        }
        let http1 = HTTP1Channel(responder: respond, configuration: configuration)
        let server = LimitedHTTP1Channel(
            http1: http1, admission: admission, prepare: prepareConnection, refusal: refusal,
            refusalDeadline: TimeAmount(deadline ?? .seconds(10))
        ).server(
            configuration: ServerConfiguration(address: address, serverName: serverName),
            onServerRunning: onServerRunning, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger)
        try await server.run()
    }
}

/// Adds handlers in front of an admitted connection's HTTP handlers (the peer API's TLS), on its event loop; a
/// throw closes the connection.
public typealias HTTPConnectionPreparation = @Sendable (any Channel) throws -> Void

/// IMF-fixdate (RFC 9110), always in English and GMT.
enum HTTPDate {
    static func now() -> String {
        var seconds = time(nil)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let text = String(
            format: "%@, %02d %@ %04d %02d:%02d:%02d GMT", days[Int(parts.tm_wday)], parts.tm_mday,
            months[Int(parts.tm_mon)], parts.tm_year + 1900, parts.tm_hour, parts.tm_min, parts.tm_sec)
        return text
    }
}
