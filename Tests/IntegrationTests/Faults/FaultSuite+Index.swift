import ControlWire
import Foundation
import Testing
import WireVocabulary

/// Faults around the daemon rather than in its work: its index damaged while it was down (truncated, bytes
/// overwritten, its WAL lost), and its avahi-daemon killed during a fetch.
extension FaultSuite {
    /// How the index is damaged while its daemon is down.
    private enum IndexDamage: CaseIterable {
        /// Cut at a seeded length, as a file system that lost the tail of the file would.
        case truncated
        /// A seeded run of pages' bytes overwritten with seeded garbage.
        case overwritten
        /// The write-ahead log deleted after a kill in the middle of writes: the last transactions are gone.
        case walLost
    }

    @Test func aDamagedIndexIsRebuiltAndLosesNothing() throws {
        let harness = try FaultHarness(scenario: "index-damage", boxes: 2, tag: "id", aroundTheDaemon: true)
        try Self.addTree(harness.home, box: 1, folder: "library", count: 120)
        try harness.home.addLargeVideo("kept.mkv", megabytes: 4, to: [2])
        try harness.start(1)
        try harness.start(2)
        let id = try harness.home.contentID(of: "kept.mkv", in: 2)
        try harness.runs { run in
            // A replica in box 1's cache too, so that the rebuilt index meets files its predecessor recorded.
            try harness.home.waitUntilListed(id, in: 1, heldBy: ["Box 2"], timeout: .seconds(60))
            let fetch = try harness.home.ctl(1, ["fetch", id.hex, "--wait"])
            guard fetch.status == 0 else { throw TestFailure("box 1 could not fetch: \(fetch.stderr)") }
            // New files arriving, so that the kill lands among the index's writes.
            try Self.addTree(harness.home, box: 1, folder: "arrivals-\(run)", count: 30)
            let before = try harness.mediaDigests([1, 2])
            let moment = (before[1]?.count ?? 0) - 30 + harness.pick(1...30)
            try eventually(timeout: .seconds(60), "box 1 indexed \(moment) files") {
                (harness.status(1)?.library.files ?? 0) >= moment
            }
            try harness.kill(1)
            let damage = IndexDamage.allCases[harness.pick(0...(IndexDamage.allCases.count - 1))]
            try Self.damage(harness, damage)
            let recovered = harness.restart(1)
            try harness.check([1, 2], mediaBefore: before, recovered: [1: recovered])
        }
    }

    private static func damage(_ harness: FaultHarness, _ damage: IndexDamage) throws {
        let path = harness.home.box(1) + "/state/index.sqlite"
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        guard size > 4096 else { throw TestFailure("box 1's index is only \(size) bytes") }
        switch damage {
        case .truncated:
            guard truncate(path, off_t(harness.pick(1...Int(size - 1)))) == 0 else {
                throw TestFailure("cannot truncate \(path): errno \(errno)")
            }
        case .overwritten:
            let offset = UInt64(harness.pick(0...Int(size - 1)))
            let garbage = (0..<harness.pick(16...16384)).map { _ in UInt8.random(in: 0...255, using: &harness.random) }
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            try handle.seek(toOffset: offset)
            try handle.write(contentsOf: garbage)
        case .walLost:
            try? FileManager.default.removeItem(atPath: path + "-wal")
            try? FileManager.default.removeItem(atPath: path + "-shm")
        }
    }

    @Test func avahiKilledDuringAFetchLosesNothing() throws {
        let harness = try FaultHarness(scenario: "avahi-restart", boxes: 2, tag: "av", aroundTheDaemon: true)
        try harness.home.addLargeVideo("feature.mkv", megabytes: 16, to: [2])
        try harness.start(1)
        try harness.start(2)
        let id = try harness.home.contentID(of: "feature.mkv", in: 2)
        try harness.home.shape(2, rate: "40mbit")
        try harness.runs { _ in
            try harness.home.waitUntilListed(id, in: 1, heldBy: ["Box 2"], timeout: .seconds(60))
            let before = try harness.mediaDigests([1, 2])
            _ = try harness.home.ctl(1, ["cache", "evict", "--force", id.hex])
            #expect(try harness.home.ctl(1, ["fetch", id.hex]).status == 0)
            let moment = harness.pick(1...15)
            try eventually(timeout: .seconds(120), "box 1 verified \(moment) chunks") {
                guard let state = try harness.home.fetchState(id, in: 1) else { return false }
                if state.isFinished { harness.missedPhase() }
                return state.chunksDone >= moment || state.isFinished
            }
            let victim = harness.pick(1...2)
            try harness.home.avahi("kill", victim)
            harness.injectedElsewhere()
            try harness.home.avahi("start", victim)
            let final = try harness.home.waitForFetch(id, in: 1, timeout: .seconds(120))
            guard final.state == .complete else { throw TestFailure("the fetch ended \(final.state)") }
            try eventually(timeout: .seconds(60), "box \(victim) is announced again") {
                try harness.home.peerNames(victim == 1 ? 2 : 1).contains("Box \(victim)")
            }
            try harness.check([1, 2], mediaBefore: before)
        }
    }
}
