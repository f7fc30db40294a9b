import HTTPFiles
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Synchronization
import WireVocabulary

/// `GET`/`HEAD /media/ID[.ext]`: a title's bytes, whole or one range, with the headers players and TVs seek by.
///
/// Range handling follows RFC 9110 as players expect it: one range (first and last byte, open-ended, suffix) is
/// answered 206; a range starting past the end 416 with `Content-Range: bytes */SIZE`; a malformed header, a unit
/// other than bytes, or several ranges are ignored and the whole title sent with 200 (a server may ignore
/// `Range`, and a player that sent something odd still plays, where a 400 would stop it).
///
/// A `.file` source goes out through ``FileBodySender`` (`pread64` blocks, 64-bit offsets) like the peer API's
/// objects. A `.stream`
/// source is asked for the range, and the response head waits for its first bytes: a title nobody can provide
/// gets a 503 with the reason and `Retry-After`, never a head followed by silence. After the head, a failure can
/// only close the connection (it is logged). The stream is closed when the request ends, however it ends.
struct MediaResponder<Handler: PlayerRequestHandler>: Sendable {
    let handler: Handler
    let plays: PlayDetection
    let blockDeadline: TimeAmount
    let logger: Logger
    /// Bytes asked of a stream per read.
    static var blockLength: Int { 1 << 20 }
    /// Seconds a player is told to wait before asking again for a title nobody can provide now.
    static var retryAfterSeconds: Int { 10 }

    func respond(to request: Request, context: PlayerRequestContext) async throws -> Response {
        guard let name = context.parameters.get("id"), let id = Self.contentID(inName: name) else {
            throw HTTPError(.badRequest, message: "not a media id (64 hex digits, then an optional .extension)")
        }
        guard let title = try await handler.title(id) else {
            throw HTTPError(.notFound, message: "no title with this id in the home")
        }
        let eTag = "\"\(id.hex)\""
        var headers: HTTPFields = [.contentType: title.mimeType, .acceptRanges: "bytes", .eTag: eTag]
        DLNAHeaders.add(
            to: &headers, for: title, request: request.headers, baseURL: PlayerServer.baseURL(request, context))
        var rangeRequest = ByteRangeRequest(header: request.headers[.range], size: title.size)
        if let ifRange = request.headers[.ifRange], ifRange != eTag { rangeRequest = .whole }
        let range: ClosedRange<Int64>?
        switch rangeRequest {
        case .whole, .malformed:
            range = title.size > 0 ? 0...(title.size - 1) : nil
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(title.size)"
            headers[.contentLength] = "0"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        case .partial(let requested):
            range = requested
            headers[.contentRange] = "bytes \(requested.lowerBound)-\(requested.upperBound)/\(title.size)"
        }
        let status: HTTPResponse.Status = headers[.contentRange] == nil ? .ok : .partialContent
        guard let range else {
            headers[.contentLength] = "0"
            return Response(status: status, headers: headers)
        }
        headers[.contentLength] = String(range.upperBound - range.lowerBound + 1)
        if request.method == .head { return Response(status: status, headers: headers) }
        let client = context.remoteIP ?? "local"
        if plays.isNewPlay(from: client, for: id) { await handler.playStarted(title, client: client) }
        let source: PlayerSource
        do {
            source = try await handler.open(title)
        } catch let unavailable as PlaybackUnavailable {
            return Self.unavailable(unavailable.reason)
        }
        switch source {
        case .file(let path):
            return Response(
                status: status, headers: headers,
                body: fileBody(path: path, size: title.size, range: range, channel: context.channel))
        case .stream(let stream):
            let closer = StreamCloser(stream)
            // However the request ends, even when no body is ever written (the client left before the head).
            context.channel.closeFuture.whenComplete { _ in Task { await closer.close() } }
            await stream.want(range)
            let first: ByteBuffer
            do {
                first = try await stream.read(
                    from: range.lowerBound, maxLength: Self.readLength(from: range.lowerBound, in: range))
                guard first.readableBytes > 0 else {
                    throw PlaybackUnavailable(reason: "the stream gave no bytes at offset \(range.lowerBound)")
                }
            } catch {
                await closer.close()
                let reason = (error as? PlaybackUnavailable)?.reason ?? "\(error)"
                logger.notice(
                    "a title could not be played", metadata: ["id": "\(id.hex)", "reason": "\(reason)"])
                return Self.unavailable(reason)
            }
            return Response(
                status: status, headers: headers,
                body: streamBody(
                    closer, first: first, range: range, title: title, channel: context.channel))
        }
    }

    /// The content id in `64HEX` or `64HEX.ext` (the extension, which some players need, is ignored).
    static func contentID(inName name: String) -> ContentID? {
        let parts = name.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts[0].utf8.count == 64, parts.count == 1 || parts[1].utf8.count <= 16 else { return nil }
        return ContentID(hex: parts[0])
    }

    static func unavailable(_ reason: String) -> Response {
        Response(
            status: .serviceUnavailable,
            headers: [.contentType: "text/plain; charset=utf-8", .retryAfter: String(retryAfterSeconds)],
            body: .init(byteBuffer: ByteBuffer(string: "cannot play this title now: \(reason)\n")))
    }

    private static func readLength(from offset: Int64, in range: ClosedRange<Int64>) -> Int {
        bytesLeft(from: offset, in: range, atMost: blockLength)
    }

    /// The bytes of `range` from `offset` on, at most `limit`. No sum is formed that could pass `Int64.max`, and
    /// the result is narrowed only once it is known to be at most `limit`.
    static func bytesLeft(from offset: Int64, in range: ClosedRange<Int64>, atMost limit: Int) -> Int {
        precondition(range.contains(offset) && limit >= 0)
        let beyondOffset = range.upperBound - offset
        guard beyondOffset < Int64(limit) else { return limit }
        return Int(exactly: beyondOffset + 1) ?? limit
    }

    private func fileBody(path: String, size: Int64, range: ClosedRange<Int64>, channel: any Channel) -> ResponseBody {
        let deadline = blockDeadline
        return ResponseBody(contentLength: Int(exactly: range.upperBound - range.lowerBound + 1)) { writer in
            let watchdog = StallWatchdog(channel: channel, deadline: deadline)
            defer { watchdog.stop() }
            watchdog.arm()
            try await FileBodySender.send(
                path: path, expectedSize: size, range: range, channel: channel, blockSent: { watchdog.arm() },
                elsewhere: { try await writer.write($0) })
            try await writer.finish(nil)
        }
    }

    private func streamBody(
        _ closer: StreamCloser, first: ByteBuffer, range: ClosedRange<Int64>, title: PlayableTitle,
        channel: any Channel
    ) -> ResponseBody {
        let deadline = blockDeadline
        let logger = self.logger
        return ResponseBody(contentLength: Int(exactly: range.upperBound - range.lowerBound + 1)) { writer in
            let watchdog = StallWatchdog(channel: channel, deadline: deadline)
            defer { watchdog.stop() }
            var offset = range.lowerBound
            var block = first
            do {
                while true {
                    // Never more than the range, whatever the stream handed over.
                    let wanted = Self.bytesLeft(from: offset, in: range, atMost: block.readableBytes)
                    let slice = block.readSlice(length: wanted)!
                    // Only a write that does not complete is the client's stall; waiting for the stream's next
                    // bytes is bounded by the stream itself.
                    watchdog.arm()
                    try await writer.write(slice)
                    watchdog.stop()
                    offset += Int64(wanted)
                    guard offset <= range.upperBound else { break }
                    block = try await closer.stream.read(
                        from: offset, maxLength: Self.readLength(from: offset, in: range))
                    guard block.readableBytes > 0 else {
                        throw PlaybackUnavailable(reason: "the stream gave no bytes at offset \(offset)")
                    }
                }
                await closer.close()
            } catch {
                await closer.close()
                logger.notice(
                    "a play was cut off after its response began",
                    metadata: [
                        "id": "\(title.id.hex)", "offset": "\(offset)",
                        "reason": "\((error as? PlaybackUnavailable)?.reason ?? "\(error)")",
                    ])
                throw error
            }
            try await writer.finish(nil)
        }
    }
}

/// Closes a player stream once, from whichever of the request's ends comes first.
final class StreamCloser: Sendable {
    let stream: any PlayerByteStream
    private let open = Mutex(true)

    init(_ stream: any PlayerByteStream) {
        self.stream = stream
    }

    func close() async {
        let wasOpen = open.withLock { open in
            defer { open = false }
            return open
        }
        if wasOpen { await stream.close() }
    }
}
