import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Synchronization
import Testing
import WireVocabulary

@testable import PlayerEndpoint

/// `allowed_networks` at the player endpoint: a client outside it gets a 403 saying why, from every route, before
/// any of them runs; and what players can do there changes nothing but the play count.
@Suite(.timeLimit(.minutes(2))) final class AllowedClientsTests: Sendable {
    /// The server's address: a client on loopback connects to it from 127.0.0.1 (Linux picks that source for every
    /// loopback destination), so it is judged as another device would be, not as this box itself.
    static let server = "127.0.0.2"

    let bytes = patternBytes(100_000)
    let path: String
    let film: PlayableTitle
    let handler: FakePlayerHandler

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("allowed-\(UUID().uuidString).mkv").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        film = PlayableTitle(
            id: contentID(1), kind: .video, mimeType: "video/x-matroska", size: Int64(bytes.count), title: "Film",
            durationMilliseconds: 1000, fileExtension: "mkv")
        handler = FakePlayerHandler([FakeTitle(title: film, source: .file(path))], thumbnails: [contentID(1): [0xFF]])
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    @Test func aClientOutsideTheAllowedNetworksGets403WithTheReasonFromEveryRoute() async throws {
        let upnp = RecordingUPnP()
        let film = film
        try await withPlayerServer(
            handler, upnp: upnp, host: Self.server, allowsClient: ClientJudge(allowing: false).allows
        ) { port in
            for route in [
                "/media/\(film.id.hex).mkv", "/playlist.m3u8", "/thumbnails/\(film.id.hex).jpg", "/upnp/device.xml",
                "/upnp/ContentDirectory/control", "/no-such-route",
            ] {
                let response = try await fetch("http://\(Self.server):\(port)\(route)")
                #expect(response.status == 403, "\(route)")
                #expect(response.header("content-type") == "text/plain; charset=utf-8")
                #expect(response.header("connection") == "close")
                #expect(response.text == PlayerServer.refusalReason("127.0.0.1") + "\n", "\(route)")
            }
            let control = try await fetch(
                "http://\(Self.server):\(port)/upnp/ContentDirectory/control", method: .POST,
                headers: [("soapaction", "\"urn:schemas-upnp-org:service:ContentDirectory:1#Browse\"")],
                body: Array("<s:Envelope/>".utf8))
            #expect(control.status == 403)
        }
        // Nothing behind the door ran: no title looked up, no play counted, no UPnP request handed on.
        #expect(handler.plays.isEmpty)
        #expect(handler.playlistQueries.isEmpty)
        #expect(upnp.requests.isEmpty)
    }

    @Test func aRefusedHeadGetsTheHeadersWithoutTheBody() async throws {
        let film = film
        try await withPlayerServer(handler, host: Self.server, allowsClient: ClientJudge(allowing: false).allows) {
            port in
            let response = try await fetch("http://\(Self.server):\(port)/media/\(film.id.hex)", method: .HEAD)
            #expect(response.status == 403)
            #expect(response.header("content-length") == String(PlayerServer.refusalReason("127.0.0.1").utf8.count + 1))
            #expect(response.body.isEmpty)
        }
    }

    @Test func theDecisionIsAskedPerConnectionSoAChangeAppliesToTheNextOne() async throws {
        let judge = ClientJudge(allowing: false)
        let film = film
        let bytes = bytes
        try await withPlayerServer(handler, host: Self.server, allowsClient: judge.allows) { port in
            let url = "http://\(Self.server):\(port)/media/\(film.id.hex)"
            #expect(try await fetch(url).status == 403)
            judge.allowing.withLock { $0 = true }
            let served = try await fetch(url)
            #expect(served.status == 200)
            #expect(served.body == bytes)
        }
        #expect(judge.asked == ["127.0.0.1", "127.0.0.1"])
        #expect(handler.plays == ["Film 127.0.0.1"])
    }

    @Test func anIPv4ClientOfAnIPv6SocketIsJudgedByItsIPv4Address() async throws {
        let judge = ClientJudge(allowing: false)
        try await withPlayerServer(handler, host: "::ffff:" + Self.server, allowsClient: judge.allows) { port in
            let response = try await fetch("http://\(Self.server):\(port)/playlist.m3u8")
            #expect(response.status == 403)
            #expect(response.text.contains("and 127.0.0.1 is not in them"))
        }
        #expect(judge.asked == ["127.0.0.1"])
    }

    @Test func aClientOnThisBoxItselfIsAnsweredWhateverTheList() async throws {
        let judge = ClientJudge(allowing: false)
        let film = film
        // 127.0.0.1 to 127.0.0.1: the address the client connects from is the one it connects to.
        try await withPlayerServer(handler, allowsClient: judge.allows) { port in
            let response = try await fetch("http://127.0.0.1:\(port)/media/\(film.id.hex)")
            #expect(response.status == 200)
        }
        #expect(judge.asked.isEmpty)
    }

    // MARK: Read-only

    @Test(arguments: [HTTPMethod.POST, .PUT, .DELETE, .PATCH])
    func noMethodButGetAndHeadReachesTheTitlesThePlaylistOrTheThumbnails(method: HTTPMethod) async throws {
        let film = film
        try await withPlayerServer(handler) { port in
            for route in ["/media/\(film.id.hex)", "/playlist.m3u8", "/thumbnails/\(film.id.hex).jpg"] {
                let response = try await fetch("http://127.0.0.1:\(port)\(route)", method: method, body: [0x41])
                #expect([404, 405].contains(response.status), "\(method) \(route): \(response.status)")
            }
        }
        #expect(handler.plays.isEmpty)
        #expect(handler.playlistQueries.isEmpty)
    }
}

/// `allowed_networks` as the endpoint asks it: one answer for every client, changeable, and the addresses asked about.
final class ClientJudge: Sendable {
    let allowing: Mutex<Bool>
    private let log = Mutex<[String]>([])

    init(allowing: Bool) {
        self.allowing = Mutex(allowing)
    }

    var asked: [String] { log.withLock { $0 } }

    @Sendable func allows(_ clientIP: String) -> Bool {
        log.withLock { $0.append(clientIP) }
        return allowing.withLock { $0 }
    }
}
