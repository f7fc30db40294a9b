import ControlWire
import Foundation
import Testing

/// Restarts, crashes, broken databases and bad configurations.
@Suite(.serialized) struct RobustnessTests {
    @Test func restartRechecksByStatAloneAndRehashesNothing() throws {
        let box = try TestBox()
        try MediaFixtures.copy(MediaFixtures.film, to: box.media + "/film.mkv")
        try MediaFixtures.copy(MediaFixtures.song, to: box.media + "/a/song.mp3")
        try MediaFixtures.copy(MediaFixtures.photo, to: box.media + "/b/c/photo.jpg")
        try box.start()
        try box.waitUntilIndexed()
        let before = try box.items()
        let generation = try box.status().library.generation
        #expect(try box.stop() == 0)

        try box.start()
        try box.waitUntilIndexed()
        let status = try box.status()
        #expect(status.hashing.filesHashed == 0, "nothing is hashed again")
        #expect(status.library.generation == generation, "an unchanged tree writes nothing")
        #expect(try box.items() == before)
    }

    @Test func anIdleDaemonWritesNothingAfterReadingTags() throws {
        // TagLib opens files read-write to read tags, so inotify reports a close-after-write for each read: the
        // index must recognise the unchanged file instead of reading it again forever.
        let box = try TestBox()
        try MediaFixtures.copy(MediaFixtures.song, to: box.media + "/song.mp3")
        try box.start()
        try box.waitUntilIndexed()
        try MediaFixtures.copy(MediaFixtures.song, to: box.media + "/live.mp3")
        try eventually("live.mp3 is hashed") { try box.item(at: "live.mp3")?.contentID != nil }
        let generation = try box.status().library.generation
        usleep(1_500_000)
        #expect(try box.status().library.generation == generation)
    }

    @Test func aFileChangedWhileStoppedIsReadAndHashedAgainAlone() throws {
        let box = try TestBox()
        try MediaFixtures.copy(MediaFixtures.drawing, to: box.media + "/changes.png")
        try MediaFixtures.copy(MediaFixtures.photo, to: box.media + "/stays.jpg")
        try box.start()
        try box.waitUntilIndexed()
        try box.stop()
        let path = box.media + "/changes.png"
        try (Data(contentsOf: URL(fileURLWithPath: path)) + Data([1, 2, 3])).write(to: URL(fileURLWithPath: path))
        try box.start()
        try box.waitUntilIndexed()
        #expect(try box.status().hashing.filesHashed == 1)
    }

    @Test func sigtermStopsCleanlyAndLeavesAHealthyDatabase() throws {
        let box = try TestBox()
        try MediaFixtures.copy(MediaFixtures.photo, to: box.media + "/a.jpg")
        try box.start()
        try box.waitUntilIndexed()
        #expect(try box.stop(signal: SIGTERM) == 0)
        #expect(box.log.contains("mediapeerd stopped"))
        #expect(!FileManager.default.fileExists(atPath: box.socket) || !isListening(box.socket))
        let check = try Command.run(
            "/usr/bin/sqlite3", [box.state + "/index.sqlite", "PRAGMA integrity_check; SELECT count(*) FROM media;"])
        #expect(check.stdout == "ok\n1\n")
    }

    @Test func killedMidScanTheNextStartCompletesTheIndex() throws {
        let box = try TestBox()
        for index in 0..<200 {
            try MediaFixtures.copy(MediaFixtures.photo, to: box.media + "/d\(index % 10)/p\(index).jpg")
        }
        try box.start()
        try box.stop(signal: SIGKILL)
        try box.start()
        try box.waitUntilIndexed()
        let items = try box.items()
        #expect(items.count == 200)
        #expect(items.allSatisfy { $0.metadataRead && $0.contentID != nil && $0.metadata.width == 320 })
        let check = try Command.run("/usr/bin/sqlite3", [box.state + "/index.sqlite", "PRAGMA integrity_check;"])
        #expect(check.stdout == "ok\n")
    }

    @Test func aCorruptDatabaseIsMovedAsideAndRebuiltFromTheMedia() throws {
        let box = try TestBox()
        try MediaFixtures.copy(MediaFixtures.photo, to: box.media + "/a.jpg")
        try FileManager.default.createDirectory(atPath: box.state, withIntermediateDirectories: true)
        try Data(repeating: 0x5A, count: 64 * 1024).write(to: URL(fileURLWithPath: box.state + "/index.sqlite"))
        try box.start()
        try box.waitUntilIndexed()
        #expect(try box.items().map(\.path) == ["a.jpg"])
        #expect(box.log.contains("index database unusable"))
        let aside = try FileManager.default.contentsOfDirectory(atPath: box.state).filter {
            $0.hasPrefix("index.sqlite.unusable-")
        }
        #expect(aside.count == 1)
        #expect(FileManager.default.fileExists(atPath: box.media + "/a.jpg"), "the media is never touched")
    }

    @Test func aDatabaseFromANewerVersionIsMovedAsideNotDowngraded() throws {
        let box = try TestBox()
        try MediaFixtures.copy(MediaFixtures.photo, to: box.media + "/a.jpg")
        try box.start()
        try box.waitUntilIndexed(hashed: false)
        try box.stop()
        let future = try Command.run(
            "/usr/bin/sqlite3",
            [box.state + "/index.sqlite", "INSERT INTO grdb_migrations VALUES ('v99: from the future');"])
        #expect(future.status == 0)
        try box.start()
        try box.waitUntilIndexed(hashed: false)
        #expect(box.log.contains("newer version of mediapeer"))
        #expect(try box.items().map(\.path) == ["a.jpg"])
    }

    @Test func aMediaFolderThatVanishesKeepsItsFilesUntilItIsBack() throws {
        let box = try TestBox()
        try MediaFixtures.copy(MediaFixtures.photo, to: box.media + "/a.jpg")
        try box.start()
        try box.waitUntilIndexed(hashed: false)
        // A USB drive unmounted while the daemon runs: the folder is gone, and a rescan must not empty the library.
        try FileManager.default.moveItem(atPath: box.media, toPath: box.folder + "/unmounted")
        #expect(try box.ctl(["scan", "--wait"]).status == 0)
        #expect(try box.items().map(\.path) == ["a.jpg"])
        #expect(box.log.contains("media folder is missing"))
        try FileManager.default.moveItem(atPath: box.folder + "/unmounted", toPath: box.media)
        #expect(try box.ctl(["scan", "--wait"]).status == 0)
        #expect(try box.items().map(\.path) == ["a.jpg"])
    }

    @Test func aBadConfigurationStopsTheStartNamingKeyAndLine() throws {
        let box = try TestBox()
        try box.writeConfig(
            """
            media_dirs = ["\(box.media)"]
            http_port = "eighty"
            medai_dirs = []
            cache_dir = "\(box.folder)/cache"
            static_peers = ["nohost"]
            """)
        try FileManager.default.removeItem(atPath: box.media)
        let result = try Command.run(Binaries.daemon, ["--config", box.configPath], timeout: .seconds(30))
        #expect(result.status == 78)
        #expect(result.stderr.contains("mediapeer.toml:2: http_port"))
        #expect(result.stderr.contains("mediapeer.toml:3: unknown key \"medai_dirs\" (did you mean \"media_dirs\"?)"))
        #expect(result.stderr.contains("mediapeer.toml:1: media_dirs[0]") && result.stderr.contains("does not exist"))
        #expect(result.stderr.contains("mediapeer.toml:5: static_peers[0]"))
        let check = try box.ctl(["config", "check", box.configPath])
        #expect(check.status == 78)
        #expect(check.stderr.contains("mediapeer.toml:2: http_port"))
    }

    @Test func configCheckPrintsTheEffectiveSettingsOfAGoodFile() throws {
        let box = try TestBox()
        let check = try box.ctl(["config", "check", box.configPath])
        #expect(check.status == 0)
        #expect(check.stdout.contains("OK") && check.stdout.contains(box.media))
    }

    @Test func theCLIWithoutADaemonSaysSoInOneLineAndFails() throws {
        let box = try TestBox()
        let result = try box.ctl(["status"])
        #expect(result.status == 3)
        #expect(result.stderr == "mediapeerctl: mediapeerd is not running (no control socket at \(box.socket))\n")
        #expect(result.stdout.isEmpty)
    }

    @Test func aStaleSocketFromAKilledDaemonIsReplaced() throws {
        let box = try TestBox()
        try box.start()
        try box.stop(signal: SIGKILL)
        #expect(FileManager.default.fileExists(atPath: box.socket))
        let stale = try box.ctl(["status"])
        #expect(stale.status == 3)
        try box.start()
        #expect(try box.ctl(["status"]).status == 0)
    }

    @Test func theControlSocketIsReadableByOwnerAndGroupOnly() throws {
        let box = try TestBox()
        try box.start()
        let attributes = try FileManager.default.attributesOfItem(atPath: box.socket)
        #expect((attributes[.posixPermissions] as? Int) == 0o660)
    }

    @Test func scanWaitReportsTheFinishedScan() throws {
        let box = try TestBox()
        try box.start()
        try box.waitUntilIndexed()
        try MediaFixtures.copy(MediaFixtures.photo, to: box.media + "/late.jpg")
        let result = try box.ctl(["scan", "--wait"])
        #expect(result.status == 0 && result.stdout.contains("scan 2 finished"))
        // JSON lines: the scan's progress while it runs (none if it is over by the first look), then the status.
        let waited = try box.ctl(["scan", "--wait", "--json"])
        #expect(waited.status == 0, "\(waited.stderr)")
        let lines = waited.stdout.split(separator: "\n").map { Data($0.utf8) }
        let decoder = ControlJSON.decoder()
        let json = try decoder.decode(DaemonStatus.self, from: try #require(lines.last))
        #expect(json.scan.completedScans >= 3 && json.library.files == 1)
        for line in lines.dropLast() { _ = try decoder.decode(ScanProgress.self, from: line) }
    }

    private func isListening(_ path: String) -> Bool {
        (try? Command.run(Binaries.control, ["--socket", path, "status"]).status) == 0
    }
}
