import ControlWire
import Foundation
import Testing
import WireVocabulary

/// A hostile device on the LAN (`mediapeer-hostile-peer`, the hostile-LAN suite's) while boxes are SIGKILLed in the
/// middle of a fetch: a peer that claims the fetched title and stalls, one that claims the serving box's id, one
/// with an endless catalog. Whatever it does, the kills lose nothing and the fetch completes from the honest box.
extension FaultSuite {
    /// What the hostile box does during one run, chosen by the seed.
    private enum HostileBehaviour: CaseIterable {
        /// Lists the fetched title and, asked for it, sends nothing.
        case stall
        /// Announces itself with the serving box's peer id, which its key cannot prove.
        case claimID
        /// A catalog that never ends.
        case endlessCatalog

        func arguments(title: ContentID, size: Int, servingPeerID: String) -> [String] {
            switch self {
            case .stall: ["--mode", "stall", "--object", title.hex, "--object-size", String(size)]
            case .claimID: ["--mode", "claim-id", "--claim-id", servingPeerID]
            case .endlessCatalog: ["--mode", "endless-catalog"]
            }
        }
    }

    /// Waits until box 1 lists `id` as held by box 2, among every title of the home (an endless catalog's
    /// 2000 titles come before it on the first page).
    private static func waitUntilBox2Listed(
        _ id: ContentID, _ harness: FaultHarness, beside behaviour: HostileBehaviour
    ) throws {
        try eventually(timeout: .seconds(60), "box 1 lists \(id.hex.prefix(12)) at box 2 beside \(behaviour)") {
            let page = try harness.home.decode(HomePage.self, 1, ["library", "list", "--all", "--limit", "5000"])
            return page.items.first { $0.id == id }?.holderNames.contains("Box 2") ?? false
        }
    }

    @Test func aKillDuringAFetchBesideAHostilePeerLosesNothing() throws {
        let harness = try FaultHarness(
            scenario: "hostile-during-faults", boxes: 3, tag: "hf", aroundTheDaemon: true)
        let original = try harness.home.addLargeVideo("feature.mkv", megabytes: 24, to: [2])
        let size = try #require(try FileManager.default.attributesOfItem(atPath: original)[.size] as? Int)
        // Box 1 knows the hostile box 3 without mDNS, and gives up on a stalled chunk within seconds.
        try harness.start(
            1, extraConfig: #"static_peers = ["10.77.0.3:8737"]"# + "\npeer_catalog_max_objects = 2000",
            environment: ["MEDIAPEER_CHUNK_TIMEOUT_S": "3"])
        try harness.start(2)
        let id = try harness.home.contentID(of: "feature.mkv", in: 2)
        let servingPeerID = try harness.home.peerID(2)
        try harness.home.waitUntilListed(id, in: 1, heldBy: ["Box 2"])
        try harness.home.shape(2, rate: "40mbit")
        var hostile: HostileProcess?
        try harness.runs { _ in
            let behaviour = HostileBehaviour.allCases[harness.pick(0...(HostileBehaviour.allCases.count - 1))]
            hostile?.stop()
            hostile = try HostileProcess(
                harness.home, box: 3,
                behaviour.arguments(title: id, size: size, servingPeerID: servingPeerID))
            let victim = harness.pick(1...2)
            let before = try harness.mediaDigests([1, 2])
            _ = try harness.home.ctl(1, ["cache", "evict", "--force", id.hex])
            try Self.waitUntilBox2Listed(id, harness, beside: behaviour)
            let fetch = try harness.home.ctl(1, ["fetch", id.hex])
            guard fetch.status == 0 else { throw TestFailure("box 1 cannot fetch: \(fetch.stderr)") }
            try harness.waitForFetch(of: id, in: 1, chunks: harness.pick(1...23))
            try harness.kill(victim)
            let recovered = harness.restart(victim)
            try Self.waitUntilBox2Listed(id, harness, beside: behaviour)
            let final = try harness.home.waitForFetch(id, in: 1, timeout: .seconds(180))
            guard final.state == .complete else {
                throw TestFailure("beside a hostile peer (\(behaviour)) the fetch ended \(final.state)")
            }
            try harness.check([1, 2], mediaBefore: before, recovered: [victim: recovered])
            guard hostile?.isRunning == true else { throw TestFailure("the hostile peer (\(behaviour)) exited") }
            // The serving box is still known by its own id, whatever the hostile box claimed.
            guard try harness.home.peerNames(1).contains("Box 2") else {
                throw TestFailure("box 1 lost box 2 beside a hostile peer (\(behaviour))")
            }
        }
        hostile?.stop()
    }
}
