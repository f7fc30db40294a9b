#if canImport(Glibc)
import Glibc
#endif
import CSystemShims
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// Sends a byte range of a file with `sendfile` (NIO `FileRegion`s), below Hummingbird.
///
/// Hummingbird 2's response bodies take only in-memory buffers: every byte would be read into user space, copied
/// to the socket, and hop between three thread groups per block, which cost 15× nginx's CPU per GiB served. Here
/// the response head and end still go through Hummingbird; the body bytes are written as `FileRegion`s straight to
/// NIO's HTTP/1 encoder (the handler below Hummingbird's HTTP-types codec), which passes them to the kernel.
///
/// Every region of the range is queued at once, in one trip to the event loop: a region is only a file offset and
/// a length, so the queue costs no memory, and the kernel takes bytes as fast as the client reads them (the
/// socket's own back-pressure). Awaiting region by region instead cost two thread hops per megabyte, which was most
/// of the serving CPU above the kernel's own.
enum FileRegionSender {
    /// Bytes per region: the stall watchdog is re-armed as each is sent.
    static let regionLength = 1 << 20

    /// False when this connection or range cannot take the sendfile path (no HTTP/1 pipeline, or offsets beyond
    /// `Int` on a 32-bit box): the caller streams buffers instead.
    static func canSend(_ range: ClosedRange<Int64>, on channel: any Channel) -> Bool {
        Int(exactly: range.upperBound + 1) != nil && channel is any SocketOptionProvider
    }

    /// Sends `range` of the file at `path`, which must still be `expectedSize` bytes long; `regionSent` runs on
    /// the event loop after each region has gone to the kernel.
    static func send(path: String, expectedSize: Int64, range: ClosedRange<Int64>, channel: any Channel,
                     regionSent: @escaping @Sendable () -> Void) async throws {
        let descriptor = mediapeer_open(path, O_RDONLY | O_CLOEXEC, 0)
        guard descriptor >= 0 else { throw SendError.cannotOpen(path: path, errno: errno) }
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
        // Closed once the last region has been sent or failed (writes complete in order, failures too).
        defer { try? handle.close() }
        // The file may have been replaced or cut since it was looked up: never send a short or different body.
        guard mediapeer_file_size(descriptor) == expectedSize else { throw SendError.changedSize(path: path) }
        let lower = Int(range.lowerBound), upper = Int(range.upperBound) + 1
        try await channel.eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
            let context: ChannelHandlerContext
            do {
                context = try channel.pipeline.syncOperations.context(handlerType: HTTP1ToHTTPServerCodec.self)
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
            var last = channel.eventLoop.makeSucceededVoidFuture()
            for offset in stride(from: lower, to: upper, by: regionLength) {
                let region = FileRegion(fileHandle: handle, readerIndex: offset, endIndex: min(offset + regionLength, upper))
                last = context.write(NIOAny(HTTPServerResponsePart.body(.fileRegion(region))))
                last.whenSuccess { regionSent() }
            }
            context.flush()
            return last
        }.get()
    }

    enum SendError: Error, CustomStringConvertible {
        case cannotOpen(path: String, errno: Int32)
        case changedSize(path: String)

        var description: String {
            switch self {
            case .cannotOpen(let path, let number): "cannot open \(path): \(String(cString: strerror(number)))"
            case .changedSize(let path): "\(path) changed size since it was indexed"
            }
        }
    }
}
