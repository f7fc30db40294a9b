import ControlWire
import Foundation
import Testing
import WireVocabulary

/// Faults of a box's storage: its cache's file system filling up during a fetch, its state's file system full while
/// the index writes, a state folder it cannot write, and a media drive mounted only after the daemon started. The
/// file systems are small ext4 images on loop devices (`LoopDrive`), mounted inside the box and outside it.
extension FaultSuite {
    @Test(.enabled(if: LoopDrive.available, "no loop device or mkfs.ext4 here"))
    func aCacheThatFillsUpDuringAFetchFailsItCleanly() throws {
        let harness = try FaultHarness(scenario: "cache-full", boxes: 2, tag: "cf", aroundTheDaemon: true)
        // Room for the title and the fetch's reserve for the rest of the box (64 MiB), until the disk fills.
        let cache = try LoopDrive(harness.home, box: 1, at: harness.home.box(1) + "/cache", megabytes: 128)
        defer { withExtendedLifetime(harness) { cache.unmount() } }
        try cache.mount()
        try harness.home.addLargeVideo("feature.mkv", megabytes: 16, to: [2])
        let own = try harness.home.addLargeVideo("own.mkv", megabytes: 2, to: [1])
        try harness.start(1)
        try harness.start(2)
        let id = try harness.home.contentID(of: "feature.mkv", in: 2)
        let ownID = try harness.home.contentID(of: "own.mkv", in: 1)
        try harness.home.waitUntilListed(id, in: 1, heldBy: ["Box 2"])
        try harness.home.shape(2, rate: "40mbit")
        try harness.runs { _ in
            _ = try harness.home.ctl(1, ["cache", "evict", "--force", id.hex])
            let fetch = try harness.home.ctl(1, ["fetch", id.hex])
            guard fetch.status == 0 else { throw TestFailure("box 1 cannot fetch: \(fetch.stderr)") }
            // At most 12 of the 16 chunks: at least 4 MiB still to come when the disk fills.
            let moment = harness.pick(1...12)
            var reached: FetchProgress?
            try eventually(timeout: .seconds(120), "box 1 verified \(moment) chunks") {
                reached = try harness.home.fetchState(id, in: 1)
                return (reached?.chunksDone ?? 0) >= moment || (reached?.isFinished ?? false)
            }
            let finished = reached?.isFinished ?? false
            if finished { harness.missedPhase() }
            // Something else on the box takes the disk, leaving a seeded few blocks free (or none): less than half
            // of what the fetch still has to write, so it cannot complete.
            let remaining = (reached.map { $0.size - $0.bytesDone } ?? 0) >> 20
            try cache.fill("filler", leaving: Int64(harness.pick(0...Int(max(0, remaining / 2)))) << 20)
            harness.injectedElsewhere()
            let final = try harness.home.waitForFetch(id, in: 1, timeout: .seconds(120))
            if final.state == .failed {
                let message = final.message ?? ""
                guard ["space", "full", "fit"].contains(where: { message.localizedCaseInsensitiveContains($0) }) else {
                    throw TestFailure("the fetch failed without saying the disk is full: \(message)")
                }
            } else if !finished {
                throw TestFailure("the fetch ended \(final.state) on a full disk: \(final.message ?? "")")
            }
            // Box 1 still serves: a player on box 2 reads box 1's own title whole.
            let url = harness.home.mediaURL(ownID, through: 1, fileExtension: "mkv")
            let play = try harness.home.exec(
                2, ["/bin/sh", "-c", "curl -sf \"$0\" | sha256sum", url], timeout: .seconds(60))
            guard play.status == 0, play.stdout.hasPrefix(try sha256(own)) else {
                throw TestFailure("box 1 stopped serving on a full cache: \(play.stdout) \(play.stderr)")
            }
            let before = try harness.mediaDigests([1, 2])
            try FileManager.default.removeItem(atPath: cache.mountPoint + "/filler")
            try harness.check([1, 2], mediaBefore: before)
        }
    }

    @Test func aStateFolderTheDaemonCannotWriteIsReportedAtStart() throws {
        let harness = try FaultHarness(scenario: "state-unwritable", boxes: 1, tag: "su", aroundTheDaemon: true)
        try Self.addTree(harness.home, box: 1, folder: "library", count: 12)
        try harness.start(1)
        try harness.settle([1])
        let state = harness.home.box(1) + "/state"
        let config = harness.home.box(1) + "/mediapeer.toml"
        try harness.runs { _ in
            try harness.stop(1)
            let before = try harness.mediaDigests([1])
            // A fresh box (no index yet) or one with its index, on a state folder mounted read-only.
            if harness.pick(0...1) == 0 {
                try FileManager.default.removeItem(atPath: state)
                try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
            }
            for command in [["mount", "--bind", state, state], ["mount", "-o", "remount,ro,bind", state]] {
                let mounted = try harness.home.exec(1, command)
                guard mounted.status == 0 else { throw TestFailure("\(command) failed: \(mounted.stderr)") }
            }
            harness.injectedElsewhere()
            // As systemd runs it: what it exits with and what it says, once.
            let run = try harness.home.exec(1, [Binaries.daemon, "--config", config], timeout: .seconds(60))
            let unmounted = try harness.home.exec(1, ["umount", state])
            guard unmounted.status == 0 else { throw TestFailure("umount \(state) failed: \(unmounted.stderr)") }
            let said = run.stdout + run.stderr
            guard run.status != 0, said.contains(state), said.contains("state_dir"),
                said.localizedCaseInsensitiveContains("read-only")
            else {
                throw TestFailure(
                    "mediapeerd on a read-only state folder exited \(run.status) without naming it and the fix:\n"
                        + said.suffix(3000))
            }
            let recovered = harness.restart(1)
            try harness.check([1], mediaBefore: before, recovered: [1: recovered])
        }
    }

    @Test(.enabled(if: LoopDrive.available, "no loop device or mkfs.ext4 here"))
    func aFullStateFileSystemKeepsTheIndexIntactAndCatchesUpOnceSpaceIsBack() throws {
        let harness = try FaultHarness(scenario: "state-full", boxes: 1, tag: "sf", aroundTheDaemon: true)
        let state = try LoopDrive(harness.home, box: 1, at: harness.home.box(1) + "/state", megabytes: 24)
        defer { withExtendedLifetime(harness) { state.unmount() } }
        try state.mount()
        try Self.addTree(harness.home, box: 1, folder: "library", count: 30)
        try harness.start(1)
        try harness.settle([1])
        try harness.runs { run in
            let errors = Self.indexWriteErrors(harness.home.log(1))
            // The disk fills up (a seeded few KiB left, or none); then new files arrive and the index must record them.
            try state.fill("filler", leaving: Int64(harness.pick(0...64)) << 10)
            harness.injectedElsewhere()
            try Self.addTree(harness.home, box: 1, folder: "arrivals-\(run)", count: harness.pick(20...120))
            try eventually(
                timeout: .seconds(60),
                "box 1 reports that it cannot write its index\n\(harness.home.log(1).suffix(3000))"
            ) {
                Self.indexWriteErrors(harness.home.log(1)) > errors
            }
            let full = ContinuousClock.now
            let answered = harness.timeToAnswer(1, since: full)
            let integrity = try harness.home.indexRows(1, "PRAGMA integrity_check;").map { $0.joined() }
            guard integrity == ["ok"] else { throw TestFailure("box 1's index on a full disk: \(integrity)") }
            try FileManager.default.removeItem(atPath: state.mountPoint + "/filler")
            let before = try harness.mediaDigests([1])
            // Nobody asks: the index catches up by itself once there is room again.
            try eventually(timeout: .seconds(90), "box 1's index catches up\n\(harness.home.log(1).suffix(3000))") {
                try harness.home.indexCount(1, "SELECT count(*) FROM media;") == before[1]?.count
            }
            try harness.check([1], mediaBefore: before, recovered: [1: answered])
        }
    }

    /// How many times the daemon logged that a write to its index failed.
    private static func indexWriteErrors(_ log: String) -> Int {
        log.split(separator: "\n").filter { $0.contains("error") && $0.localizedCaseInsensitiveContains("full") }.count
    }

    @Test(.enabled(if: LoopDrive.available, "no loop device or mkfs.ext4 here"))
    func aMediaDriveMountedAfterTheStartComesBackNeverWiped() throws {
        let harness = try FaultHarness(scenario: "late-drive", boxes: 1, tag: "ld", aroundTheDaemon: true)
        // Box 1's media folder is the drive's mount point: an empty folder while the drive is not mounted.
        let drive = try LoopDrive(harness.home, box: 1, at: harness.home.box(1) + "/media", megabytes: 64)
        defer { withExtendedLifetime(harness) { drive.unmount() } }
        try drive.mount()
        try Self.addTree(harness.home, box: 1, folder: "films", count: 40)
        try harness.start(1)
        try harness.settle([1])
        try harness.runs { run in
            try harness.stop(1)
            let indexed = try harness.home.indexCount(1, "SELECT count(*) FROM media;")
            drive.unmount()
            harness.injectedElsewhere()
            try harness.launch(1)
            // The drive appears as the daemon starts, or once its first scan found the folder empty.
            let afterTheScan = harness.pick(0...1) == 1
            if afterTheScan {
                try eventually(timeout: .seconds(60), "box 1's first scan ends") {
                    (harness.status(1)?.scan.completedScans ?? 0) >= 1
                }
                let kept = try harness.home.indexCount(1, "SELECT count(*) FROM media;")
                guard kept == indexed else {
                    throw TestFailure(
                        "box 1 wiped its titles while the drive was not mounted: \(kept) of \(indexed) left\n"
                            + harness.home.log(1).suffix(3000))
                }
            }
            let started = ContinuousClock.now
            try drive.mount()
            let answered = harness.timeToAnswer(1, since: started)
            // New files on the drive once it is there: live updates cover the drive, not the folder below it.
            try Self.addTree(harness.home, box: 1, folder: "arrivals-\(run)", count: harness.pick(1...10))
            let before = try harness.mediaDigests([1])
            try eventually(
                timeout: .seconds(60), "box 1 lists the drive's files again\n\(harness.home.log(1).suffix(3000))"
            ) {
                try harness.home.indexCount(1, "SELECT count(*) FROM media;") == before[1]?.count
            }
            try harness.check([1], mediaBefore: before, recovered: [1: answered])
        }
    }
}
