import HTTPFiles
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import WireVocabulary
import _NIOFileSystem

/// An object this box can serve: a file and which of its chunks are good to send.
public struct ServableObject: Sendable, Equatable {
    public var id: ContentID
    /// The file to read: a media file, a complete replica, or a partial replica's `.partial` file.
    public var path: String
    public var size: Int64
    public var mimeType: String
    public var chunkSize: Int
    /// The chunks held; full unless this is a partial replica.
    public var available: ChunkBitmap

    public init(id: ContentID, path: String, size: Int64, mimeType: String, chunkSize: Int, available: ChunkBitmap) {
        self.id = id
        self.path = path
        self.size = size
        self.mimeType = mimeType
        self.chunkSize = chunkSize
        self.available = available
    }

    /// The chunks that overlap a byte range.
    func chunks(covering range: ClosedRange<Int64>) -> Range<Int> {
        Int(range.lowerBound / Int64(chunkSize))..<Int(range.upperBound / Int64(chunkSize) + 1)
    }
}

/// Test-only misbehaviour of the object server, switched on by the daemon's `MEDIAPEER_TEST_FAULTS`, so the
/// suite can check that fetching boxes survive lying peers.
public struct ServingFaults: Sendable, Equatable {
    /// Flip one byte in every block of object data sent.
    public var corruptBodies = false

    public static let none = ServingFaults()

    public init(corruptBodies: Bool = false) {
        self.corruptBodies = corruptBodies
    }
}

/// How object bytes leave the box.
///
/// The one switch point between the two ways: the peer API over TLS takes `.buffered` (sendfile cannot pass
/// through TLS, which encrypts in user space); `.sendfile` is for plain connections (tests). The buffered path is
/// the 1 MiB block reader below, until HTTPFiles' 64-bit pread sender replaces it.
enum BodyPath: Sendable {
    case sendfile
    case buffered
}

/// Serves object bytes by content id: `GET`/`HEAD /v1/objects/ID` with a single `Range`, a strong ETag (the
/// content id: the bytes can never change under it), `If-None-Match` and `If-Range`. The body goes out with
/// `sendfile` (``FileRegionSender``, below Hummingbird's codec); where that path cannot be taken (a test channel,
/// offsets beyond `Int` on a 32-bit box, the test-only corrupting fault) the file is read in 1 MiB blocks with
/// back-pressure. A file is never loaded whole.
struct ObjectResponder<Handler: PeerRequestHandler>: Sendable {
    let handler: Handler
    let limiter: UploadLimiter
    let faults: ServingFaults
    let bodies: BodyPath
    let logger: Logger
    static var blockLength: Int { 1 << 20 }

    func respond(to request: Request, context: PeerRequestContext) async throws -> Response {
        guard let text = context.parameters.get("id"), let id = ContentID(hex: text) else {
            throw HTTPError(.badRequest, message: "not a content id (64 hex digits)")
        }
        guard let object = try await handler.servableObject(id) else {
            throw HTTPError(.notFound, message: "no such object here")
        }
        let eTag = "\"\(id.hex)\""
        var headers: HTTPFields = [.eTag: eTag, .acceptRanges: "bytes", .contentType: object.mimeType]
        // If-None-Match compares weakly (RFC 9110 §13.1.2): W/"id" matches too.
        if let match = request.headers[.ifNoneMatch],
            match == "*"
                || match.split(separator: ",").contains(where: { tag in
                    let trimmed = tag.trimmingCharacters()
                    return (trimmed.hasPrefix("W/") ? String(trimmed.dropFirst(2)) : trimmed) == eTag
                })
        {
            return Response(status: .notModified, headers: headers)
        }
        var rangeRequest = ByteRangeRequest(header: request.headers[.range], size: object.size)
        if let ifRange = request.headers[.ifRange], ifRange != eTag { rangeRequest = .whole }
        let range: ClosedRange<Int64>?
        switch rangeRequest {
        case .malformed:
            throw HTTPError(.badRequest, message: "malformed Range header")
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(object.size)"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        case .whole:
            guard object.available.isComplete else {
                throw HTTPError(
                    .notFound,
                    message: "this box holds only some chunks of the object; ask /v1/have/\(id.hex) and request ranges")
            }
            range = object.size > 0 ? 0...(object.size - 1) : nil
        case .partial(let requested):
            guard object.available.containsAll(object.chunks(covering: requested)) else {
                headers[.contentRange] = "bytes */\(object.size)"
                return Response(status: .rangeNotSatisfiable, headers: headers)
            }
            range = requested
            headers[.contentRange] = "bytes \(requested.lowerBound)-\(requested.upperBound)/\(object.size)"
        }
        let status: HTTPResponse.Status = headers[.contentRange] == nil ? .ok : .partialContent
        guard let range else {
            headers[.contentLength] = "0"
            return Response(status: status, headers: headers)
        }
        if request.method == .head {
            headers[.contentLength] = String(range.upperBound - range.lowerBound + 1)
            return Response(status: status, headers: headers)
        }
        let length = range.upperBound - range.lowerBound + 1
        // Every transfer takes a slot, however short: a client that stops reading holds its connection and the
        // response's buffers as long with a small range as with a large one (the stall watchdog ends it).
        guard let slot = await limiter.acquire(client: context.remoteIP ?? "?") else {
            throw HTTPError(
                .serviceUnavailable, headers: [.retryAfter: "1"], message: "too many transfers at once; retry shortly")
        }
        headers[.contentLength] = String(length)
        await handler.objectRequested(id, by: context.remoteIP)
        return Response(
            status: status, headers: headers, body: body(of: object, range: range, slot: slot, channel: context.channel)
        )
    }

    /// A client that takes longer than this to accept one block or region (1 MiB, so slower than about 35 kB/s)
    /// is cut off: a stalled reader must not hold an upload slot forever.
    static var blockDeadline: TimeAmount { .seconds(30) }

    private func body(
        of object: ServableObject, range: ClosedRange<Int64>, slot: UploadLimiter.Slot, channel: (any Channel)? = nil
    ) -> ResponseBody {
        let faults = self.faults
        let logger = self.logger
        let sendfile = bodies == .sendfile
        // Int(exactly:): on a 32-bit box a range over 2 GiB has no Int length; the Content-Length header (set by
        // the caller from the 64-bit range) still says it.
        return ResponseBody(contentLength: Int(exactly: range.upperBound - range.lowerBound + 1)) { writer in
            defer { withExtendedLifetime(slot) {} }
            let watchdog = channel.map { StallWatchdog(channel: $0, deadline: Self.blockDeadline) }
            defer { watchdog?.stop() }
            if sendfile, let channel, let watchdog, !faults.corruptBodies, FileRegionSender.canSend(range, on: channel)
            {
                watchdog.arm()
                try await FileRegionSender.send(
                    path: object.path, expectedSize: object.size, range: range, channel: channel,
                    regionSent: { watchdog.arm() })
                try await writer.finish(nil)
                return
            }
            try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(object.path)) { handle in
                // A media file edited since it was indexed no longer holds the object: stop rather than send
                // bytes that do not match the id (the client verifies anyway, but need not waste the transfer).
                guard try await handle.info().size == object.size else {
                    logger.warning(
                        "object file changed size since it was hashed; not serving it",
                        metadata: ["path": "\(object.path)"])
                    throw HTTPError(.notFound)
                }
                for try await var block in handle.readChunks(
                    in: range.lowerBound..<(range.upperBound + 1), chunkLength: .bytes(Int64(Self.blockLength)))
                {
                    if faults.corruptBodies, block.readableBytes > 0 {
                        let index = block.readerIndex + block.readableBytes / 2
                        block.setInteger(block.getInteger(at: index, as: UInt8.self)! ^ 0xFF, at: index)
                    }
                    watchdog?.arm()
                    try await writer.write(block)
                }
            }
            try await writer.finish(nil)
        }
    }
}

extension Substring {
    func trimmingCharacters() -> String { String(self).trimmingWhitespace() }
}
