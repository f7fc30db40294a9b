import AsyncHTTPClient
import Foundation
import Logging
import MediaServer
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization
import Testing
import WireVocabulary

@testable import PlayerEndpoint

/// A title and where its bytes come from, as the fake handler knows it.
struct FakeTitle: Sendable {
    enum Source: Sendable {
        case file(String)
        /// A stream over these bytes; `failing` makes every read throw, `failingFrom` every read from that offset.
        case stream([UInt8], failing: String?, failingFrom: Int64? = nil)
        /// `open` throws ``PlaybackUnavailable``.
        case unavailable(String)
    }

    var title: PlayableTitle
    var source: Source
}

/// A byte stream over bytes in memory that records what it was asked.
final class FakeStream: PlayerByteStream {
    let bytes: [UInt8]
    let failure: String?
    let failingFrom: Int64?
    private let log = Mutex<(wants: [ClosedRange<Int64>], closes: Int)>(([], 0))

    init(bytes: [UInt8], failure: String?, failingFrom: Int64? = nil) {
        self.bytes = bytes
        self.failure = failure
        self.failingFrom = failingFrom
    }

    var wants: [ClosedRange<Int64>] { log.withLock { $0.wants } }
    var closes: Int { log.withLock { $0.closes } }

    func want(_ range: ClosedRange<Int64>) async {
        log.withLock { $0.wants.append(range) }
    }

    func read(from offset: Int64, maxLength: Int) async throws -> ByteBuffer {
        if let failure { throw PlaybackUnavailable(reason: failure) }
        if let failingFrom, offset >= failingFrom { throw PlaybackUnavailable(reason: "the holder went away") }
        // Short reads, as at a chunk's end: at most 100 000 bytes.
        let end = min(bytes.count, Int(offset) + min(maxLength, 100_000))
        return ByteBuffer(bytes: bytes[Int(offset)..<end])
    }

    func close() async {
        log.withLock { $0.closes += 1 }
    }
}

/// The handler the endpoint is tested with: titles given at creation, plays and streams recorded.
final class FakePlayerHandler: PlayerRequestHandler {
    let titles: [ContentID: FakeTitle]
    let thumbnails: [ContentID: [UInt8]]
    private let log = Mutex<(plays: [String], streams: [FakeStream], playlistQueries: [String])>(([], [], []))

    init(_ titles: [FakeTitle], thumbnails: [ContentID: [UInt8]] = [:]) {
        self.titles = Dictionary(titles.map { ($0.title.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.thumbnails = thumbnails
    }

    var plays: [String] { log.withLock { $0.plays } }
    var streams: [FakeStream] { log.withLock { $0.streams } }
    var playlistQueries: [String] { log.withLock { $0.playlistQueries } }

    func title(_ id: ContentID) async throws -> PlayableTitle? { titles[id]?.title }

    func open(_ title: PlayableTitle) async throws -> PlayerSource {
        switch titles[title.id]!.source {
        case .file(let path): return .file(path: path)
        case .stream(let bytes, let failing, let failingFrom):
            let stream = FakeStream(bytes: bytes, failure: failing, failingFrom: failingFrom)
            log.withLock { $0.streams.append(stream) }
            return .stream(stream)
        case .unavailable(let reason): throw PlaybackUnavailable(reason: reason)
        }
    }

    func playlist(kind: MediaKind?, words: String?, limit: Int) async throws -> [PlayableTitle] {
        log.withLock { $0.playlistQueries.append("\(kind?.rawValue ?? "all") \(words ?? "-") \(limit)") }
        return titles.values.map(\.title).filter { kind == nil || $0.kind == kind }.sorted { $0.title < $1.title }
    }

    func playStarted(_ title: PlayableTitle, client: String) async {
        log.withLock { $0.plays.append("\(title.title) \(client)") }
    }

    func thumbnail(_ id: ContentID) async throws -> [UInt8]? { thumbnails[id] }
}

/// A MediaServer stand-in that records the requests it is handed.
final class RecordingUPnP: UPnPResponding {
    let maxRequestBodyBytes: Int
    private let log = Mutex<[UPnPRequest]>([])
    private let oversizedLog = Mutex<[UPnPRequest]>([])

    init(maxRequestBodyBytes: Int = 1000) {
        self.maxRequestBodyBytes = maxRequestBodyBytes
    }

    var requests: [UPnPRequest] { log.withLock { $0 } }

    var oversized: [UPnPRequest] { oversizedLog.withLock { $0 } }

    func respond(to request: UPnPRequest) async -> UPnPAnswer {
        log.withLock { $0.append(request) }
        return UPnPAnswer(
            status: 200, contentType: "text/xml; charset=\"utf-8\"", headers: ["EXT": ""],
            body: Array("<answer/>".utf8))
    }

    /// A fault for a `POST`, as the MediaServer answers an oversized control request; nil for anything else.
    func answerToOversizedBody(_ request: UPnPRequest) -> UPnPAnswer? {
        oversizedLog.withLock { $0.append(request) }
        guard request.method == "POST" else { return nil }
        return UPnPAnswer(
            status: 500, contentType: "text/xml; charset=\"utf-8\"", headers: ["EXT": ""],
            body: Array("<fault/>".utf8))
    }
}

/// Bytes that differ at every offset for a while, so a misplaced range shows.
func patternBytes(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) }
}

func contentID(_ byte: UInt8) -> ContentID { ContentID(bytes: [UInt8](repeating: byte, count: 32))! }

/// Runs the player server on loopback with `handler` until `body` returns.
///
/// - parameter host: the loopback address to listen on (`::ffff:127.0.0.1`: an IPv6 socket that IPv4 clients reach
///   with IPv4-mapped addresses).
/// - parameter allowsClient: `allowed_networks` as the server asks it; every client by default.
func withPlayerServer(
    _ handler: FakePlayerHandler, upnp: (any UPnPResponding)? = nil, host: String = "127.0.0.1",
    allowsClient: @escaping @Sendable (String) -> Bool = { _ in true },
    _ body: @Sendable (_ port: Int) async throws -> Void
) async throws {
    let logger = Logger(label: "test.player")
    let (listening, continuation) = AsyncStream.makeStream(of: Int.self)
    let service = PlayerServer.makeApplication(
        host: host, port: 0, handler: handler, upnp: upnp,
        refusal: PlayerServer.makeRefusal(allowsClient: allowsClient), logger: logger,
        onListening: { port in
            continuation.yield(port)
            continuation.finish()
        })
    let group = ServiceGroup(services: [service], logger: logger)
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = listening.makeAsyncIterator()
        let port = try #require(await iterator.next())
        try await body(port)
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

/// A response read whole.
struct Fetched {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    func header(_ name: String) -> String? { headers.first(name: name) }
    var text: String { String(decoding: body, as: UTF8.self) }
}

func fetch(
    _ url: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], body: [UInt8]? = nil,
    chunked: Bool = false
) async throws -> Fetched {
    var request = HTTPClientRequest(url: url)
    request.method = method
    // No idle keep-alive connection left behind: the server's graceful shutdown would wait for it.
    request.headers.add(name: "connection", value: "close")
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body, chunked {
        // Sent in pieces without a Content-Length: only the bytes that arrive tell its size.
        let (pieces, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
        for start in stride(from: 0, to: body.count, by: 1000) {
            continuation.yield(ByteBuffer(bytes: body[start..<min(start + 1000, body.count)]))
        }
        continuation.finish()
        request.body = .stream(pieces, length: .unknown)
    } else if let body {
        request.body = .bytes(ByteBuffer(bytes: body))
    }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
    let collected = try await response.body.collect(upTo: 64 << 20)
    return Fetched(status: Int(response.status.code), headers: response.headers, body: Array(buffer: collected))
}
