import CSystemShims
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

#if canImport(Glibc)
    import Glibc
#endif

/// Sends a byte range of a file with `sendfile` (NIO `FileRegion`s), below Hummingbird.
///
/// Hummingbird 2's response bodies take only in-memory buffers: every byte would be read into user space, copied
/// to the socket, and hop between three thread groups per block, which cost 15× nginx's CPU per GiB served. Here
/// the response head and end still go through Hummingbird; the body bytes are written as `FileRegion`s straight to
/// NIO's HTTP/1 encoder (the handler below Hummingbird's HTTP-types codec), which passes them to the kernel.
///
/// Regions are queued from the event loop itself, up to ``window`` ahead of what the kernel has taken, and topped
/// up as each goes out: the socket's own back-pressure paces them, the task awaits only the end, and a range of
/// any length holds at most ``window`` small region records. Awaiting region by region instead cost two thread
/// hops per megabyte, which was most of the serving CPU above the kernel's own.
public enum FileRegionSender {
    /// Bytes per region: the stall watchdog is re-armed as each is sent.
    public static let regionLength = 1 << 20
    /// Regions queued ahead at most.
    public static let window = 16

    /// False when this connection or range cannot take the sendfile path (no HTTP/1 pipeline, or offsets beyond
    /// `Int` on a 32-bit box): the caller streams buffers instead.
    public static func canSend(_ range: ClosedRange<Int64>, on channel: any Channel) -> Bool {
        Int(exactly: range.upperBound + 1) != nil && channel is any SocketOptionProvider
    }

    /// Sends `range` of the file at `path`, which must still be `expectedSize` bytes long; `regionSent` runs on
    /// the event loop after each region has gone to the kernel.
    public static func send(
        path: String, expectedSize: Int64, range: ClosedRange<Int64>, channel: any Channel,
        regionSent: @escaping @Sendable () -> Void
    ) async throws {
        let descriptor = mediapeer_open(path, O_RDONLY | O_CLOEXEC, 0)
        guard descriptor >= 0 else { throw SendError.cannotOpen(path: path, errno: errno) }
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
        // Closed only once no region is queued any more (the queue completes after the last one, sent or failed).
        defer { try? handle.close() }
        // The file may have been replaced or cut since it was looked up: never send a short or different body.
        guard mediapeer_file_size(descriptor) == expectedSize else { throw SendError.changedSize(path: path) }
        try await channel.eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
            do {
                let context = try channel.pipeline.syncOperations.context(handlerType: HTTP1ToHTTPServerCodec.self)
                let queue = RegionQueue(
                    context: context, handle: handle, lower: Int(range.lowerBound),
                    upper: Int(range.upperBound) + 1, regionSent: regionSent)
                queue.fill()
                return queue.done.futureResult
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }.get()
    }

    /// The regions of one range, written from the event loop as the kernel takes them. Touched only on the event
    /// loop.
    private final class RegionQueue: @unchecked Sendable {
        let context: ChannelHandlerContext
        let handle: NIOFileHandle
        let upper: Int
        let regionSent: @Sendable () -> Void
        let done: EventLoopPromise<Void>
        private var next: Int
        private var queued = 0
        private var failure: (any Error)?

        init(
            context: ChannelHandlerContext, handle: NIOFileHandle, lower: Int, upper: Int,
            regionSent: @escaping @Sendable () -> Void
        ) {
            self.context = context
            self.handle = handle
            self.upper = upper
            self.regionSent = regionSent
            next = lower
            done = context.eventLoop.makePromise()
        }

        func fill() {
            guard failure == nil else { return }
            var wrote = false
            // A write to a closed channel fails at once, inside this loop: stop queueing then.
            while failure == nil, queued < FileRegionSender.window, next < upper {
                let region = FileRegion(
                    fileHandle: handle, readerIndex: next, endIndex: min(next + FileRegionSender.regionLength, upper))
                next = region.endIndex
                queued += 1
                wrote = true
                context.write(NIOAny(HTTPServerResponsePart.body(.fileRegion(region)))).whenComplete { result in
                    self.queued -= 1
                    switch result {
                    case .success: self.regionSent()
                    case .failure(let error): self.failure = self.failure ?? error
                    }
                    self.fill()
                    self.finishIfDrained()
                }
            }
            if wrote { context.flush() }
        }

        private func finishIfDrained() {
            guard queued == 0 else { return }
            if let failure {
                done.fail(failure)
            } else if next >= upper {
                done.succeed(())
            }
        }
    }

    public enum SendError: Error, CustomStringConvertible {
        case cannotOpen(path: String, errno: Int32)
        case changedSize(path: String)

        public var description: String {
            switch self {
            case .cannotOpen(let path, let number): "cannot open \(path): \(String(cString: strerror(number)))"
            case .changedSize(let path): "\(path) changed size since it was indexed"
            }
        }
    }
}
