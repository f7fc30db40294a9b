import Foundation
import Testing

/// Changes made while the daemon runs show up without a rescan (inotify).
@Suite(.serialized) struct LiveUpdateTests {
    private func runningBox(with files: [(String, String)] = []) throws -> TestBox {
        let box = try TestBox()
        for (fixture, path) in files { try MediaFixtures.copy(fixture, to: box.media + "/" + path) }
        try box.start()
        try box.waitUntilIndexed()
        return box
    }

    @Test func aFileCopiedInAppearsWithItsMetadata() throws {
        let box = try runningBox()
        try MediaFixtures.copy(MediaFixtures.song, to: box.media + "/new.mp3")
        try eventually("new.mp3 is listed with its title") {
            try box.item(at: "new.mp3")?.metadata.title == "Bohemian Sunrise"
        }
        #expect(try box.status().scan.completedScans == 1, "no rescan was needed")
    }

    @Test func aRewrittenFileGetsNewFactsAndANewContentID() throws {
        let box = try runningBox(with: [(MediaFixtures.drawing, "picture.png")])
        let before = try #require(try box.item(at: "picture.png"))
        let firstID = try #require(before.contentID)
        // Overwrite in place (same inode), as an editor saving the file does: same picture, a comment chunk longer.
        let path = box.media + "/picture.png"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path)) + Data("trailing bytes".utf8)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: bytes)
        try handle.close()
        try eventually("the rewrite is indexed and hashed") {
            guard let item = try box.item(at: "picture.png") else { return false }
            return item.size == Int64(bytes.count) && item.contentID != nil && item.contentID != firstID
        }
        let after = try #require(try box.item(at: "picture.png"))
        #expect(after.id == before.id && after.metadata.width == 64)
    }

    @Test func aRenameKeepsTheIdAndContentIDWithoutRehashing() throws {
        let box = try runningBox(with: [(MediaFixtures.film, "film.mkv")])
        let before = try #require(try box.item(at: "film.mkv"))
        let hashedBefore = try box.status().hashing.filesHashed
        try FileManager.default.moveItem(atPath: box.media + "/film.mkv", toPath: box.media + "/Renamed Film.mkv")
        try eventually("the new name is listed") { try box.item(at: "Renamed Film.mkv") != nil }
        let after = try #require(try box.item(at: "Renamed Film.mkv"))
        #expect(after.id == before.id && after.contentID == before.contentID && after.metadata == before.metadata)
        #expect(try box.item(at: "film.mkv") == nil)
        #expect(try box.status().hashing.filesHashed == hashedBefore)
    }

    @Test func aDeletedFileDisappears() throws {
        let box = try runningBox(with: [(MediaFixtures.tone, "tone.wav"), (MediaFixtures.photo, "keep.jpg")])
        try FileManager.default.removeItem(atPath: box.media + "/tone.wav")
        try eventually("tone.wav is gone") { try box.items().map(\.path) == ["keep.jpg"] }
    }

    @Test func aFolderCreatedWithFilesAppearsWhole() throws {
        let box = try runningBox()
        try FileManager.default.createDirectory(atPath: box.media + "/Holiday/Day 1", withIntermediateDirectories: true)
        try MediaFixtures.copy(MediaFixtures.photo, to: box.media + "/Holiday/Day 1/a.jpg")
        try MediaFixtures.copy(MediaFixtures.song, to: box.media + "/Holiday/b.mp3")
        try eventually("both files are listed") {
            try Set(box.items().map(\.path)) == ["Holiday/Day 1/a.jpg", "Holiday/b.mp3"]
        }
        // The new folders are watched too.
        try MediaFixtures.copy(MediaFixtures.tone, to: box.media + "/Holiday/Day 1/c.wav")
        try eventually("a file added later in the new folder is listed") {
            try box.item(at: "Holiday/Day 1/c.wav") != nil
        }
    }

    @Test func aFolderMovedInFromOutsideIsIndexed() throws {
        let box = try runningBox()
        let outside = box.folder + "/incoming"
        try MediaFixtures.copy(MediaFixtures.photo, to: outside + "/Sub/x.jpg")
        try MediaFixtures.copy(MediaFixtures.clip, to: outside + "/y.mp4")
        try FileManager.default.moveItem(atPath: outside, toPath: box.media + "/Incoming")
        try eventually("the moved-in files are listed") {
            try Set(box.items().map(\.path)) == ["Incoming/Sub/x.jpg", "Incoming/y.mp4"]
        }
    }

    @Test func aRenamedFolderMovesItsFilesAndKeepsWatchingThem() throws {
        let box = try runningBox(with: [(MediaFixtures.photo, "Old/Deep/a.jpg"), (MediaFixtures.song, "Old/b.mp3")])
        let before = try box.items()
        try FileManager.default.moveItem(atPath: box.media + "/Old", toPath: box.media + "/New Name")
        try eventually("paths follow the folder") {
            try Set(box.items().map(\.path)) == ["New Name/Deep/a.jpg", "New Name/b.mp3"]
        }
        #expect(try Set(box.items().map(\.contentID)) == Set(before.map(\.contentID)))
        try MediaFixtures.copy(MediaFixtures.tone, to: box.media + "/New Name/Deep/c.wav")
        try eventually("a file added in the renamed folder is listed under the new name") {
            try box.item(at: "New Name/Deep/c.wav") != nil
        }
    }

    @Test func aDeletedFolderTakesItsFilesAway() throws {
        let box = try runningBox(with: [
            (MediaFixtures.photo, "Gone/a.jpg"), (MediaFixtures.photo, "Gone/Sub/b.jpg"),
            (MediaFixtures.tone, "stay.wav"),
        ])
        try FileManager.default.removeItem(atPath: box.media + "/Gone")
        try eventually("only stay.wav is left") { try box.items().map(\.path) == ["stay.wav"] }
    }

    @Test func aFolderMovedOutOfTheTreeTakesItsFilesAway() throws {
        let box = try runningBox(with: [(MediaFixtures.photo, "Leaving/a.jpg"), (MediaFixtures.tone, "stay.wav")])
        try FileManager.default.moveItem(atPath: box.media + "/Leaving", toPath: box.folder + "/left")
        try eventually("only stay.wav is left") { try box.items().map(\.path) == ["stay.wav"] }
        // The moved-out folder is no longer watched: changes there do not reach the index.
        try MediaFixtures.copy(MediaFixtures.photo, to: box.folder + "/left/late.jpg")
        try MediaFixtures.copy(MediaFixtures.tone, to: box.media + "/marker.wav")
        try eventually("the marker is listed") { try box.item(at: "marker.wav") != nil }
        #expect(try box.items().map(\.path).sorted() == ["marker.wav", "stay.wav"])
    }

    @Test func watchLimitFallsBackToRescansWithAWarning() throws {
        let box = try TestBox()
        try MediaFixtures.copy(MediaFixtures.photo, to: box.media + "/A/a.jpg")
        try MediaFixtures.copy(MediaFixtures.photo, to: box.media + "/B/b.jpg")
        try box.start(environment: ["MEDIAPEER_MAX_WATCHES": "1"])
        try box.waitUntilIndexed()
        #expect(try box.status().scan.liveUpdatesDegraded)
        #expect(box.log.contains("inotify watch limit reached"))
        #expect(try box.ctl(["status"]).stdout.contains("watch limit"))
        // A manual rescan still finds what live updates could not see.
        try MediaFixtures.copy(MediaFixtures.tone, to: box.media + "/B/new.wav")
        #expect(try box.ctl(["scan", "--wait"]).status == 0)
        #expect(try box.item(at: "B/new.wav") != nil)
    }
}
