import ControlWire
import Foundation
import Testing
import WireVocabulary

#if canImport(Glibc)
    import Glibc
#endif

/// Media whose names are not UTF-8 (Latin-1, as an old USB drive or a Samba share gives them) or hold control
/// characters, on real daemons in a simulated home: indexed, shown readably, served byte-exact and fetched.
@Suite(.serialized) struct OddNamesTests {
    /// `für Elise.mp4` and `Müller/café.jpg` as Latin-1 bytes, and a tone whose name tries to inject M3U lines
    /// and a terminal escape.
    static let film: [UInt8] = Array("f".utf8) + [0xFC] + Array("r Elise.mp4".utf8)
    static let folder: [UInt8] = Array("M".utf8) + [0xFC] + Array("ller".utf8)
    static let photo: [UInt8] = Array("caf".utf8) + [0xE9] + Array(".jpg".utf8)
    static let tone: [UInt8] = Array("tone\n#EXTINF:0,evil\nhttp:evil.example\u{1B}[2J.wav".utf8)
    static let song: [UInt8] = Array("s".utf8) + [0xF6] + Array("ng.mp3".utf8)

    @Test func latin1AndControlCharacterNamesAreIndexedShownServedAndFetched() throws {
        let home = try SimulatedHome(boxes: 3, tag: "nm")
        let media = home.box(1) + "/media"
        try Self.copy(MediaFixtures.clip, to: media, Self.film)
        try Self.makeFolder(media, Self.folder)
        try Self.copy(MediaFixtures.photo, to: media, Self.folder + [UInt8(ascii: "/")] + Self.photo)
        try Self.copy(MediaFixtures.tone, to: media, Self.tone)
        for index in 1...2 { try home.startDaemon(index) }

        let filmPath = FileSystemName.string(fromBytes: Self.film)
        let photoPath = FileSystemName.string(fromBytes: Self.folder + [UInt8(ascii: "/")] + Self.photo)
        let tonePath = FileSystemName.string(fromBytes: Self.tone)
        let filmID = try home.contentID(of: filmPath, in: 1)
        let photoID = try home.contentID(of: photoPath, in: 1)
        let toneID = try home.contentID(of: tonePath, in: 1)

        // mediapeerctl: one readable line per title, no terminal escape.
        let table = try home.ctl(1, ["library", "list"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("für Elise.mp4") && table.stdout.contains("Müller/café.jpg"), "\(table.stdout)")
        #expect(!table.stdout.contains("\u{1B}") && table.stdout.split(separator: "\n").count == 4, "\(table.stdout)")

        // DLNA Browse through a real control point: readable titles, and a res URL that serves the exact bytes.
        let location = "http://10.77.0.1:8738/upnp/device.xml"
        let videos = try DIDL(try DLNABrowseTests.browse(home, location, "v"))
        let filmItem = try #require(videos.items.first { $0.title == "für Elise.mp4" }, "\(videos.items)")
        let photos = try DIDL(try DLNABrowseTests.browse(home, location, "p/all"))
        #expect(photos.items.contains { $0.title == "café.jpg" }, "\(photos.items)")
        let tracks = try DIDL(try DLNABrowseTests.browse(home, location, "m/all"))
        let toneTitle = "tone\u{FFFD}#EXTINF:0,evil\u{FFFD}http:evil.example\u{FFFD}[2J.wav"
        #expect(tracks.items.contains { $0.title == toneTitle }, "\(tracks.items)")
        let copy = home.folder + "/via-dlna.mp4"
        let download = try home.exec(3, ["curl", "-sf", "-o", copy, try #require(filmItem.resURLs.first)])
        #expect(download.status == 0, "\(download.stderr)")
        #expect(try sha256(copy) == (try sha256(MediaFixtures.folder + "/" + MediaFixtures.clip)))

        // ffprobe through the player endpoint.
        let duration = try home.probedDuration(home.mediaURL(filmID, through: 1, fileExtension: "mp4"), in: 3)
        #expect(abs(duration - 2) < 0.1, "ffprobe saw \(duration) s")

        // The M3U: readable titles, and a name's line breaks inject no entry.
        let playlist = try home.exec(3, ["curl", "-sf", "http://10.77.0.1:8738/playlist.m3u8"])
        #expect(playlist.status == 0, "\(playlist.stderr)")
        let lines = playlist.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.first == "#EXTM3U")
        #expect(lines.filter { $0.hasPrefix("#EXTINF:") }.count == 3, "\(playlist.stdout)")
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("#EXTINF:") || $0.hasPrefix("http://10.77.0.1:8738/") })
        #expect(playlist.stdout.contains("#EXTINF:2,für Elise.mp4\n" + home.mediaURL(filmID, through: 1) + ".mp4\n"))
        #expect(playlist.stdout.contains(",café.jpg\n" + home.mediaURL(photoID, through: 1) + ".jpg\n"))
        #expect(playlist.stdout.contains("#EXTINF:1," + toneTitle + "\n" + home.mediaURL(toneID, through: 1)))

        // The neighbour lists it readably and fetches the exact bytes.
        try home.waitUntilListed(filmID, in: 2, heldBy: ["Box 1"])
        #expect(try home.home(2).items.first { $0.id == filmID }?.displayTitle == "für Elise.mp4")
        // A name with control characters is listed by the neighbour too (shown with them replaced).
        try home.waitUntilListed(toneID, in: 2, heldBy: ["Box 1"])
        #expect(try home.home(2).items.first { $0.id == toneID }?.displayTitle == toneTitle)
        let fetch = try home.ctl(2, ["fetch", filmID.hex, "--wait"])
        #expect(fetch.status == 0, "\(fetch.stderr)\n\(home.log(1).suffix(2000))")
        #expect(try sha256(home.replicaPath(filmID, in: 2)) == (try sha256(MediaFixtures.folder + "/clip.mp4")))

        // A Latin-1 name arriving while the daemon runs (the inotify watch) is indexed too.
        try Self.copy(MediaFixtures.song, to: media, Self.folder + [UInt8(ascii: "/")] + Self.song)
        let songPath = FileSystemName.string(fromBytes: Self.folder + [UInt8(ascii: "/")] + Self.song)
        _ = try home.contentID(of: songPath, in: 1)
        let shown = try home.ctl(1, ["library", "search", "bohemian"])
        #expect(shown.stdout.contains("Müller/söng.mp3"), "\(shown.stdout)")
    }

    @Test func nothingIsWrittenInsideAMediaFolderWithOddNames() throws {
        let home = try SimulatedHome(boxes: 1, tag: "nw")
        let media = home.box(1) + "/media"
        try Self.makeFolder(media, [])
        try Self.makeFolder(media, Self.folder)
        try Self.copy(MediaFixtures.photo, to: media, Self.folder + [UInt8(ascii: "/")] + Self.photo)
        try Self.copy(MediaFixtures.tone, to: media, Self.tone)
        let before = try Self.listing(media)
        try home.startDaemon(1)
        let photoPath = FileSystemName.string(fromBytes: Self.folder + [UInt8(ascii: "/")] + Self.photo)
        _ = try home.contentID(of: photoPath, in: 1)
        _ = try home.contentID(of: FileSystemName.string(fromBytes: Self.tone), in: 1)
        let scan = try home.ctl(1, ["scan", "--wait"])
        #expect(scan.status == 0, "\(scan.stderr)")
        #expect(try Self.listing(media) == before)
    }

    /// Every entry below `folder` with its size and modification time, names as raw bytes (find's `%P` prints them
    /// as they are).
    private static func listing(_ folder: String) throws -> String {
        let result = try Command.run("/usr/bin/find", [folder, "-printf", "%P %y %s %T@\\n"], timeout: .seconds(30))
        guard result.status == 0 else { throw TestFailure("find \(folder) failed: \(result.stderr)") }
        return result.stdout.split(separator: "\n").sorted().joined(separator: "\n")
    }

    /// Creates `parent/name` as a folder, `name` being raw bytes.
    private static func makeFolder(_ parent: String, _ name: [UInt8]) throws {
        let path = Array(parent.utf8) + (name.isEmpty ? [] : [UInt8(ascii: "/")] + name)
        let made = (path + [0]).withUnsafeBytes { mkdir($0.baseAddress!.assumingMemoryBound(to: CChar.self), 0o755) }
        guard made == 0 || errno == EEXIST else { throw TestFailure("cannot make folder: errno \(errno)") }
    }

    /// Copies a fixture to `parent/name`, `name` being raw bytes (a path below `parent`), as a drive holds it.
    private static func copy(_ fixture: String, to parent: String, _ name: [UInt8]) throws {
        let contents = try Data(contentsOf: URL(fileURLWithPath: MediaFixtures.folder + "/" + fixture))
        let path = Array(parent.utf8) + [UInt8(ascii: "/")] + name + [0]
        let fd = path.withUnsafeBytes {
            open($0.baseAddress!.assumingMemoryBound(to: CChar.self), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        guard fd >= 0 else { throw TestFailure("cannot create \(fixture)'s copy: errno \(errno)") }
        defer { close(fd) }
        let written = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == contents.count else { throw TestFailure("short write of \(fixture)'s copy") }
    }
}
