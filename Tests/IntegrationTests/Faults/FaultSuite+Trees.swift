import ControlWire
import Foundation
import Testing
import WireVocabulary

#if canImport(Glibc)
    import Glibc
#endif

/// Media trees as real drives have them, scanned while the daemon is SIGKILLed at seeded moments: symlink loops,
/// symlinks out of the media folder, FIFOs, sockets and device nodes named like media, empty and truncated files, a
/// file the daemon cannot read; between runs files turn into pipes and back, and more odd entries arrive while it
/// runs. The scan must end (a FIFO must never block it), and the index must list exactly the playable files.
extension FaultSuite {
    /// Builds the odd entries of `folder` (relative to the media folder) and returns those that are present as
    /// regular files yet no player can play (empty, cut before their format's header, not media inside).
    /// Entries that are not regular files (pipes, sockets, devices, symlinks) are never media to the checks.
    static func addOddEntries(_ home: SimulatedHome, box index: Int, folder: String) throws -> Set<String> {
        let media = home.box(index) + "/media"
        let target = media + "/" + folder
        let files = FileManager.default
        try files.createDirectory(atPath: target + "/deeper", withIntermediateDirectories: true)
        // Loops: a folder linked to its parent and to the media folder, a link to itself, two links to each other.
        try files.createSymbolicLink(atPath: target + "/parent", withDestinationPath: "..")
        try files.createSymbolicLink(atPath: target + "/deeper/top", withDestinationPath: media)
        try files.createSymbolicLink(atPath: target + "/self.mkv", withDestinationPath: "self.mkv")
        try files.createSymbolicLink(atPath: target + "/ping.mp4", withDestinationPath: "pong.mp4")
        try files.createSymbolicLink(atPath: target + "/pong.mp4", withDestinationPath: "ping.mp4")
        // Out of the media folder: a file and a whole folder.
        try files.createSymbolicLink(
            atPath: target + "/outside.mp4", withDestinationPath: MediaFixtures.folder + "/" + MediaFixtures.clip)
        try files.createSymbolicLink(atPath: target + "/outside", withDestinationPath: MediaFixtures.folder)
        // Named like media, not files: a pipe nobody writes to, a socket, /dev/null and /dev/zero.
        guard mkfifo(target + "/pipe.mkv", 0o644) == 0 else { throw TestFailure("mkfifo: errno \(errno)") }
        try makeSocket(at: target + "/socket.mp4")
        for (name, minor) in [("null.mp3", "3"), ("zero.jpg", "5")] {
            let made = try Command.run("/usr/bin/mknod", [target + "/" + name, "c", "1", minor])
            guard made.status == 0 else { throw TestFailure("mknod \(name): \(made.stderr)") }
        }
        // Empty, cut inside the header, not media at all: present, not playable.
        var unplayable: Set<String> = []
        func write(_ name: String, _ bytes: [UInt8], playable: Bool) throws {
            guard files.createFile(atPath: target + "/" + name, contents: Data(bytes)) else {
                throw TestFailure("cannot write \(target)/\(name)")
            }
            if !playable { unplayable.insert(folder + "/" + name) }
        }
        try write("empty.mp4", [], playable: false)
        try write("cut-header.mkv", Array(try fixture(MediaFixtures.film).prefix(3)), playable: false)
        try write("notes.mp4", Array("not a film, a shopping list\n".utf8), playable: false)
        // Cut mid-stream, as an interrupted copy leaves them: the header is whole, a player plays up to the cut,
        // and every reader meets data that ends early.
        let fixtures = [
            MediaFixtures.song, MediaFixtures.photo, MediaFixtures.clip, MediaFixtures.film, MediaFixtures.drawing,
            MediaFixtures.tone,
        ]
        for name in fixtures {
            let bytes = try fixture(name)
            try write("cut-" + name, Array(bytes.prefix(max(64, bytes.count / 2))), playable: true)
            try write("stub-" + name, Array(bytes.prefix(64)), playable: true)
        }
        // A film whose every read fails in the box (a write-only sysfs attribute bound over it in the box's mount
        // namespace: even root gets EACCES); the checks, outside the box, read the film's bytes.
        try write("unreadable.mkv", Array(try fixture(MediaFixtures.film)), playable: false)
        let bound = try home.exec(index, ["mount", "--bind", unreadableSource, target + "/unreadable.mkv"])
        guard bound.status == 0 else { throw TestFailure("bind mount of \(unreadableSource): \(bound.stderr)") }
        return unplayable
    }

    /// A regular file that even root cannot open for reading: a write-only sysfs attribute.
    static let unreadableSource =
        ["/sys/bus/platform/uevent", "/sys/bus/pci/rescan"].first {
            FileManager.default.fileExists(atPath: $0)
        } ?? "/sys/bus/platform/uevent"

    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: MediaFixtures.folder + "/" + name))
    }

    /// A UNIX socket bound at `path` (the file stays after the socket is closed), made with perl-base's
    /// IO::Socket::UNIX as the checks' digests are.
    static func makeSocket(at path: String) throws {
        let made = try Command.run(
            "/usr/bin/perl", ["-MIO::Socket::UNIX", "-e", "IO::Socket::UNIX->new(Local => $ARGV[0]) or die $!", path])
        guard made.status == 0 else { throw TestFailure("cannot make a socket at \(path): \(made.stderr)") }
    }

    /// Turns `changing/` over while the daemon is down: what was a film becomes a pipe, the pipe a film, a full
    /// file is emptied and the empty one filled. Returns the unplayable files it leaves.
    private static func turnOver(_ home: SimulatedHome, box index: Int, run: Int) throws -> Set<String> {
        let folder = home.box(index) + "/media/changing"
        let files = FileManager.default
        try files.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let even = run % 2 == 0
        for name in ["a.mkv", "b.mkv", "c.mp4", "d.mp4"] { try? files.removeItem(atPath: folder + "/" + name) }
        // Even runs: a and c are films, b a pipe, d empty; odd runs the other way round.
        let (film, pipe, clip, empty) =
            even ? ("a.mkv", "b.mkv", "c.mp4", "d.mp4") : ("b.mkv", "a.mkv", "d.mp4", "c.mp4")
        try files.copyItem(atPath: MediaFixtures.folder + "/" + MediaFixtures.film, toPath: folder + "/" + film)
        guard mkfifo(folder + "/" + pipe, 0o644) == 0 else { throw TestFailure("mkfifo: errno \(errno)") }
        try files.copyItem(atPath: MediaFixtures.folder + "/" + MediaFixtures.clip, toPath: folder + "/" + clip)
        _ = files.createFile(atPath: folder + "/" + empty, contents: nil)
        return ["changing/" + empty]
    }

    /// Odd entries created while the daemon runs (its watcher meets them, not the walk). Returns the unplayable
    /// ones and the playable file to wait for.
    private static func arriveLive(_ home: SimulatedHome, box index: Int, run: Int) throws -> (Set<String>, String) {
        let relative = "live-\(run)"
        let folder = home.box(index) + "/media/" + relative
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        guard mkfifo(folder + "/pipe.mp4", 0o644) == 0 else { throw TestFailure("mkfifo: errno \(errno)") }
        try makeSocket(at: folder + "/socket.mkv")
        try FileManager.default.createSymbolicLink(atPath: folder + "/loop", withDestinationPath: ".")
        _ = FileManager.default.createFile(atPath: folder + "/empty.mkv", contents: nil)
        let clip = try fixture(MediaFixtures.clip)
        _ = FileManager.default.createFile(atPath: folder + "/cut.mp4", contents: clip.prefix(clip.count / 3))
        return ([relative + "/empty.mkv"], relative + "/cut.mp4")
    }

    @Test func anOddTreeIsScannedToTheEndAndIndexesExactlyWhatIsPlayable() throws {
        let harness = try FaultHarness(scenario: "odd-trees", boxes: 2, tag: "ot", aroundTheDaemon: true)
        let files = 800
        try Self.addTree(harness.home, box: 1, folder: "library", count: files)
        var unplayable = try Self.addOddEntries(harness.home, box: 1, folder: "odd")
        try harness.start(2)
        try harness.runs { run in
            try harness.stop(1)
            unplayable = unplayable.filter { !$0.hasPrefix("changing/") }.union(
                try Self.turnOver(harness.home, box: 1, run: run))
            let before = try harness.mediaDigests([1, 2])
            // A first scan or, with the index kept, a rescan of what changed while the daemon was down.
            let firstScan = harness.pick(0...1) == 0
            if firstScan { try? FileManager.default.removeItem(atPath: harness.home.box(1) + "/state") }
            let moment = harness.pick(1...(firstScan ? 2 * files - 1 : files))
            try harness.launch(1)
            try Self.killAt(
                harness, 1, when: { Self.scanPosition($0, walked: files) >= moment },
                over: { $0.scan.completedScans >= 1 })
            let recovered = harness.restart(1)
            try harness.settle([1])
            let (live, waitFor) = try Self.arriveLive(harness.home, box: 1, run: run)
            unplayable.formUnion(live)
            try eventually(timeout: .seconds(60), "box 1 indexes \(waitFor) from its watcher") {
                try harness.home.indexCount(1, "SELECT count(*) FROM media WHERE rel_path = '\(waitFor)';") == 1
            }
            // The live arrivals are the only new files; every other file must still be as it was.
            var expected = before
            for (path, digest) in try harness.home.mediaDigests(1).digests where path.hasPrefix("live-\(run)/") {
                expected[1, default: [:]][path] = digest
            }
            try harness.check([1, 2], mediaBefore: expected, recovered: [1: recovered], unplayable: [1: unplayable])
            let skipped = try harness.home.status(1).scan.skipped
            for reason in ["notRegularFile", "brokenSymlink", "symlinkLeavesRoot", "unreadable"] {
                guard (skipped[reason] ?? 0) > 0 else {
                    throw TestFailure("box 1's scan counted no \(reason) entry: \(skipped)")
                }
            }
        }
    }
}
