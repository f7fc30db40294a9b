import HTTPService
import HTTPTypes
import Hummingbird
import MediaServer
import NIOCore

/// Hands every request under `/upnp/` to the MediaServer as a ``UPnPRequest``, and its ``UPnPAnswer`` back.
///
/// The body is collected up to the MediaServer's `maxRequestBodyBytes`; a larger one (by its `Content-Length`, or
/// once that many bytes arrived) is never collected further: the connection is closed after the answer, which is
/// the MediaServer's SOAP fault for a control request (control points show a fault, not an HTTP error) and 413 for
/// anything else, and lingers until the client stops sending (``LingeringClose``), so that the client reads the
/// answer instead of a reset.
struct UPnPForwarder: RouterMiddleware {
    typealias Context = PlayerRequestContext
    static let prefix = "/upnp/"

    let responder: (any UPnPResponding)?

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.uri.path.hasPrefix(Self.prefix) else { return try await next(request, context) }
        guard let responder else { throw HTTPError(.notFound, message: "DLNA is off on this box (dlna = false)") }
        let limit = responder.maxRequestBodyBytes
        if let declared = request.headers[.contentLength].flatMap(Int64.init), declared > Int64(limit) {
            return Self.tooLarge(request, context: context, responder: responder)
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            return Self.tooLarge(request, context: context, responder: responder)
        }
        let answer = await responder.respond(to: Self.upnpRequest(request, body: Array(buffer: body), context: context))
        var fields = Self.fields(answer)
        let status = HTTPResponse.Status(code: answer.status)
        if request.method == .head {
            fields[.contentLength] = String(answer.body.count)
            return Response(status: status, headers: fields)
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    private static func upnpRequest(_ request: Request, body: [UInt8], context: Context) -> UPnPRequest {
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        return UPnPRequest(
            method: request.method.rawValue, path: String(request.uri.path.dropFirst(prefix.count)),
            soapAction: headers["soapaction"], headers: headers, body: body,
            serverAddress: context.localURLHost ?? "127.0.0.1", serverPort: context.localPort ?? 0)
    }

    private static func fields(_ answer: UPnPAnswer) -> HTTPFields {
        var fields: HTTPFields = [.contentType: answer.contentType]
        for (name, value) in answer.headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        return fields
    }

    /// The MediaServer's answer to an oversized control request (a SOAP fault), else 413; then the connection
    /// closes, lingering: what is left of the body is read and dropped.
    private static func tooLarge(_ request: Request, context: Context, responder: any UPnPResponding) -> Response {
        let status: HTTPResponse.Status
        var fields: HTTPFields
        let body: [UInt8]
        if let answer = responder.answerToOversizedBody(upnpRequest(request, body: [], context: context)) {
            status = HTTPResponse.Status(code: answer.status)
            fields = Self.fields(answer)
            body = answer.body
        } else {
            status = .contentTooLarge
            fields = [.contentType: "text/plain; charset=utf-8"]
            body = Array(
                "the request body is larger than the \(responder.maxRequestBodyBytes) bytes the MediaServer accepts"
                    .utf8)
        }
        fields[.connection] = "close"
        context.channel.triggerUserOutboundEvent(LingeringClose.requested, promise: nil)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
