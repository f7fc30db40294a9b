import ControlWire
import Foundation
import Testing

/// The real daemon on a real media folder, driven by the real CLI.
@Suite(.serialized) struct FirstScanTests {
    @Test func firstScanIndexesEveryMediaFileWithItsMetadata() throws {
        let box = try TestBox()
        try MediaFixtures.copy(MediaFixtures.song, to: box.media + "/Music/The Testers/" + MediaFixtures.song)
        try MediaFixtures.copy(MediaFixtures.photo, to: box.media + "/Photos/Été 2019/beach.jpg")
        try MediaFixtures.copy(MediaFixtures.clip, to: box.media + "/Videos/clip.mp4")
        try MediaFixtures.copy(MediaFixtures.film, to: box.media + "/Videos/film.mkv")
        try MediaFixtures.copy(MediaFixtures.drawing, to: box.media + "/drawing.png")
        try MediaFixtures.copy(MediaFixtures.tone, to: box.media + "/tone.wav")
        try box.start()
        try box.waitUntilIndexed()

        let items = try box.items()
        #expect(
            items.map(\.path).sorted() == [
                "Music/The Testers/Bohemian Sunrise.mp3", "Photos/Été 2019/beach.jpg", "Videos/clip.mp4",
                "Videos/film.mkv",
                "drawing.png", "tone.wav",
            ])
        let song = try #require(items.first { $0.path.hasSuffix(".mp3") })
        #expect(song.kind == .audio && song.mimeType == "audio/mpeg")
        #expect(song.metadata.title == "Bohemian Sunrise" && song.metadata.artist == "The Testers")
        #expect(song.metadata.album == "Fixtures" && song.metadata.track == 4 && song.metadata.year == 2019)
        #expect(song.metadata.durationMilliseconds.map { (2500...3500).contains($0) } == true)
        let photo = try #require(items.first { $0.path.hasSuffix(".jpg") })
        #expect(photo.kind == .image && photo.metadata.width == 320 && photo.metadata.height == 240)
        let film = try #require(items.first { $0.path.hasSuffix(".mkv") })
        #expect(film.kind == .video && film.metadata.title == "Fixture Film")
        #expect(film.metadata.videoCodec == "h264" && film.metadata.audioCodec == "aac")
        #expect(film.metadata.width == 320 && film.metadata.height == 240)
        let clip = try #require(items.first { $0.path.hasSuffix(".mp4") })
        #expect(clip.metadata.durationMilliseconds.map { (1800...2200).contains($0) } == true)
        #expect(items.allSatisfy { $0.contentID != nil && $0.metadataRead })
    }

    @Test func hiddenFilesNonMediaAndEscapingSymlinksAreSkippedAndCounted() throws {
        let box = try TestBox()
        try MediaFixtures.copy(MediaFixtures.photo, to: box.media + "/keep.jpg")
        try MediaFixtures.copy(MediaFixtures.photo, to: box.media + "/.hidden.jpg")
        try MediaFixtures.copy(MediaFixtures.photo, to: box.media + "/.thumbnails/t.jpg")
        try "not a picture".write(toFile: box.media + "/fake.jpg", atomically: true, encoding: .utf8)
        try "notes".write(toFile: box.media + "/readme.txt", atomically: true, encoding: .utf8)
        let outside = box.folder + "/outside.jpg"
        try MediaFixtures.copy(MediaFixtures.photo, to: outside)
        try FileManager.default.createSymbolicLink(atPath: box.media + "/escape.jpg", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(
            atPath: box.media + "/inside.jpg", withDestinationPath: box.media + "/keep.jpg")
        try FileManager.default.createSymbolicLink(
            atPath: box.media + "/broken.jpg", withDestinationPath: box.media + "/nowhere.jpg")
        #expect(mkfifo(box.media + "/pipe.mp3", 0o644) == 0)
        try box.start()
        try box.waitUntilIndexed()

        #expect(try box.items().map(\.path).sorted() == ["inside.jpg", "keep.jpg"])
        let skipped = try box.status().scan.skipped
        #expect(skipped["hidden"] == 2)
        #expect(skipped["contentMismatch"] == 1)
        #expect(skipped["symlinkLeavesRoot"] == 1)
        #expect(skipped["brokenSymlink"] == 1)
        #expect(skipped["notRegularFile"] == 1)
    }

    @Test func searchMatchesTitleArtistAlbumAndFileNameIgnoringAccents() throws {
        let box = try TestBox()
        try MediaFixtures.copy(MediaFixtures.song, to: box.media + "/song.mp3")
        try MediaFixtures.copy(MediaFixtures.photo, to: box.media + "/Photos/Été à Nice/beach.jpg")
        try box.start()
        try box.waitUntilIndexed(hashed: false)

        func search(_ words: String...) throws -> [String] {
            try box.ctlJSON(LibraryPage.self, ["library", "search"] + words).items.map(\.path)
        }
        #expect(try search("bohemian") == ["song.mp3"])
        #expect(try search("testers") == ["song.mp3"])
        #expect(try search("fixtures") == ["song.mp3"])
        #expect(try search("boh", "sun") == ["song.mp3"])
        #expect(try search("ete", "nice") == ["Photos/Été à Nice/beach.jpg"])
        #expect(try search("beach") == ["Photos/Été à Nice/beach.jpg"])
        #expect(try search("nothing-like-this").isEmpty)
        // FTS syntax in user text is taken literally, never as a query operator.
        #expect(try box.ctl(["library", "search", "\"bohemian OR *"]).status == 0)
    }

    @Test func showFindsAnItemByIdAndByContentIDPrefix() throws {
        let box = try TestBox()
        try MediaFixtures.copy(MediaFixtures.film, to: box.media + "/film.mkv")
        try box.start()
        try box.waitUntilIndexed()
        let item = try #require(try box.items().first)
        let contentID = try #require(item.contentID)
        let byID = try box.ctlJSON(MediaItem.self, ["library", "show", String(item.id)])
        let byPrefix = try box.ctlJSON(MediaItem.self, ["library", "show", String(contentID.hex.prefix(12))])
        #expect(byID == item && byPrefix == item)
        let human = try box.ctl(["library", "show", String(item.id)])
        #expect(human.stdout.contains("Fixture Film") && human.stdout.contains(contentID.hex))
        let missing = try box.ctl(["library", "show", "999999"])
        #expect(missing.status != 0 && missing.stderr.contains("no media item 999999"))
    }

    @Test func listFiltersByKindAndPages() throws {
        let box = try TestBox()
        for index in 0..<5 { try MediaFixtures.copy(MediaFixtures.photo, to: box.media + "/p\(index).jpg") }
        try MediaFixtures.copy(MediaFixtures.tone, to: box.media + "/tone.wav")
        try box.start()
        try box.waitUntilIndexed(hashed: false)
        let images = try box.ctlJSON(
            LibraryPage.self, ["library", "list", "--kind", "image", "--limit", "2", "--offset", "1"])
        #expect(images.total == 5 && images.items.map(\.path) == ["p1.jpg", "p2.jpg"])
        let audio = try box.ctlJSON(LibraryPage.self, ["library", "list", "--kind", "audio"])
        #expect(audio.items.map(\.path) == ["tone.wav"])
        let table = try box.ctl(["library", "list"])
        #expect(table.stdout.split(separator: "\n").first?.hasPrefix("ID") == true)
        #expect(table.stdout.contains("tone.wav"))
        let bad = try box.ctl(["library", "list", "--kind", "hologram"])
        #expect(bad.status != 0)
    }
}
