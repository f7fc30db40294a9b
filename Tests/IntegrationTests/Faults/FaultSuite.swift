import ControlWire
import Foundation
import Testing
import WireVocabulary

/// The fault-injection suite (issue 13): mediapeerd SIGKILLed at seeded moments of each phase of its work, chosen
/// from its own progress (files read, bytes hashed, chunks verified, records gone), then started again and the
/// whole end state of every box checked (`FaultInvariants`). `scripts/fault-suite` runs it with a seed and a number
/// of runs per scenario and writes RELIABILITY.md; without them (as in `scripts/test`) each scenario runs once
/// with a fixed seed.
@Suite(.serialized) struct FaultSuite {
    /// A tree of `count` real media files in `folder` of box `index`'s media (copies of the fixtures, so every
    /// kind's reader runs), written while its daemon is stopped.
    static func addTree(_ home: SimulatedHome, box index: Int, folder: String, count: Int) throws {
        let fixtures = [
            MediaFixtures.song, MediaFixtures.photo, MediaFixtures.clip, MediaFixtures.film, MediaFixtures.drawing,
            MediaFixtures.tone,
        ]
        let target = home.box(index) + "/media/" + folder
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        for number in 0..<count {
            let fixture = fixtures[number % fixtures.count]
            let name = "\(number)-" + fixture
            try FileManager.default.copyItem(atPath: MediaFixtures.folder + "/" + fixture, toPath: target + "/" + name)
        }
    }

    /// Kills box `index` once `reached` holds of its status (polled), or notes that the phase had ended (`over`).
    static func killAt(
        _ harness: FaultHarness, _ index: Int, when reached: (DaemonStatus) -> Bool, over: (DaemonStatus) -> Bool
    ) throws {
        var passed = false
        try eventually(timeout: .seconds(120), "box \(index) reaches the fault's moment") {
            guard let status = harness.status(index) else { return false }
            if reached(status) { return true }
            passed = over(status)
            return passed
        }
        if passed { harness.missedPhase() }
        try harness.kill(index)
    }

    /// How far a scan of `walked` files of which `read` are new or changed has come, in files: walked, then read.
    static func scanPosition(_ status: DaemonStatus, walked: Int) -> Int {
        switch status.scan.phase {
        case .walking: status.scan.filesSeen
        case .readingMetadata: walked + status.scan.filesRead
        default: 0
        }
    }

    @Test func aKillDuringTheFirstScanLosesNothing() throws {
        let harness = try FaultHarness(scenario: "first-scan", boxes: 2, tag: "fs")
        let files = 1000
        try Self.addTree(harness.home, box: 1, folder: "library", count: files)
        try harness.start(2)
        try harness.runs { _ in
            try harness.stop(1)
            let before = try harness.mediaDigests([1, 2])
            try? FileManager.default.removeItem(atPath: harness.home.box(1) + "/state")
            let moment = harness.pick(1...(2 * files - 1))
            try harness.launch(1)
            try Self.killAt(
                harness, 1, when: { Self.scanPosition($0, walked: files) >= moment },
                over: { $0.scan.completedScans >= 1 })
            let recovered = harness.restart(1)
            try harness.check([1, 2], mediaBefore: before, recovered: [1: recovered])
        }
    }

    @Test func aKillDuringARescanLosesNothing() throws {
        let harness = try FaultHarness(scenario: "rescan", boxes: 2, tag: "rs")
        let kept = 60
        try Self.addTree(harness.home, box: 1, folder: "kept", count: kept)
        try harness.start(1)
        try harness.start(2)
        try harness.settle([1])
        let batch = 600
        try harness.runs { run in
            try harness.stop(1)
            // While it is down, a batch arrives and the previous one goes: the start's rescan has work to do.
            try? FileManager.default.removeItem(atPath: harness.home.box(1) + "/media/batch-\(run - 1)")
            try Self.addTree(harness.home, box: 1, folder: "batch-\(run)", count: batch)
            let before = try harness.mediaDigests([1, 2])
            let walked = kept + batch
            let moment = harness.pick(1...(walked + batch - 1))
            try harness.launch(1)
            try Self.killAt(
                harness, 1, when: { Self.scanPosition($0, walked: walked) >= moment },
                over: { $0.scan.completedScans >= 1 })
            let recovered = harness.restart(1)
            try harness.check([1, 2], mediaBefore: before, recovered: [1: recovered])
        }
    }

    @Test func aKillWhileHashingLosesNothing() throws {
        let harness = try FaultHarness(scenario: "hashing", boxes: 2, tag: "hs")
        let sizes = [24, 32, 48, 64]
        for (number, megabytes) in sizes.enumerated() {
            try harness.home.addLargeVideo("large-\(number).mkv", megabytes: megabytes, to: [1])
        }
        let total = Int64(sizes.reduce(0, +)) << 20
        try harness.start(2)
        try harness.runs { _ in
            try harness.stop(1)
            let before = try harness.mediaDigests([1, 2])
            try? FileManager.default.removeItem(atPath: harness.home.box(1) + "/state")
            let moment = Int64(harness.pick(1...99)) * total / 100
            try harness.launch(1)
            try Self.killAt(
                harness, 1, when: { $0.hashing.bytesHashed >= moment },
                over: { $0.scan.completedScans >= 1 && $0.hashing.pendingFiles == 0 })
            let recovered = harness.restart(1)
            try harness.check([1, 2], mediaBefore: before, recovered: [1: recovered])
        }
    }

    /// Box 1 fetches a title from box 2 over a slowed link; `victim` is killed at a seeded chunk.
    private static func fetchScenario(_ scenario: String, tag: String, victim: Int) throws {
        let harness = try FaultHarness(scenario: scenario, boxes: 2, tag: tag)
        try harness.home.addLargeVideo("feature.mkv", megabytes: 24, to: [2])
        try harness.start(1)
        try harness.start(2)
        let id = try harness.home.contentID(of: "feature.mkv", in: 2)
        try harness.home.waitUntilListed(id, in: 1, heldBy: ["Box 2"])
        try harness.home.shape(2, rate: "40mbit")
        try harness.runs { _ in
            let before = try harness.mediaDigests([1, 2])
            let evict = try harness.home.ctl(1, ["cache", "evict", "--force", id.hex])
            _ = evict  // the first run has nothing to evict
            #expect(try harness.home.ctl(1, ["fetch", id.hex]).status == 0)
            try harness.waitForFetch(of: id, in: 1, chunks: harness.pick(1...23))
            try harness.kill(victim)
            let recovered = harness.restart(victim)
            try harness.home.waitUntilListed(id, in: 1, heldBy: ["Box 2"], timeout: .seconds(60))
            if try harness.home.fetchState(id, in: 1)?.state == .paused {
                throw TestFailure("box 1's fetch is paused after one crash")
            }
            let final = try harness.home.waitForFetch(id, in: 1, timeout: .seconds(120))
            guard final.state == .complete else { throw TestFailure("the fetch ended \(final.state)") }
            try harness.check([1, 2], mediaBefore: before, recovered: [victim: recovered])
        }
    }

    @Test func aKillOfTheFetchingBoxLosesNothing() throws {
        try Self.fetchScenario("fetch", tag: "ff", victim: 1)
    }

    @Test func aKillOfTheServingBoxLosesNothing() throws {
        try Self.fetchScenario("serving", tag: "fv", victim: 2)
    }

    @Test func aKillDuringAnEvictionLosesNothing() throws {
        let harness = try FaultHarness(scenario: "eviction", boxes: 2, tag: "fe")
        try harness.home.addLargeVideo("evicted.mkv", megabytes: 8, to: [2])
        try harness.start(1)
        try harness.start(2)
        let id = try harness.home.contentID(of: "evicted.mkv", in: 2)
        try harness.home.waitUntilListed(id, in: 1, heldBy: ["Box 2"])
        try harness.runs { _ in
            let fetch = try harness.home.ctl(1, ["fetch", id.hex, "--wait"])
            guard fetch.status == 0 else { throw TestFailure("box 1 could not fetch: \(fetch.stderr)") }
            try harness.home.waitUntilListed(id, in: 2, heldBy: ["Box 1"], timeout: .seconds(60))
            let before = try harness.mediaDigests([1, 2])
            // The moment: as the command is sent, once the record is gone, or once the eviction is logged.
            let moment = harness.pick(0...2)
            let command = try ChildProcess(
                Binaries.control, ["--socket", harness.home.socket(1), "cache", "evict", "--force", id.hex],
                stdout: .null, stderr: .null)
            defer { _ = command.waitUntilExit() }
            switch moment {
            case 1:
                try eventually(timeout: .seconds(30), "the replica record is gone") {
                    try harness.home.indexCount(1, "SELECT count(*) FROM replica;") == 0
                }
            case 2:
                try eventually(timeout: .seconds(30), "the eviction is logged") {
                    harness.home.log(1).contains("replica evicted")
                }
            default: break
            }
            try harness.kill(1)
            let recovered = harness.restart(1)
            try harness.check([1, 2], mediaBefore: before, recovered: [1: recovered])
        }
    }
}
