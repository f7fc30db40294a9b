import HTTPTypes
import Hummingbird
import MediaServer
import NIOCore

/// Hands every request under `/upnp/` to the MediaServer as a ``UPnPRequest``, and its ``UPnPAnswer`` back.
///
/// The body is collected up to the MediaServer's `maxRequestBodyBytes`; a larger one (by its `Content-Length`, or
/// once that many bytes arrived) is answered 413 and the connection closed, so the rest is never read.
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
            return Self.tooLarge(limit: limit, channel: context.channel)
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            return Self.tooLarge(limit: limit, channel: context.channel)
        }
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        let upnpRequest = UPnPRequest(
            method: request.method.rawValue, path: String(request.uri.path.dropFirst(Self.prefix.count)),
            soapAction: headers["soapaction"], headers: headers, body: Array(buffer: body),
            serverAddress: context.localURLHost ?? "127.0.0.1", serverPort: context.localPort ?? 0)
        let answer = await responder.respond(to: upnpRequest)
        var fields: HTTPFields = [.contentType: answer.contentType]
        for (name, value) in answer.headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        let status = HTTPResponse.Status(code: answer.status)
        if request.method == .head {
            fields[.contentLength] = String(answer.body.count)
            return Response(status: status, headers: fields)
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    /// 413, then the connection's input is closed: what is left of the body is never read.
    private static func tooLarge(limit: Int, channel: any Channel) -> Response {
        let message = "the request body is larger than the \(limit) bytes the MediaServer accepts"
        return Response(
            status: .contentTooLarge, headers: [.contentType: "text/plain; charset=utf-8", .connection: "close"],
            body: ResponseBody(contentLength: message.utf8.count) { writer in
                try await writer.write(ByteBuffer(string: message))
                try await writer.finish(nil)
                channel.close(mode: .input, promise: nil)
            })
    }
}
