import CSystemShims
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import NIOPosix
import WireVocabulary

#if canImport(Glibc)
    import Glibc
#endif

/// The one way file bytes leave this box, for the peer API and the player endpoint alike: a byte range of a file
/// read with `pread64` into buffers and written below Hummingbird, with 64-bit offsets on every architecture.
///
/// Why not `sendfile`: NIO's `FileRegion` keeps offsets in `Int` and NIO narrows them to the C library's `off_t`
/// when it calls `sendfile`; on armhf both are 32 bits, so no region can start past 2 GiB, and NIO gives no access
/// to a channel's socket to call `sendfile64` on it beside its own write queue. A `FileRegion` also cannot pass
/// through TLS (`NIOSSLHandler` takes only buffers). Buffers go through both, on every architecture alike.
///
/// Why below Hummingbird: its response bodies cost three thread hops per block. Here the head and end still go
/// through Hummingbird; the blocks are written from the event loop straight to NIO's HTTP/1 encoder (the handler
/// below Hummingbird's HTTP-types codec, and above TLS when there is one). Reads run on NIO's blocking-I/O pool,
/// one at a time, so a slow disk never stalls the event loop; at most ``window`` blocks wait for the socket, whose
/// back-pressure paces the reads (``FileBodyWindow``).
public enum FileBodySender {
    /// Bytes per block: `blockSent` (the stall watchdog) runs as each has gone to the kernel.
    public static let blockLength = 256 << 10
    /// Blocks handed to the connection but not yet sent, at most: what one transfer holds in memory.
    public static let window = 4

    /// Sends `range` of the file at `path`, which must still be `expectedSize` bytes long, as the body of the
    /// response whose head Hummingbird has just written on `channel`. `blockSent` runs after each block has gone to
    /// the kernel. On a channel without NIO's HTTP/1 server codec (Hummingbird's in-process test channel) the
    /// blocks are handed to `elsewhere` in order instead, one at a time.
    ///
    /// - Parameter alteringBlocks: test-only: changes each block after it is read (a lying peer).
    /// - Throws: ``FileBodyError``, or the channel's error when the connection ends first.
    public static func send(
        path: String, expectedSize: Int64, range: ClosedRange<Int64>, channel: any Channel,
        blockSent: @escaping @Sendable () -> Void,
        alteringBlocks: (@Sendable (inout ByteBuffer) -> Void)? = nil,
        elsewhere: (ByteBuffer) async throws -> Void
    ) async throws {
        let file = try BlockReader(path: path, expectedSize: expectedSize, alteringBlocks: alteringBlocks)
        defer { file.close() }
        let window = try FileBodyWindow(range: range, blockLength: blockLength, window: window)
        let pool = NIOThreadPool.singleton
        // Completes only once no read is outstanding: the descriptor is closed after its last use.
        let sentBelowHummingbird = try await channel.eventLoop.flatSubmit { () -> EventLoopFuture<Bool> in
            guard let encoder = try? channel.pipeline.syncOperations.context(handlerType: HTTP1ToHTTPServerCodec.self)
            else { return channel.eventLoop.makeSucceededFuture(false) }
            let transfer = Transfer(context: encoder, file: file, window: window, pool: pool, blockSent: blockSent)
            transfer.start()
            return transfer.done.futureResult.map { true }
        }.get()
        if !sentBelowHummingbird { try await sendInOrder(file, window: window, to: elsewhere) }
    }

    /// The same blocks awaited one by one, for a channel without the HTTP/1 codec.
    private static func sendInOrder(
        _ file: BlockReader, window: FileBodyWindow, to write: (ByteBuffer) async throws -> Void
    ) async throws {
        var window = window
        var actions = window.start()
        while let action = actions.first {
            actions.removeFirst()
            switch action {
            case .read(let block):
                let buffer = try await NIOThreadPool.singleton.runIfActive {
                    var buffer = ByteBuffer()
                    try file.read(block, into: &buffer)
                    return buffer
                }
                try await write(buffer)
                actions += window.readCompleted(byteCount: block.length)
            case .write:
                actions += window.writeCompleted(succeeded: true)
            case .finish:
                return
            case .fail:
                throw FileBodyError.shortened(path: file.path, offset: window.next)
            }
        }
    }

    /// One range's blocks, read on the pool and written from the event loop. Touched only on the event loop.
    private final class Transfer: @unchecked Sendable {
        let context: ChannelHandlerContext
        let file: BlockReader
        let pool: NIOThreadPool
        let blockSent: @Sendable () -> Void
        let done: EventLoopPromise<Void>
        private var window: FileBodyWindow
        private var failure: (any Error)?
        /// The block read last, until it is written.
        private var readBlock: ByteBuffer?
        /// Buffers whose bytes the kernel has taken, reused for the next reads (this transfer's pool).
        private var spare: [ByteBuffer] = []
        private var written: [ByteBuffer] = []

        init(
            context: ChannelHandlerContext, file: BlockReader, window: FileBodyWindow, pool: NIOThreadPool,
            blockSent: @escaping @Sendable () -> Void
        ) {
            self.context = context
            self.file = file
            self.window = window
            self.pool = pool
            self.blockSent = blockSent
            done = context.eventLoop.makePromise()
        }

        func start() {
            perform(window.start())
        }

        private func perform(_ actions: [FileBodyWindow.Action]) {
            for action in actions {
                switch action {
                case .read(let block): read(block)
                case .write: write()
                case .finish: done.succeed(())
                case .fail: done.fail(failure ?? FileBodyError.shortened(path: file.path, offset: window.next))
                }
            }
        }

        private func read(_ block: FileBodyWindow.Block) {
            // Handed over in a box that gives it up, so the reading thread holds the only reference: a second one
            // would make the read copy the buffer into a fresh allocation (page faults on every block).
            let handedOver = NIOLockedValueBox<ByteBuffer?>(
                spare.popLast() ?? context.channel.allocator.buffer(capacity: block.length))
            let file = self.file
            pool.runIfActive(eventLoop: context.eventLoop) { () throws -> ByteBuffer in
                var buffer = handedOver.withLockedValue { $0.take() }!
                try file.read(block, into: &buffer)
                return buffer
            }.whenComplete { result in
                switch result {
                case .success(let buffer):
                    self.readBlock = buffer
                    self.perform(self.window.readCompleted(byteCount: buffer.readableBytes))
                case .failure(let error):
                    self.failure = self.failure ?? error
                    self.perform(self.window.readFailed())
                }
            }
        }

        private func write() {
            guard let block = readBlock else { preconditionFailure("a write without a block read") }
            readBlock = nil
            written.append(block)
            // A write to a closed channel fails at once, within this call.
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(block)))).whenComplete { result in
                // Cleared by the read that reuses it: clearing a buffer NIO still holds would allocate a new one.
                self.spare.append(self.written.removeFirst())
                switch result {
                case .success: self.blockSent()
                case .failure(let error): self.failure = self.failure ?? error
                }
                self.perform(self.window.writeCompleted(succeeded: self.failure == nil))
            }
        }
    }
}

/// A file opened for a transfer: large-file `open`, `fstat64` and `pread64` through the C shim.
final class BlockReader: Sendable {
    let path: String
    private let descriptor: CInt
    private let alteringBlocks: (@Sendable (inout ByteBuffer) -> Void)?

    init(path: String, expectedSize: Int64, alteringBlocks: (@Sendable (inout ByteBuffer) -> Void)?)
        throws(FileBodyError)
    {
        let descriptor = FileSystemName.withFileSystemPath(path) { mediapeer_open($0, O_RDONLY | O_CLOEXEC, 0) }
        guard descriptor >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        // The file may have been replaced or cut since it was looked up: never send a short or different body.
        guard mediapeer_file_size(descriptor) == expectedSize else {
            Glibc.close(descriptor)
            throw .changedSize(path: path)
        }
        self.path = path
        self.descriptor = descriptor
        self.alteringBlocks = alteringBlocks
    }

    func close() { Glibc.close(descriptor) }

    /// Reads `block` into `buffer` (cleared first, its memory reused when it is the only reference).
    /// - Throws: ``FileBodyError/shortened(path:offset:)`` when the file ends before the block does.
    func read(_ block: FileBodyWindow.Block, into buffer: inout ByteBuffer) throws(FileBodyError) {
        buffer.clear()
        var failure: Int32 = 0
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: block.length) { space in
            var done = 0
            while done < block.length {
                // narrowing: checked because block.length (at most blockLength) > done >= 0: a positive Int fits UInt
                let got = mediapeer_pread(
                    descriptor, space.baseAddress! + done, UInt(block.length - done), block.offset + Int64(done))
                if got < 0, errno == EINTR { continue }
                if got < 0 { failure = errno }
                if got <= 0 { break }
                done += got
            }
            return done
        }
        if failure != 0 { throw .cannotRead(path: path, offset: block.offset, errno: failure) }
        if buffer.readableBytes < block.length {
            throw .shortened(path: path, offset: block.offset + Int64(buffer.readableBytes))
        }
        alteringBlocks?(&buffer)
    }
}

func errorText(_ number: Int32) -> String { String(cString: strerror(number)) }
