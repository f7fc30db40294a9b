import ControlWire
import Foundation
import Testing
import WireVocabulary

/// Kills during a replication nobody asked for: box 1 replicates by itself (`replication = "auto"`) a title the
/// home played through it, and the replicating or the serving box is SIGKILLed at a seeded chunk of the copy.
extension FaultSuite {
    /// Replication passes a quarter of a second after a change and every second, demand written every half second.
    static let quickReplication = [
        "MEDIAPEER_REPLICATION_SETTLE_MS": "250", "MEDIAPEER_DEMAND_FLUSH_MS": "500",
        "MEDIAPEER_REPLICATION_INTERVAL_MS": "1000",
    ]

    /// How many copies box `index`'s replicator has started, as its log tells.
    private static func automaticCopies(_ home: SimulatedHome, _ index: Int) -> Int {
        home.log(index).components(separatedBy: "replication: copying a title the home wants").count - 1
    }

    @Test func aKillDuringAnAutomaticReplicationLosesNothing() throws {
        let harness = try FaultHarness(scenario: "replication", boxes: 2, tag: "ar", aroundTheDaemon: true)
        try harness.home.addLargeVideo("wanted.mkv", megabytes: 16, to: [2])
        try harness.start(1, environment: Self.quickReplication)
        try harness.start(2, environment: Self.quickReplication)
        let id = try harness.home.contentID(of: "wanted.mkv", in: 2)
        try harness.home.waitUntilListed(id, in: 1, heldBy: ["Box 2"])
        // A player on the LAN plays the title through box 1: demand there, and box 1 keeps it.
        let play = try harness.home.exec(
            2, ["curl", "-sf", "-o", "/dev/null", harness.home.mediaURL(id, through: 1, fileExtension: "mkv")],
            timeout: .seconds(60))
        guard play.status == 0 else { throw TestFailure("the play failed: \(play.stderr)") }
        _ = try harness.home.waitForFetch(id, in: 1)
        try harness.home.shape(2, rate: "40mbit")
        try harness.runs { _ in
            try harness.settle([1, 2])
            let before = try harness.mediaDigests([1, 2])
            // The replica goes; the replicator copies it again by itself, and the fault lands in that copy.
            let copies = Self.automaticCopies(harness.home, 1)
            let evict = try harness.home.ctl(1, ["cache", "evict", "--force", id.hex])
            guard evict.status == 0 else { throw TestFailure("box 1 cannot evict: \(evict.stderr)") }
            let moment = harness.pick(1...15)
            var passed = false
            try eventually(timeout: .seconds(120), "box 1 copies the title again, \(moment) chunks") {
                guard Self.automaticCopies(harness.home, 1) > copies,
                    let state = try harness.home.fetchState(id, in: 1)
                else { return false }
                passed = state.state == .complete
                return state.chunksDone >= moment || passed
            }
            if passed { harness.missedPhase() }
            let victim = harness.pick(1...4) == 4 ? 2 : 1
            try harness.kill(victim)
            let recovered = harness.restart(victim)
            // Nobody asks again: the replicator finishes the copy by itself once the box is back.
            try eventually(timeout: .seconds(120), "box 1 holds the replica again\n\(harness.home.log(1).suffix(3000))")
            {
                try harness.home.fetchState(id, in: 1)?.state == .complete
                    && FileManager.default.fileExists(atPath: harness.home.replicaPath(id, in: 1))
            }
            try harness.check([1, 2], mediaBefore: before, recovered: [victim: recovered])
        }
    }
}
