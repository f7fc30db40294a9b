import ControlWire
import Foundation
import Testing

/// SIGHUP (`systemctl reload`) applies a changed `media_dirs` and the cache's settings without a restart.
@Suite(.serialized) struct ConfigReloadTests {
    private func paths(_ box: TestBox) throws -> Set<String> {
        Set(try box.items().map { ($0.root == box.media ? "media/" : "extra/") + $0.path })
    }

    @Test func aFolderAddedToTheConfigurationIsScannedAndWatchedAfterSIGHUP() throws {
        let box = try TestBox()
        let extra = box.folder + "/extra"
        try MediaFixtures.copy(MediaFixtures.photo, to: box.media + "/a.jpg")
        try MediaFixtures.copy(MediaFixtures.song, to: extra + "/Music/b.mp3")
        try box.start()
        try box.waitUntilIndexed()
        let pid = try #require(box.daemon?.pid)

        try box.writeConfig(mediaFolders: [box.media, extra])
        try box.reload()
        try eventually("the new folder's file is listed") { try paths(box) == ["media/a.jpg", "extra/Music/b.mp3"] }
        let status = try box.status()
        #expect(status.pid == pid, "reloaded, not restarted")
        #expect(status.mediaFolders == [box.media, extra])
        #expect(try box.item(at: "Music/b.mp3")?.metadata.title == "Bohemian Sunrise")
        // The new folder is watched: a file copied in later shows up without a rescan.
        let scans = status.scan.completedScans
        try MediaFixtures.copy(MediaFixtures.tone, to: extra + "/Music/c.wav")
        try eventually("a file added later to the new folder is listed") { try box.item(at: "Music/c.wav") != nil }
        #expect(try box.status().scan.completedScans == scans)
    }

    @Test func aFolderRemovedFromTheConfigurationIsDroppedButItsFilesStay() throws {
        let box = try TestBox()
        let extra = box.folder + "/extra"
        try MediaFixtures.copy(MediaFixtures.photo, to: box.media + "/a.jpg")
        try MediaFixtures.copy(MediaFixtures.song, to: extra + "/b.mp3")
        try box.writeConfig(mediaFolders: [box.media, extra])
        try box.start()
        try box.waitUntilIndexed()
        #expect(try paths(box) == ["media/a.jpg", "extra/b.mp3"])

        try box.writeConfig(mediaFolders: [box.media])
        try box.reload()
        try eventually("only the remaining folder's file is listed") { try paths(box) == ["media/a.jpg"] }
        #expect(try box.status().mediaFolders == [box.media])
        #expect(
            FileManager.default.fileExists(atPath: extra + "/b.mp3"),
            "dropping a folder from the index never touches its files")
        // The dropped folder is no longer watched: inotify events arrive in order, so once the marker in the
        // remaining folder is listed, a change in the dropped one made before it would have been too.
        try MediaFixtures.copy(MediaFixtures.tone, to: extra + "/late.wav")
        try MediaFixtures.copy(MediaFixtures.tone, to: box.media + "/marker.wav")
        try eventually("the marker is listed") { try box.item(at: "marker.wav") != nil }
        #expect(try paths(box) == ["media/a.jpg", "media/marker.wav"])
    }

    @Test func aConfigurationThatNoLongerLoadsKeepsTheRunningOne() throws {
        let box = try TestBox()
        try MediaFixtures.copy(MediaFixtures.photo, to: box.media + "/a.jpg")
        try box.start()
        try box.waitUntilIndexed()

        try box.writeConfig("media_dirs = \"not a list\"\n")
        try box.reload()
        try eventually("the daemon reports the bad file") { box.log.contains("keeping the running one") }
        #expect(box.log.contains("media_dirs"), "the problem is named")
        let status = try box.status()
        #expect(status.mediaFolders == [box.media])
        #expect(try paths(box) == ["media/a.jpg"])
    }

    @Test func aChangedKeyThatNeedsARestartIsReported() throws {
        let box = try TestBox()
        try box.start()
        try box.waitUntilIndexed()
        try box.writeConfig(
            try String(contentsOfFile: box.configPath, encoding: .utf8)
                .replacingOccurrences(of: "name = \"Test Box\"", with: "name = \"Renamed Box\""))
        try box.reload()
        try eventually("the reload is logged") { box.log.contains("media folders unchanged") }
        #expect(box.log.contains("take effect at the next restart"))
        #expect(try box.status().name == "Test Box")
    }

    @Test func aLoweredCacheMaxAndNewWatermarksApplyAfterSIGHUP() throws {
        let box = try TestBox()
        try box.start()
        try box.waitUntilIndexed()
        #expect(try box.ctlJSON(CacheReport.self, ["cache"]).quota == "20%")

        try box.writeConfig(
            try String(contentsOfFile: box.configPath, encoding: .utf8)
                + "\ncache_max = \"1MB\"\ncache_high_watermark = 0.5\ncache_low_watermark = 0.25\nreplication = \"off\"\n"
        )
        try box.reload()
        try eventually("the reload is logged") { box.log.contains("cache settings applied") }
        let report = try box.ctlJSON(CacheReport.self, ["cache"])
        #expect(report.quota == "1MB" && report.quotaBytes == 1_000_000)
        #expect(report.highWatermark == 0.5 && report.lowWatermark == 0.25 && report.replication == "off")
        #expect(!box.log.contains("take effect at the next restart"))
    }
}
