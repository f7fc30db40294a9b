import ControlWire
import Foundation
import Testing
import WireVocabulary

/// A crowd in front of one box (issue 13): 500 players at once from 40 addresses, slow-loris clients on the player
/// endpoint and the peer API, and a neighbour fetching a film through it all. The box keeps to its connection
/// limits and its memory, serves every player the right bytes, and is as before once the crowd has gone.
@Suite(.serialized) struct CrowdTests {
    static let players = 500
    static let playerAddresses = 40
    /// The player endpoint's connection limit (`PlayerLimits.maxConnections`) and the peer API's per address
    /// (`PeerLimits.maxConnectionsPerAddress`).
    static let playerConnectionLimit = 64
    static let peerConnectionsPerAddress = 16
    /// How much the daemon's peak resident memory may grow under the crowd.
    static let memoryGrowthBound: Int64 = 96 << 20

    /// The TCP connections to `port` that box `index`'s daemon holds: accepted, not merely in the kernel's accept
    /// queue (which a crowd fills up to the listen backlog whatever the daemon does).
    static func held(_ home: SimulatedHome, box index: Int, port: Int) throws -> Int {
        let listing = try home.exec(index, ["ss", "-Htnp", "state", "established", "( sport = :\(port) )"])
        guard listing.status == 0 else { throw TestFailure("ss failed: \(listing.stderr)") }
        return listing.stdout.split(separator: "\n").filter { $0.contains("mediapeerd") }.count
    }

    @Test func fiveHundredPlayersAndSlowLorisesAreServedWithinTheLimitsAndTheBoxRecovers() throws {
        let home = try SimulatedHome(boxes: 3, tag: "cr")
        try home.addLargeVideo("feature.mkv", megabytes: 16, to: [1])
        try home.startDaemon(1)
        try home.startDaemon(3)
        let film = try home.contentID(of: "feature.mkv", in: 1)
        try home.waitUntilListed(film, in: 3, heldBy: ["Box 1"])
        let pid = try home.status(1).pid
        let descriptorsBefore = Footprint.openDescriptors(pid)
        try Footprint.resetPeak(pid)
        let residentBefore = try Footprint.memory(pid).resident

        // Box 2 is the crowd's side of the room: 40 addresses for the players, 4 for the lorises.
        for offset in 0..<(Self.playerAddresses + 4) {
            let added = try home.exec(2, ["ip", "addr", "add", "10.77.0.\(100 + offset)/24", "dev", "eth0"])
            guard added.status == 0 else { throw TestFailure("ip addr add: \(added.stderr)") }
        }
        let lorisSource = "10.77.0.\(100 + Self.playerAddresses)"
        let playerLoris = try HostileProcess(
            home, box: 2, name: "loris-player",
            [
                "--load", "slow-loris", "--target", "10.77.0.1:8738", "--source", lorisSource, "--sources", "4",
                "--count", "200", "--duration", "50",
            ])
        let peerLoris = try HostileProcess(
            home, box: 2, name: "loris-peer",
            [
                "--load", "slow-loris", "--target", "10.77.0.1:8737", "--source", lorisSource, "--sources", "4",
                "--count", "200", "--duration", "50",
            ])
        let crowd = try HostileProcess(
            home, box: 2, name: "players",
            [
                "--load", "players", "--target", "10.77.0.1:8738", "--path", "/media/\(film.hex).mkv",
                "--file", home.box(1) + "/media/feature.mkv", "--source", "10.77.0.100", "--sources",
                String(Self.playerAddresses), "--count", String(Self.players), "--duration", "120",
            ])
        // A neighbour fetches the film through the crowd.
        #expect(try home.ctl(3, ["fetch", film.hex]).status == 0)

        var mostPlayerConnections = 0
        var mostPeerConnections = 0
        try eventually(timeout: .seconds(150), "the players are done\n\(crowd.log)") {
            mostPlayerConnections = max(mostPlayerConnections, try Self.held(home, box: 1, port: 8738))
            mostPeerConnections = max(mostPeerConnections, try Self.held(home, box: 1, port: 8737))
            return crowd.counter("done") == 1
        }
        let peak = try Footprint.memory(pid).peak
        let counters = crowd.snapshot().counters
        print(
            "crowd: \(counters), player connections at most \(mostPlayerConnections), peer connections at most "
                + "\(mostPeerConnections), resident \(residentBefore >> 10) KiB before, peak \(peak >> 10) KiB, "
                + "player lorises \(playerLoris.snapshot().counters), peer lorises \(peerLoris.snapshot().counters)")
        #expect(counters["served"] == Self.players, "\(counters)")
        #expect((counters["wrong-bytes"] ?? 0) == 0 && (counters["unserved"] ?? 0) == 0, "\(counters)")
        // A connection over a limit is accepted and closed at once, so the daemon holds, besides the connections it
        // counts, those it is closing: with hundreds reconnecting on two loaded cores, up to a few dozen (26 seen).
        // Without the limits it would hold several hundred. On the peer API the lorises' 4 addresses may hold 16
        // connections each, box 3 a few more.
        let slack = Self.playerConnectionLimit
        #expect(
            mostPlayerConnections <= Self.playerConnectionLimit + slack, "\(mostPlayerConnections) player connections")
        #expect(
            mostPeerConnections <= 4 * Self.peerConnectionsPerAddress + slack, "\(mostPeerConnections) peer connections"
        )
        #expect(
            peak - residentBefore <= Self.memoryGrowthBound,
            "peak resident grew by \((peak - residentBefore) >> 20) MiB")
        let final = try home.waitForFetch(film, in: 3, timeout: .seconds(120))
        #expect(final.state == .complete, "the neighbour's fetch ended \(final.state)")
        #expect(try sha256(home.replicaPath(film, in: 3)) == (try sha256(home.box(1) + "/media/feature.mkv")))

        // The lorises: each cut off within the request deadline (10 s) and a poll's slack.
        try playerLoris.waitUntilDone(timeout: .seconds(90))
        try peerLoris.waitUntilDone(timeout: .seconds(90))
        for loris in [playerLoris, peerLoris] {
            let held = loris.counter("longest-held-s")
            #expect(loris.counter("cut-off") + loris.counter("answered") > 0, "\(loris.snapshot().counters)")
            #expect(held <= 15, "a slow loris held its connection \(held) s")
        }
        // Gone: the box holds what it held before, within the idle connections' timeouts, and still serves.
        try eventually(timeout: .seconds(90), "the daemon lets the crowd's connections go") {
            try Self.held(home, box: 1, port: 8738) == 0
                && Footprint.openDescriptors(pid) <= descriptorsBefore + 8
        }
        let after = try home.exec(
            3, ["curl", "-sf", "-o", "/dev/null", "-w", "%{http_code}", "-r", "0-999", home.mediaURL(film, through: 1)])
        #expect(after.stdout == "206", "after the crowd the player endpoint answered \(after.stdout)")
        #expect(try home.status(1).pid == pid, "mediapeerd restarted under the crowd")
    }
}
