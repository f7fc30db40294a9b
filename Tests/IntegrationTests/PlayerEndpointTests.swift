import ControlWire
import Foundation
import Testing
import WireVocabulary

/// The player endpoint of real daemons, reached from another box of a simulated home by real clients (curl,
/// ffprobe) over the veth link, as a TV or Kodi in another room would.
@Suite(.serialized) struct PlayerEndpointTests {
    /// The player port of every box (the default; the test config sets none).
    static let port = 8738

    private static func mediaURL(_ id: ContentID, on box: Int, ext: String = "") -> String {
        "http://10.77.0.\(box):\(port)/media/\(id.hex)\(ext)"
    }

    /// `curl` in box `from`: the status code, the headers, and the body written to `output`.
    /// - parameter command: curl and the options that reach the URL (`SimulatedHome.peerCurl` for the peer API).
    private func curl(
        _ home: SimulatedHome, from: Int, _ url: String, arguments: [String] = [], output: String,
        command: [String] = ["curl"]
    ) throws -> (status: Int, headers: String) {
        let headers = output + ".headers"
        let result = try home.exec(
            from,
            command + ["-s", "--max-time", "30", "-o", output, "-D", headers, "-w", "%{http_code}"] + arguments + [url])
        guard result.status == 0, let status = Int(result.stdout) else {
            throw TestFailure("curl \(arguments) \(url) failed (\(result.status)): \(result.stderr)")
        }
        return (status, try String(contentsOfFile: headers, encoding: .utf8))
    }

    private func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Box 1 holds a 2 MiB video; box 2 asks box 1's endpoint for ranges of it, as a seeking player does.
    @Test func rangesHeadAndWholeBodiesMatchTheSourceFile() throws {
        let home = try SimulatedHome(boxes: 2, tag: "pr")
        let source = try home.addLargeVideo("seek.mkv", megabytes: 2, to: [1])
        for index in 1...2 { try home.startDaemon(index) }
        let id = try home.contentID(of: "seek.mkv", in: 1)
        let original = try bytes(source)
        let size = original.count
        let out = home.folder + "/player-body"
        let url = Self.mediaURL(id, on: 1, ext: ".mkv")
        try eventually(timeout: .seconds(30), "box 1's player endpoint answers") {
            (try? curl(home, from: 2, url, arguments: ["-r", "0-0"], output: out).status) == 206
        }

        let whole = try curl(home, from: 2, url, output: out)
        #expect(whole.status == 200)
        #expect(try sha256(out) == (try sha256(source)))

        let cases: [(range: String, lower: Int, upper: Int)] = [
            ("0-0", 0, 0), ("\(size - 1)-\(size - 1)", size - 1, size - 1), ("-1000", size - 1000, size - 1),
            ("1048000-", 1_048_000, size - 1), ("100-200000", 100, 200_000),
        ]
        for (range, lower, upper) in cases {
            let response = try curl(home, from: 2, url, arguments: ["-H", "Range: bytes=\(range)"], output: out)
            #expect(response.status == 206, "bytes=\(range)")
            #expect(response.headers.contains("Content-Range: bytes \(lower)-\(upper)/\(size)"), "\(response.headers)")
            #expect(try bytes(out) == Array(original[lower...upper]), "bytes=\(range)")
        }

        let pastTheEnd = try curl(home, from: 2, url, arguments: ["-H", "Range: bytes=\(size)-"], output: out)
        #expect(pastTheEnd.status == 416)
        #expect(pastTheEnd.headers.contains("Content-Range: bytes */\(size)"), "\(pastTheEnd.headers)")

        let malformed = try curl(home, from: 2, url, arguments: ["-H", "Range: bytes=oops"], output: out)
        #expect(malformed.status == 200)
        #expect(try bytes(out).count == size)

        let head = try curl(home, from: 2, url, arguments: ["-I"], output: out)
        #expect(head.status == 200)
        #expect(head.headers.contains("Content-Length: \(size)"), "\(head.headers)")
        #expect(
            head.headers.contains("Accept-Ranges: bytes") && head.headers.contains("Content-Type: video/x-matroska"))
        // With -I curl writes the headers where the body would go: no byte of the file among them.
        #expect(try bytes(out).count < 1000)

        let dlna = try curl(
            home, from: 2, url, arguments: ["-I", "-H", "getcontentFeatures.dlna.org: 1"], output: out)
        #expect(dlna.headers.contains("transferMode.dlna.org: Streaming"), "\(dlna.headers)")
        #expect(dlna.headers.contains("contentFeatures.dlna.org: DLNA.ORG_OP=01;DLNA.ORG_CI=0;"), "\(dlna.headers)")

        // A play is logged once, however many ranges it took.
        try eventually("box 1 logs the play") { home.log(1).contains("play started") }
        #expect(home.log(1).components(separatedBy: "play started").count == 2, "\(home.log(1).suffix(3000))")
    }

    /// A sparse 5 GiB film (a real Matroska head, zeros, and known bytes written with `dd` across 2^31 and 2^32
    /// and at the end): box 1 indexes and hashes it whole, and box 2 gets the exact bytes of ranges across both
    /// edges and of the last byte from box 1's player endpoint and from its peer API, as a player seeking and a
    /// peer fetching past chunk 2047 do; a range starting at `Int64.max` gets 416 from both, never a trap.
    @Test func rangesOfASparseFiveGiBFilePastTwoAndFourGiBAreExact() throws {
        let home = try SimulatedHome(boxes: 2, tag: "p5")
        let size: Int64 = 5 << 30
        let staging = home.folder + "/staging-huge.mkv"
        try MediaFixtures.copy(MediaFixtures.film, to: staging)
        var script = "truncate -s \(size) '\(staging)'"
        for (offset, text) in [((1 << 31) - 4, "<2GiB>!!"), ((1 << 32) - 4, "<4GiB>!!"), (size - 8, "THE-END.")] {
            script += " && printf '\(text)' | dd of='\(staging)' bs=1 seek=\(offset) conv=notrunc status=none"
        }
        try FileManager.default.createDirectory(atPath: home.box(1) + "/media", withIntermediateDirectories: true)
        script += " && mv '\(staging)' '\(home.box(1))/media/huge.mkv'"
        let made = try Command.run("/bin/sh", ["-c", script])
        guard made.status == 0 else { throw TestFailure("cannot make the sparse file: \(made.stderr)") }
        let path = home.box(1) + "/media/huge.mkv"
        for index in 1...2 { try home.startDaemon(index) }
        // Hashing 5 GiB of (mostly sparse) file takes a few seconds even in a debug build.
        let id = try home.contentID(of: "huge.mkv", in: 1, timeout: .seconds(180))
        let daemon = try home.status(1).pid
        let file = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? file.close() }
        func original(_ range: ClosedRange<Int64>) throws -> [UInt8] {
            try file.seek(toOffset: UInt64(range.lowerBound))
            return [UInt8](try file.read(upToCount: Int(range.upperBound - range.lowerBound + 1)) ?? Data())
        }
        let out = home.folder + "/huge-body"
        let ranges: [ClosedRange<Int64>] = [
            ((1 << 31) - 700_000)...((1 << 31) + 300_000), 2_147_000_000...2_147_483_646,
            ((1 << 32) - 6)...((1 << 32) + 6), (size - 1)...(size - 1),
        ]
        let endpoints = [
            (Self.mediaURL(id, on: 1, ext: ".mkv"), ["curl"]),
            ("https://10.77.0.1:8737/v1/objects/\(id.hex)", home.peerCurl(2)),
        ]
        for (url, command) in endpoints {
            for range in ranges {
                let header = "Range: bytes=\(range.lowerBound)-\(range.upperBound)"
                let response = try curl(home, from: 2, url, arguments: ["-H", header], output: out, command: command)
                #expect(response.status == 206, "\(url) \(header)")
                #expect(
                    response.headers.contains("Content-Range: bytes \(range.lowerBound)-\(range.upperBound)/\(size)"),
                    "\(response.headers)")
                #expect(try bytes(out) == (try original(range)), "\(url) \(header)")
            }
            let crafted = try curl(
                home, from: 2, url, arguments: ["-H", "Range: bytes=9223372036854775807-"], output: out,
                command: command)
            #expect(crafted.status == 416, "\(url)")
            #expect(crafted.headers.contains("Content-Range: bytes */\(size)"), "\(crafted.headers)")
        }
        #expect(try original((size - 8)...(size - 1)) == Array("THE-END.".utf8))
        #expect(try original(((1 << 32) - 4)...((1 << 32) + 3)) == Array("<4GiB>!!".utf8))
        // Still the same daemon: no range trapped it.
        #expect(try home.status(1).pid == daemon)
    }

    /// ffprobe reads an MP4 and a Matroska file through the endpoint, seeking as it needs, with their durations.
    @Test func ffprobeReadsAnMP4AndAnMKVThroughTheEndpoint() throws {
        let home = try SimulatedHome(boxes: 2, tag: "pf")
        try MediaFixtures.copy(MediaFixtures.clip, to: home.box(1) + "/media/clip.mp4")
        try MediaFixtures.copy(MediaFixtures.film, to: home.box(1) + "/media/film.mkv")
        for index in 1...2 { try home.startDaemon(index) }
        for (name, ext) in [("clip.mp4", ".mp4"), ("film.mkv", ".mkv")] {
            let id = try home.contentID(of: name, in: 1)
            let probe = try home.exec(
                2,
                [
                    "ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_name", "-of",
                    "default=noprint_wrappers=1", Self.mediaURL(id, on: 1, ext: ext),
                ])
            #expect(probe.status == 0, "\(name): \(probe.stderr)")
            let duration = probe.stdout.split(separator: "\n").first { $0.hasPrefix("duration=") }
                .flatMap { Double($0.dropFirst("duration=".count)) }
            let seconds = try #require(duration, "\(name): \(probe.stdout)")
            #expect(abs(seconds - 2.0) < 0.1, "\(name): \(seconds) s")
            #expect(probe.stdout.contains("codec_name=h264"), "\(name): \(probe.stdout)")
        }
    }

    /// Box 1's playlist lists a song only box 2 holds, with a URL on box 1, which players reach.
    @Test func thePlaylistListsATitleHeldByTheOtherBox() throws {
        let home = try SimulatedHome(boxes: 2, tag: "pp")
        try MediaFixtures.copy(MediaFixtures.song, to: home.box(2) + "/media/song.mp3")
        try MediaFixtures.copy(MediaFixtures.clip, to: home.box(1) + "/media/clip.mp4")
        for index in 1...2 { try home.startDaemon(index) }
        let song = try home.contentID(of: "song.mp3", in: 2)
        let clip = try home.contentID(of: "clip.mp4", in: 1)
        try home.waitUntilListed(song, in: 1, heldBy: ["Box 2"])
        let out = home.folder + "/playlist.m3u8"

        let all = try curl(home, from: 2, "http://10.77.0.1:\(Self.port)/playlist.m3u8", output: out)
        #expect(all.status == 200)
        #expect(all.headers.contains("Content-Type: audio/x-mpegurl; charset=utf-8"), "\(all.headers)")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.hasPrefix("#EXTM3U\n"), "\(text)")
        #expect(
            text.contains("#EXTINF:3,Bohemian Sunrise\n\(Self.mediaURL(song, on: 1, ext: ".mp3"))\n"), "\(text)")
        #expect(text.contains("#EXTINF:2,clip.mp4\n\(Self.mediaURL(clip, on: 1, ext: ".mp4"))\n"), "\(text)")

        _ = try curl(
            home, from: 2, "http://10.77.0.1:\(Self.port)/playlist.m3u8?kind=audio&q=bohemian", output: out)
        let audio = try String(contentsOfFile: out, encoding: .utf8)
        #expect(audio.contains(song.hex) && !audio.contains(clip.hex), "\(audio)")
    }
}
