import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing

@testable import PeerProtocol

/// `PeerClient.pieces` against real HTTP on loopback: the peer router serving a file, and hand-written servers that
/// misbehave.
@Suite(.timeLimit(.minutes(2))) final class PeerClientPiecesTests: Sendable {
    /// Five 64 KiB chunks, the last one short.
    let file: ObjectFixture
    let handler: FakePeerHandler
    /// Two pieces' worth: what one request may hold at most.
    let buffers = FetchBufferBudget(bytes: 2 * ObjectFixture.chunkSize)

    init() throws {
        file = try ObjectFixture(size: 4 * ObjectFixture.chunkSize + 1000)
        handler = FakePeerHandler(objects: [file.servable()], manifests: [file.manifest])
    }

    deinit { file.remove() }

    private var chunk: Int { ObjectFixture.chunkSize }

    /// Collects what `pieces` delivers, by index.
    private final class Received: Sendable {
        let pieces = Mutex<[(Int, [UInt8])]>([])
        var all: [(Int, [UInt8])] { pieces.withLock { $0 } }
    }

    private func fetch(
        _ range: Range<Int64>, from port: Int, stopAfter: Int = .max,
        timeout: TimeAmount = .seconds(10)
    ) async throws -> (Int, Received) {
        let received = Received()
        let peer = PeerEndpoint.loopback(port: port, name: "test peer")
        let count = try await PeerClient().pieces(
            peer, id: file.id, range: range, pieceLength: chunk, pieceTimeout: timeout,
            buffers: self.buffers
        ) { index, piece in
            received.pieces.withLock { $0.append((index, Array(buffer: piece))) }
            return index + 1 < stopAfter
        }
        return (count, received)
    }

    private func withPeerServer<T: Sendable>(_ body: @Sendable (Int) async throws -> T) async throws -> T {
        let router = PeerServer.makeRouter(
            handler: handler, limits: .init(), faults: .none, logger: Logger(label: "pieces-test"))
        return try await withLiveServer(router) { try await body($0) }
    }

    // MARK: The memory budget

    @Test func withRoomForOnePieceThePiecesArriveOneAtATimeAndAllRoomIsGivenBack() async throws {
        let budget = FetchBufferBudget(bytes: chunk)
        let heldWhileDelivering = Mutex<[Int]>([])
        let count = try await withPeerServer { port in
            let peer = PeerEndpoint.loopback(port: port, name: "test peer")
            return try await PeerClient().pieces(
                peer, id: self.file.id, range: 0..<Int64(self.file.bytes.count), pieceLength: self.chunk,
                pieceTimeout: .seconds(10), buffers: budget
            ) { _, _ in
                // The piece being delivered holds the whole budget: the next one is not allocated meanwhile.
                heldWhileDelivering.withLock { $0.append(budget.capacity - budget.available) }
                return true
            }
        }
        #expect(count == 5)
        // Each piece's own size: the last one is short.
        #expect(heldWhileDelivering.withLock { $0 } == [chunk, chunk, chunk, chunk, 1000])
        #expect(budget.available == budget.capacity)
    }

    @Test func aRequestWaitingForRoomIsNotSentAndEndsAtOnceWhenCancelled() async throws {
        let budget = FetchBufferBudget(bytes: chunk)
        let held = try await budget.reserve(chunk)
        try await withPeerServer { port in
            let peer = PeerEndpoint.loopback(port: port, name: "test peer")
            let request = Task {
                try await PeerClient().pieces(
                    peer, id: self.file.id, range: 0..<Int64(self.chunk), pieceLength: self.chunk,
                    pieceTimeout: .seconds(10), buffers: budget
                ) { _, _ in true }
            }
            while budget.waiting < 1 { await Task.yield() }
            request.cancel()
            await #expect(throws: PeerClientError.self) { try await request.value }
        }
        #expect(handler.asked.isEmpty)
        #expect(budget.waiting == 0)
        budget.release(held)
        #expect(budget.available == budget.capacity)
    }

    @Test func everyPieceArrivesInOrderWithItsExactBytes() async throws {
        let (count, received) = try await withPeerServer { port in
            try await self.fetch(0..<Int64(self.file.bytes.count), from: port)
        }
        #expect(count == 5)
        #expect(received.all.map(\.0) == [0, 1, 2, 3, 4])
        #expect(received.all.flatMap(\.1) == file.bytes)
        #expect(received.all.last?.1.count == 1000)
    }

    @Test func aRangeInsideTheObjectIsCutIntoPiecesFromItsStart() async throws {
        let range = Int64(chunk)..<Int64(3 * chunk)
        let (count, received) = try await withPeerServer { port in try await self.fetch(range, from: port) }
        #expect(count == 2)
        #expect(received.all.flatMap(\.1) == Array(file.bytes[chunk..<(3 * chunk)]))
    }

    @Test func deliverReturningFalseStopsTheStream() async throws {
        let (count, received) = try await withPeerServer { port in
            try await self.fetch(0..<Int64(self.file.bytes.count), from: port, stopAfter: 2)
        }
        #expect(count == 2)
        #expect(received.all.map(\.0) == [0, 1])
        #expect(buffers.available == buffers.capacity)
    }

    @Test func anObjectThePeerDoesNotHoldIsNotFound() async throws {
        let other = try ObjectFixture(size: 100)
        defer { other.remove() }
        try await withPeerServer { port in
            let peer = PeerEndpoint.loopback(port: port, name: "test peer")
            await #expect(throws: PeerClientError.notFound(peer: peer.description)) {
                try await PeerClient().pieces(
                    peer, id: other.id, range: 0..<100, pieceLength: self.chunk, pieceTimeout: .seconds(10),
                    buffers: self.buffers
                ) { _, _ in true }
            }
        }
    }

    @Test func anErrorThrownByDeliverIsPassedOnAsItIs() async throws {
        struct DiskFull: Error, Equatable {}
        try await withPeerServer { port in
            let peer = PeerEndpoint.loopback(port: port, name: "test peer")
            await #expect(throws: DiskFull()) {
                try await PeerClient().pieces(
                    peer, id: self.file.id, range: 0..<Int64(self.file.bytes.count),
                    pieceLength: self.chunk, pieceTimeout: .seconds(10),
                    buffers: self.buffers
                ) { _, _ in throw DiskFull() }
            }
        }
    }

    @Test func timeSpentDeliveringIsNotHeldAgainstThePeer() async throws {
        let (count, received) = try await withPeerServer { port in
            let received = Received()
            let peer = PeerEndpoint.loopback(port: port, name: "test peer")
            // Each delivery takes longer than the peer's deadline, as a write to a slow card may.
            let count = try await PeerClient().pieces(
                peer, id: self.file.id, range: 0..<Int64(self.file.bytes.count),
                // The deadline leaves a loaded machine (the whole suite at once on two cores) a full second to send.
                pieceLength: self.chunk, pieceTimeout: .seconds(1),
                buffers: self.buffers
            ) { index, piece in
                try await Task.sleep(for: .milliseconds(1500))
                received.pieces.withLock { $0.append((index, Array(buffer: piece))) }
                return true
            }
            return (count, received)
        }
        #expect(count == 5)
        #expect(received.all.flatMap(\.1) == file.bytes)
    }

    // MARK: Misbehaving peers

    /// A peer that answers every object request with `status`, `contentRange` and a body of `bodyLength` bytes,
    /// sending the first `stallAfter` of them at once and then nothing for 10 s (well past the client's deadline).
    private func withHostilePeer(
        status: HTTPResponse.Status = .partialContent, contentRange: @escaping @Sendable (Range<Int64>) -> String,
        bodyLength: @escaping @Sendable (Range<Int64>) -> Int, stallAfter: Int? = nil,
        run body: @Sendable (PeerEndpoint) async throws -> Void
    ) async throws {
        let router = Router()
        router.get("/v1/objects/:id") { request, _ -> Response in
            let header = request.headers[.range] ?? ""
            let bounds = header.dropFirst("bytes=".count).split(separator: "-").compactMap { Int64($0) }
            let asked = bounds[0]..<(bounds[1] + 1)
            let length = bodyLength(asked)
            return Response(
                status: status, headers: [.contentRange: contentRange(asked), .contentLength: String(length)],
                body: ResponseBody { writer in
                    let first = min(stallAfter ?? length, length)
                    try await writer.write(ByteBuffer(repeating: 0x55, count: first))
                    if stallAfter != nil { try await Task.sleep(for: .seconds(10)) }
                    if length > first { try await writer.write(ByteBuffer(repeating: 0x55, count: length - first)) }
                    try await writer.finish(nil)
                })
        }
        try await withLiveServer(router) { port in
            try await body(PeerEndpoint.loopback(port: port, name: "hostile peer"))
        }
    }

    /// The honest Content-Range for `asked`.
    private var standardRange: @Sendable (Range<Int64>) -> String {
        let size = file.bytes.count
        return { asked in "bytes \(asked.lowerBound)-\(asked.upperBound - 1)/\(size)" }
    }

    @Test func aBodyLongerThanAskedForIsAnInvalidAnswer() async throws {
        let size = Int64(file.bytes.count)
        try await withHostilePeer(
            contentRange: standardRange, bodyLength: { Int($0.count) + 10 },
            run: { peer in
                let error = await #expect(throws: PeerClientError.self) {
                    try await PeerClient().pieces(
                        peer, id: self.file.id, range: 0..<size, pieceLength: self.chunk, pieceTimeout: .seconds(10),
                        buffers: self.buffers
                    ) { _, _ in true }
                }
                guard case .invalidAnswer = error else {
                    Issue.record("expected an invalid answer, got \(String(describing: error))")
                    return
                }
            })
    }

    @Test func aBodyShorterThanAskedForIsAnInvalidAnswerAfterTheWholePiecesItHeld() async throws {
        let received = Received()
        try await withHostilePeer(
            contentRange: standardRange, bodyLength: { _ in 2 * 65536 + 5 },
            run: { peer in
                // The server's Content-Length says 2 pieces and 5 bytes; the client asked for 4.
                let error = await #expect(throws: PeerClientError.self) {
                    try await PeerClient().pieces(
                        peer, id: self.file.id, range: 0..<Int64(4 * self.chunk), pieceLength: self.chunk,
                        pieceTimeout: .seconds(10),
                        buffers: self.buffers
                    ) { index, piece in
                        received.pieces.withLock { $0.append((index, Array(buffer: piece))) }
                        return true
                    }
                }
                guard case .invalidAnswer = error else {
                    Issue.record("expected an invalid answer, got \(String(describing: error))")
                    return
                }
            })
        #expect(received.all.map(\.0) == [0, 1])
        #expect(buffers.available == buffers.capacity)
    }

    @Test func aContentRangeForOtherBytesIsAnInvalidAnswerBeforeAnyPiece() async throws {
        let received = Received()
        try await withHostilePeer(
            contentRange: { _ in "bytes 0-65535/999999" }, bodyLength: { Int($0.count) },
            run: {
                peer in
                let error = await #expect(throws: PeerClientError.self) {
                    try await PeerClient().pieces(
                        peer, id: self.file.id, range: Int64(self.chunk)..<Int64(2 * self.chunk),
                        pieceLength: self.chunk, pieceTimeout: .seconds(10),
                        buffers: self.buffers
                    ) { index, piece in
                        received.pieces.withLock { $0.append((index, Array(buffer: piece))) }
                        return true
                    }
                }
                guard case .invalidAnswer = error else {
                    Issue.record("expected an invalid answer, got \(String(describing: error))")
                    return
                }
            })
        #expect(received.all.isEmpty)
    }

    @Test func aPeerThatStopsSendingIsUnreachableOnceAPieceIsOverdue() async throws {
        let received = Received()
        try await withHostilePeer(
            contentRange: standardRange, bodyLength: { Int($0.count) }, stallAfter: 65536 + 100,
            run: {
                peer in
                let error = await #expect(throws: PeerClientError.self) {
                    try await PeerClient().pieces(
                        peer, id: self.file.id, range: 0..<Int64(3 * self.chunk), pieceLength: self.chunk,
                        // Long enough for piece 0 on a loaded machine: the stall after it is what must end it.
                        pieceTimeout: .seconds(2),
                        buffers: self.buffers
                    ) { index, piece in
                        received.pieces.withLock { $0.append((index, Array(buffer: piece))) }
                        return true
                    }
                }
                guard case .unreachable = error else {
                    Issue.record("expected unreachable, got \(String(describing: error))")
                    return
                }
            })
        #expect(received.all.map(\.0) == [0])
    }

    @Test func aBusyPeerSaysSo() async throws {
        try await withHostilePeer(
            status: .serviceUnavailable, contentRange: standardRange, bodyLength: { _ in 0 },
            run: {
                peer in
                await #expect(throws: PeerClientError.busy(peer: peer.description)) {
                    try await PeerClient().pieces(
                        peer, id: self.file.id, range: 0..<10, pieceLength: self.chunk, pieceTimeout: .seconds(10),
                        buffers: self.buffers
                    ) { _, _ in true }
                }
            })
    }
}

/// Runs `body` with `router` served over real HTTP on an ephemeral loopback port.
func withLiveServer<Router: HTTPResponderBuilder, T: Sendable>(
    _ router: Router, _ body: @Sendable (Int) async throws -> T
) async throws -> T
where Router.Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    return try await app.test(.live) { client in try await body(try #require(client.port)) }
}
