import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing
import WireVocabulary

@testable import PlayerEndpoint

/// The player endpoint as players and TVs see it: a real server on loopback, a fake handler behind it.
@Suite(.timeLimit(.minutes(2))) final class PlayerServerTests: Sendable {
    /// Twelve 256 KiB blocks and a bit: ranges cross block boundaries.
    let bytes = patternBytes(3 << 20 + 12_345)
    let path: String
    let film: PlayableTitle
    let photo: PlayableTitle
    let song: PlayableTitle
    let handler: FakePlayerHandler

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("player-\(UUID().uuidString).mkv").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        film = PlayableTitle(
            id: contentID(1), kind: .video, mimeType: "video/x-matroska", size: Int64(bytes.count), title: "Film",
            durationMilliseconds: 5_400_499, fileExtension: "mkv", subtitleIDs: [contentID(9)])
        photo = PlayableTitle(
            id: contentID(2), kind: .image, mimeType: "image/jpeg", size: Int64(bytes.count), title: "Beach",
            durationMilliseconds: nil, fileExtension: "jpg")
        song = PlayableTitle(
            id: contentID(3), kind: .audio, mimeType: "audio/mpeg", size: Int64(bytes.count),
            title: "Song\n#EXTINF:1,Injected\r\nhttp://evil/x\u{1B}[2J", durationMilliseconds: 180_000,
            fileExtension: "m p3")
        handler = FakePlayerHandler([
            FakeTitle(title: film, source: .file(path)), FakeTitle(title: photo, source: .file(path)),
            FakeTitle(title: song, source: .file(path)),
        ])
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    private func media(_ port: Int, _ title: PlayableTitle, suffix: String = "") -> String {
        "http://127.0.0.1:\(port)/media/\(title.id.hex)\(suffix)"
    }

    // MARK: Whole files and ranges

    @Test func aWholeTitleIsServedWithItsTypeLengthETagAndExactBytes() async throws {
        try await withPlayerServer(handler) { port in
            let response = try await fetch(self.media(port, self.film, suffix: ".mkv"))
            #expect(response.status == 200)
            #expect(response.header("content-type") == "video/x-matroska")
            #expect(response.header("content-length") == String(self.bytes.count))
            #expect(response.header("accept-ranges") == "bytes")
            #expect(response.header("etag") == "\"\(self.film.id.hex)\"")
            #expect(response.header("content-range") == nil)
            #expect(response.body == self.bytes)
        }
    }

    @Test(arguments: [
        ("bytes=0-0", 0, 0), ("bytes=-1", -1, -1), ("bytes=-1000", -1000, -1), ("bytes=3145000-", 3_145_000, -1),
        ("bytes=1048570-2097160", 1_048_570, 2_097_160),
    ])
    func aSingleRangeIsServedWith206AndItsBytes(header: String, first: Int, last: Int) async throws {
        let size = bytes.count
        let lower = first < 0 ? size + first : first
        let upper = last < 0 ? size + last : last
        try await withPlayerServer(handler) { port in
            let response = try await fetch(self.media(port, self.film), headers: [("range", header)])
            #expect(response.status == 206)
            #expect(response.header("content-range") == "bytes \(lower)-\(upper)/\(size)")
            #expect(response.header("content-length") == String(upper - lower + 1))
            #expect(response.body == Array(self.bytes[lower...upper]))
        }
    }

    @Test func aRangePastTheEndIs416WithTheSize() async throws {
        try await withPlayerServer(handler) { port in
            let response = try await fetch(
                self.media(port, self.film), headers: [("range", "bytes=\(self.bytes.count)-")])
            #expect(response.status == 416)
            #expect(response.header("content-range") == "bytes */\(self.bytes.count)")
            #expect(response.body.isEmpty)
        }
    }

    @Test(arguments: ["bytes=abc", "bytes=5-2", "bytes=0-1,5-9", "bytes=", "pages=1-2"])
    func aMalformedOrMultiRangeHeaderIsIgnored(header: String) async throws {
        try await withPlayerServer(handler) { port in
            let response = try await fetch(self.media(port, self.film), headers: [("range", header)])
            #expect(response.status == 200)
            #expect(response.header("content-range") == nil)
            #expect(response.body == self.bytes)
        }
    }

    @Test func headAnswersTheHeadersWithoutABodyOrAPlay() async throws {
        try await withPlayerServer(handler) { port in
            let response = try await fetch(
                self.media(port, self.film), method: .HEAD, headers: [("range", "bytes=10-19")])
            #expect(response.status == 206)
            #expect(response.header("content-length") == "10")
            #expect(response.header("content-range") == "bytes 10-19/\(self.bytes.count)")
            #expect(response.body.isEmpty)
        }
        #expect(handler.plays.isEmpty)
    }

    @Test func anUnknownIDIs404AndAMalformedOne400() async throws {
        try await withPlayerServer(handler) { port in
            let unknown = try await fetch("http://127.0.0.1:\(port)/media/\(contentID(7).hex).mp4")
            let short = try await fetch("http://127.0.0.1:\(port)/media/abc123")
            let notHex = try await fetch("http://127.0.0.1:\(port)/media/\(String(repeating: "z", count: 64))")
            let longExtension = try await fetch(
                "http://127.0.0.1:\(port)/media/\(self.film.id.hex).\(String(repeating: "x", count: 17))")
            #expect(unknown.status == 404)
            #expect(short.status == 400 && notHex.status == 400 && longExtension.status == 400)
        }
    }

    // MARK: DLNA

    @Test func aVideoAnswersDLNAContentFeaturesAndStreamingWhenAsked() async throws {
        try await withPlayerServer(handler) { port in
            let response = try await fetch(
                self.media(port, self.film), method: .HEAD, headers: [("getcontentFeatures.dlna.org", "1")])
            #expect(
                response.header("contentFeatures.dlna.org")
                    == "DLNA.ORG_OP=01;DLNA.ORG_CI=0;DLNA.ORG_FLAGS=01700000000000000000000000000000")
            #expect(response.header("transferMode.dlna.org") == "Streaming")
            let plain = try await fetch(self.media(port, self.film), method: .HEAD)
            #expect(plain.header("contentFeatures.dlna.org") == nil)
        }
    }

    @Test func aPhotoIsInteractiveAndARequestedModeItMayUseIsEchoed() async throws {
        try await withPlayerServer(handler) { port in
            let photo = try await fetch(
                self.media(port, self.photo), method: .HEAD, headers: [("getcontentFeatures.dlna.org", "1")])
            #expect(
                photo.header("contentFeatures.dlna.org")
                    == "DLNA.ORG_OP=01;DLNA.ORG_CI=0;DLNA.ORG_FLAGS=00F00000000000000000000000000000")
            #expect(photo.header("transferMode.dlna.org") == "Interactive")
            let background = try await fetch(
                self.media(port, self.film), method: .HEAD, headers: [("transferMode.dlna.org", "Background")])
            #expect(background.header("transferMode.dlna.org") == "Background")
            let streamingPhoto = try await fetch(
                self.media(port, self.photo), method: .HEAD, headers: [("transferMode.dlna.org", "Streaming")])
            #expect(streamingPhoto.header("transferMode.dlna.org") == "Interactive")
        }
    }

    @Test func aVideoWithASubtitleNamesItInCaptionInfoWhenAsked() async throws {
        try await withPlayerServer(handler) { port in
            let response = try await fetch(
                self.media(port, self.film), method: .HEAD, headers: [("getCaptionInfo.sec", "1")])
            #expect(response.header("CaptionInfo.sec") == "http://127.0.0.1:\(port)/media/\(contentID(9).hex).srt")
            let song = try await fetch(
                self.media(port, self.song), method: .HEAD, headers: [("getCaptionInfo.sec", "1")])
            #expect(song.header("CaptionInfo.sec") == nil)
        }
    }

    // MARK: Plays

    @Test func manyRangesOfOneTitleFromOneClientAreOnePlay() async throws {
        try await withPlayerServer(handler) { port in
            for range in ["bytes=0-99", "bytes=-100", "bytes=5000-5999"] {
                _ = try await fetch(self.media(port, self.film), headers: [("range", range)])
            }
            _ = try await fetch(self.media(port, self.song), headers: [("range", "bytes=0-9")])
        }
        #expect(handler.plays == ["Film 127.0.0.1", "\(song.title) 127.0.0.1"])
    }

    // MARK: Streams

    @Test func aStreamThatCannotProvideTheTitleGives503WithTheReason() async throws {
        let title = PlayableTitle(
            id: contentID(4), kind: .video, mimeType: "video/mp4", size: 1000, title: "Remote",
            durationMilliseconds: nil, fileExtension: "mp4")
        let handler = FakePlayerHandler([
            FakeTitle(title: title, source: .stream(patternBytes(1000), failing: "no box holding it is online"))
        ])
        try await withPlayerServer(handler) { port in
            let response = try await fetch(self.media(port, title), headers: [("range", "bytes=100-")])
            #expect(response.status == 503)
            #expect(response.header("retry-after") == "10")
            #expect(response.text.contains("no box holding it is online"))
        }
        let stream = try #require(handler.streams.first)
        #expect(stream.wants == [100...999])
        #expect(stream.closes == 1)
    }

    @Test func aTitleThatCannotBeOpenedGives503() async throws {
        let title = PlayableTitle(
            id: contentID(5), kind: .audio, mimeType: "audio/flac", size: 10, title: "Elsewhere",
            durationMilliseconds: nil, fileExtension: nil)
        let handler = FakePlayerHandler([FakeTitle(title: title, source: .unavailable("not held whole here"))])
        try await withPlayerServer(handler) { port in
            let response = try await fetch(self.media(port, title))
            #expect(response.status == 503)
            #expect(response.text.contains("not held whole here"))
        }
    }

    @Test func aStreamThatDeliversIsSentInOrderAndClosed() async throws {
        let remote = patternBytes(777_777)
        let title = PlayableTitle(
            id: contentID(6), kind: .video, mimeType: "video/mp4", size: Int64(remote.count), title: "Remote",
            durationMilliseconds: nil, fileExtension: "mp4")
        let handler = FakePlayerHandler([FakeTitle(title: title, source: .stream(remote, failing: nil))])
        try await withPlayerServer(handler) { port in
            let whole = try await fetch(self.media(port, title))
            #expect(whole.status == 200)
            #expect(whole.body == remote)
            let part = try await fetch(self.media(port, title), headers: [("range", "bytes=99999-500000")])
            #expect(part.status == 206)
            #expect(part.body == Array(remote[99_999...500_000]))
        }
        #expect(handler.streams.map(\.wants) == [[0...777_776], [99_999...500_000]])
        #expect(handler.streams.map(\.closes) == [1, 1])
    }

    @Test func aStreamThatFailsAfterTheHeadClosesTheConnectionAndIsClosed() async throws {
        let remote = patternBytes(500_000)
        let title = PlayableTitle(
            id: contentID(6), kind: .video, mimeType: "video/mp4", size: Int64(remote.count), title: "Remote",
            durationMilliseconds: nil, fileExtension: "mp4")
        let handler = FakePlayerHandler([
            FakeTitle(title: title, source: .stream(remote, failing: nil, failingFrom: 300_000))
        ])
        try await withPlayerServer(handler) { port in
            // The head said 500,000 bytes: a client sees the body end early, never a complete-looking response.
            await #expect(throws: (any Error).self) {
                let response = try await fetch(self.media(port, title))
                #expect(response.body.count < remote.count)
            }
        }
        #expect(handler.streams.map(\.closes) == [1])
    }

    // MARK: Playlist

    @Test func thePlaylistIsExtendedM3UWithAbsoluteURLsAndCleanTitles() async throws {
        try await withPlayerServer(handler) { port in
            let response = try await fetch(
                "http://127.0.0.1:\(port)/playlist.m3u8", headers: [("host", "tv-box.local:8738")])
            #expect(response.status == 200)
            #expect(response.header("content-type") == "audio/x-mpegurl; charset=utf-8")
            let base = "http://tv-box.local:8738/media/"
            #expect(
                response.text == """
                    #EXTM3U
                    #EXTINF:-1,Beach
                    \(base)\(self.photo.id.hex).jpg
                    #EXTINF:5400,Film
                    \(base)\(self.film.id.hex).mkv
                    #EXTINF:180,Song #EXTINF:1,Injected  http://evil/x [2J
                    \(base)\(self.song.id.hex)

                    """)
        }
    }

    @Test func anInvalidHostHeaderFallsBackToTheLocalAddress() async throws {
        try await withPlayerServer(handler) { port in
            let response = try await fetch(
                "http://127.0.0.1:\(port)/playlist.m3u8?kind=video", headers: [("host", "evil/x?y")])
            #expect(response.text.contains("http://127.0.0.1:\(port)/media/\(self.film.id.hex).mkv"))
            #expect(!response.text.contains("evil"))
            #expect(!response.text.contains("Beach"))
        }
    }

    @Test func thePlaylistPassesKindAndWordsAndRefusesAnUnknownKind() async throws {
        try await withPlayerServer(handler) { port in
            _ = try await fetch("http://127.0.0.1:\(port)/playlist.m3u8?kind=photo&q=summer%20beach")
            let bad = try await fetch("http://127.0.0.1:\(port)/playlist.m3u8?kind=films")
            #expect(bad.status == 400)
        }
        #expect(handler.playlistQueries == ["image summer beach 10000"])
    }

    // MARK: Thumbnails

    @Test func aThumbnailIsAJPEGOr404() async throws {
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]
        let handler = FakePlayerHandler([FakeTitle(title: photo, source: .file(path))], thumbnails: [photo.id: jpeg])
        try await withPlayerServer(handler) { port in
            let found = try await fetch("http://127.0.0.1:\(port)/thumbnails/\(self.photo.id.hex).jpg")
            #expect(found.status == 200 && found.header("content-type") == "image/jpeg" && found.body == jpeg)
            let none = try await fetch("http://127.0.0.1:\(port)/thumbnails/\(self.film.id.hex).jpg")
            #expect(none.status == 404)
        }
    }

    // MARK: UPnP

    @Test func everyMethodUnderUPnPGoesToTheMediaServer() async throws {
        let upnp = RecordingUPnP()
        try await withPlayerServer(handler, upnp: upnp) { port in
            let control = try await fetch(
                "http://127.0.0.1:\(port)/upnp/ContentDirectory/control", method: .POST,
                headers: [("SOAPACTION", "\"urn:schemas-upnp-org:service:ContentDirectory:1#Browse\"")],
                body: Array("<Envelope/>".utf8))
            #expect(control.status == 200)
            #expect(control.text == "<answer/>")
            #expect(control.header("content-type") == "text/xml; charset=\"utf-8\"")
            #expect(control.headers.contains(name: "EXT"))
            let subscribe = try await fetch(
                "http://127.0.0.1:\(port)/upnp/ContentDirectory/events", method: .RAW(value: "SUBSCRIBE"))
            #expect(subscribe.status == 200)
        }
        let requests = upnp.requests
        #expect(requests.map(\.method) == ["POST", "SUBSCRIBE"])
        #expect(requests.map(\.path) == ["ContentDirectory/control", "ContentDirectory/events"])
        #expect(requests.first?.soapAction == "\"urn:schemas-upnp-org:service:ContentDirectory:1#Browse\"")
        #expect(requests.first?.body == Array("<Envelope/>".utf8))
        #expect(requests.first?.serverAddress == "127.0.0.1")
    }

    @Test(arguments: [false, true])
    func aBodyLargerThanTheMediaServerTakesGetsItsAnswerToAnOversizedBody(chunked: Bool) async throws {
        let upnp = RecordingUPnP(maxRequestBodyBytes: 1000)
        try await withPlayerServer(handler, upnp: upnp) { port in
            let response = try await fetch(
                "http://127.0.0.1:\(port)/upnp/ContentDirectory/control", method: .POST,
                headers: [("SOAPACTION", "\"urn:schemas-upnp-org:service:ContentDirectory:1#Browse\"")],
                body: [UInt8](repeating: 0x41, count: 5000), chunked: chunked)
            #expect(response.status == 500)
            #expect(response.text == "<fault/>")
            #expect(response.header("connection") == "close")
        }
        #expect(upnp.requests.isEmpty)
        let oversized = try #require(upnp.oversized.first)
        #expect(oversized.path == "ContentDirectory/control")
        #expect(oversized.soapAction == "\"urn:schemas-upnp-org:service:ContentDirectory:1#Browse\"")
        #expect(oversized.body.isEmpty)
    }

    @Test(arguments: [false, true])
    func aBodyLargerThanTheMediaServerTakesIs413WhenItHasNoAnswerForIt(chunked: Bool) async throws {
        let upnp = RecordingUPnP(maxRequestBodyBytes: 1000)
        try await withPlayerServer(handler, upnp: upnp) { port in
            let response = try await fetch(
                "http://127.0.0.1:\(port)/upnp/ContentDirectory/event", method: .RAW(value: "SUBSCRIBE"),
                body: [UInt8](repeating: 0x41, count: 5000), chunked: chunked)
            #expect(response.status == 413)
        }
        #expect(upnp.requests.isEmpty)
        #expect(upnp.oversized.map(\.method) == ["SUBSCRIBE"])
    }

    @Test func withoutAMediaServerUPnPIs404() async throws {
        try await withPlayerServer(handler) { port in
            let response = try await fetch("http://127.0.0.1:\(port)/upnp/device.xml")
            #expect(response.status == 404)
        }
    }
}
