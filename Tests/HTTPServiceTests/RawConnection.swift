import Foundation
import NIOCore
import NIOPosix

/// A TCP connection to a test server that speaks bytes, as a hostile client would: requests written by hand, and
/// what the server sends back, or its closing the connection, read as it comes.
actor RawConnection {
    private let channel: any Channel
    private var received: AsyncStream<ByteBuffer>.AsyncIterator
    private var pending = ""

    private init(channel: any Channel, received: AsyncStream<ByteBuffer>) {
        self.channel = channel
        self.received = received.makeAsyncIterator()
    }

    static func open(port: Int) async throws -> RawConnection {
        let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(continuation: continuation))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, received: stream)
    }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }

    /// One response: its head and the body its `Content-Length` announces; nil when the connection closes first.
    func response() async -> String? {
        while true {
            if let end = pending.range(of: "\r\n\r\n") {
                let head = pending[..<end.upperBound]
                let length =
                    head.split(separator: "\r\n").lazy.compactMap { line -> Int? in
                        let parts = line.split(separator: ":", maxSplits: 1)
                        guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                        return Int(parts[1].trimmingCharacters(in: .whitespaces))
                    }.first ?? 0
                let whole = pending.utf8.count - head.utf8.count >= length
                if whole {
                    let responseEnd = pending.utf8.index(end.upperBound, offsetBy: length)
                    let response = String(pending[..<responseEnd])
                    pending = String(pending[responseEnd...])
                    return response
                }
            }
            guard await receive() else { return nil }
        }
    }

    /// Everything the server sends until it closes the connection.
    func untilClosed() async -> String {
        while await receive() {}
        defer { pending = "" }
        return pending
    }

    func close() async {
        try? await channel.close()
    }

    private func receive() async -> Bool {
        var iterator = received
        defer { received = iterator }
        guard let buffer = await iterator.next(isolation: self) else { return false }
        pending += String(buffer: buffer)
        return true
    }
}

/// Hands the bytes a connection receives to an `AsyncStream`, and ends it when the connection closes.
private final class Collector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let continuation: AsyncStream<ByteBuffer>.Continuation

    init(continuation: AsyncStream<ByteBuffer>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        continuation.yield(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset by the server ends the connection as a close does.
        context.close(promise: nil)
    }
}
