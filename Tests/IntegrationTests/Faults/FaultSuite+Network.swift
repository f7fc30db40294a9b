import ControlWire
import Foundation
import Testing
import WireVocabulary

/// Faults of the home's network during a transfer: the serving box hung (SIGSTOP) or its link cut until the
/// fetching box notices, and links with seeded loss, delay, reordering and duplication (`home-sim impair`), all
/// inside the simulated home's namespaces.
extension FaultSuite {
    /// Box 1 fetches from box 2 with a short chunk deadline, so that a hung holder is noticed within seconds.
    private static func transferHome(_ scenario: String, tag: String) throws -> (FaultHarness, ContentID) {
        let harness = try FaultHarness(scenario: scenario, boxes: 2, tag: tag, aroundTheDaemon: true)
        try harness.home.addLargeVideo("feature.mkv", megabytes: 16, to: [2])
        try harness.start(1, environment: ["MEDIAPEER_CHUNK_TIMEOUT_S": "3"])
        try harness.start(2)
        return (harness, try harness.home.contentID(of: "feature.mkv", in: 2))
    }

    /// Starts box 1's fetch of `id` afresh (its replica from the previous run evicted).
    private static func fetchAgain(_ harness: FaultHarness, _ id: ContentID) throws {
        try harness.home.waitUntilListed(id, in: 1, heldBy: ["Box 2"], timeout: .seconds(60))
        _ = try harness.home.ctl(1, ["cache", "evict", "--force", id.hex])
        let fetch = try harness.home.ctl(1, ["fetch", id.hex])
        guard fetch.status == 0 else { throw TestFailure("box 1 cannot fetch: \(fetch.stderr)") }
    }

    @Test func aServingBoxThatHangsOrLosesItsLinkMidTransferLosesNothing() throws {
        let (harness, id) = try Self.transferHome("peer-vanishes", tag: "fh")
        try harness.home.shape(2, rate: "40mbit")
        try harness.runs { _ in
            let before = try harness.mediaDigests([1, 2])
            try Self.fetchAgain(harness, id)
            try harness.waitForFetch(of: id, in: 1, chunks: harness.pick(1...12))
            let failuresBefore = try harness.home.fetchState(id, in: 1)?.sources.first { $0.name == "Box 2" }?.failures
            let hang = harness.pick(0...1) == 0
            let pid = try #require(harness.status(2)?.pid)
            if hang {
                kill(pid, SIGSTOP)
            } else {
                try harness.home.exec(2, ["ip", "link", "set", "eth0", "down"])
            }
            harness.injectedElsewhere()
            // The fault lasts until box 1 notices it: a failed request to box 2, or the fetch over already.
            try? eventually(timeout: .seconds(60), "box 1 notices that box 2 is gone") {
                guard let state = try harness.home.fetchState(id, in: 1) else { return false }
                let failures = state.sources.first { $0.name == "Box 2" }?.failures
                return state.isFinished || (failures ?? 0) > (failuresBefore ?? 0)
            }
            let ended = ContinuousClock.now
            if hang {
                kill(pid, SIGCONT)
            } else {
                try harness.home.exec(2, ["ip", "link", "set", "eth0", "up"])
                try harness.home.shape(2, rate: "40mbit")
            }
            let answered = harness.timeToAnswer(2, since: ended)
            let final = try harness.home.waitForFetch(id, in: 1, timeout: .seconds(180))
            guard final.state == .complete else { throw TestFailure("the fetch ended \(final.state)") }
            try harness.check([1, 2], mediaBefore: before, recovered: [2: answered])
        }
    }

    /// The link of box 2 (the holder) with seeded loss, delay, jitter (which reorders), reordering and duplication,
    /// both ways, through `home-sim impair` (a relay in user space that does what `tc netem` does, on any kernel).
    @Test func aLinkWithLossDelayAndReorderingLosesNothing() throws {
        let (harness, id) = try Self.transferHome("lossy-link", tag: "ne")
        try harness.runs { _ in
            let before = try harness.mediaDigests([1, 2])
            // Up to 2 % loss each way and a 40 ms round trip before jitter: a poor Wi-Fi link as TCP sees it (the
            // radio retransmits most losses itself). 5 % and 80 ms made a 16 MiB transfer take over a minute.
            let delay = harness.pick(1...20)
            let loss = Double(harness.pick(0...20)) / 10
            let impairment = [
                "--loss", "\(loss)", "--delay", "\(delay)", "--jitter", "\(delay / 2)",
                "--reorder", "\(harness.pick(0...25))", "--duplicate", "\(harness.pick(0...2))",
                "--seed", "\(harness.pick(1...1_000_000))",
            ]
            try harness.home.impair(2, impairment)
            harness.injectedElsewhere()
            defer { try? harness.home.impair(2, ["off"]) }
            try Self.fetchAgain(harness, id)
            let final = try harness.home.waitForFetch(id, in: 1, timeout: .seconds(300))
            guard final.state == .complete else {
                throw TestFailure("the fetch ended \(final.state) under \(impairment.joined(separator: " "))")
            }
            // The relay writes what it did as it stops: the transfer went through it, not around it.
            try harness.home.impair(2, ["off"])
            let relayed = try String(contentsOfFile: harness.home.box(2) + "/impair.log", encoding: .utf8)
            guard let counts = relayed.split(separator: "\n").last, !counts.contains("'relayed': 0,") else {
                throw TestFailure("no frame went through the relay: \(relayed)")
            }
            try harness.check([1, 2], mediaBefore: before)
        }
    }
}
