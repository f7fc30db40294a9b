import Foundation
import Testing

/// Real daemons in a simulated home (network namespaces, real avahi-daemon per box) finding each other.
@Suite(.serialized) struct HomeDiscoveryTests {
    @Test func threeBoxesSeeEachOtherAndNotThemselves() throws {
        let home = try SimulatedHome(boxes: 3, tag: "a")
        for index in 1...3 { try home.startDaemon(index) }
        for index in 1...3 {
            let others = Set((1...3).filter { $0 != index }.map { "Box \($0)" })
            try eventually("box \(index) sees \(others)") { try home.peerNames(index) == others }
        }
        let peer = try #require(try home.peers(1).peers.first { $0.name == "Box 2" })
        #expect(peer.id == (try home.status(2).peerID))
        #expect(peer.addresses.contains("10.77.0.2") && peer.port == 8737 && peer.reachable)
        let table = try home.ctl(1, ["peers"])
        #expect(table.stdout.contains("Box 2") && table.stdout.contains("Box 3") && !table.stdout.contains("Box 1"))
        #expect(try home.status(1).mdns.nameInUse == "Box 1")
    }

    @Test func aStoppedBoxSaysGoodbyeAndAKilledOneIsDroppedByHealthChecks() throws {
        let home = try SimulatedHome(boxes: 3, tag: "b")
        // A long health interval, so that only the goodbye can explain a quick departure.
        try home.startDaemon(1, healthIntervalMilliseconds: 60_000)
        try home.startDaemon(2)
        try home.startDaemon(3)
        try eventually("box 1 sees both") { try home.peerNames(1) == ["Box 2", "Box 3"] }
        try home.signalDaemon(2, SIGTERM)
        try eventually(timeout: .seconds(5), "box 1 drops the box that said goodbye") {
            try home.peerNames(1) == ["Box 3"]
        }

        try eventually("box 3 sees box 1") { try home.peerNames(3) == ["Box 1"] }
        try home.signalDaemon(1, SIGKILL)
        // No goodbye from a killed box: box 3 (1 s health interval, 2 misses) must notice by itself.
        try eventually(timeout: .seconds(10), "box 3 drops the killed box") { try home.peerNames(3).isEmpty }
    }

    /// A box whose link fails for longer than its neighbours' checks (a Wi-Fi outage) is dropped by them, and its
    /// titles leave their home listings; its mDNS record does not change, so nothing on mDNS tells them it is back:
    /// they must find it again by themselves, and list its titles again.
    @Test func aBoxDroppedWhileItsLinkWasDownIsSeenAgainWhenTheLinkReturns() throws {
        let home = try SimulatedHome(boxes: 2, tag: "o")
        try home.addLargeVideo("film.mkv", megabytes: 1, to: [2])
        for index in 1...2 { try home.startDaemon(index) }
        let id = try home.contentID(of: "film.mkv", in: 2)
        try home.waitUntilListed(id, in: 1, heldBy: ["Box 2"])

        try home.impair(2, ["--loss", "100"])
        try eventually(timeout: .seconds(20), "box 1 drops the box it cannot reach") { try home.peerNames(1).isEmpty }
        try eventually("box 1 no longer lists box 2's title") { try !home.home(1).items.contains { $0.id == id } }
        try home.impair(2, ["off"])
        try eventually(timeout: .seconds(30), "box 1 sees box 2 again") {
            try home.peers(1).peers.contains { $0.name == "Box 2" && $0.reachable }
        }
        try home.waitUntilListed(id, in: 1, heldBy: ["Box 2"])
    }

    @Test func twoBoxesWithTheSameNameBothAnnounceUnderDistinctNames() throws {
        let home = try SimulatedHome(boxes: 3, tag: "c")
        try home.startDaemon(1, name: "Living Room")
        try home.startDaemon(2, name: "Living Room")
        try home.startDaemon(3)
        // mDNS does not say which box renames: the one that registered later, the established one, or (probing at
        // the same moment) both. What must hold once the collision settles: both are announced, under distinct
        // names derived from the friendly name, and each box's status shows the name it actually uses.
        var names: [String] = []
        // Avahi backs off between probes after a conflict; on a loaded 2-core machine a second round of renaming
        // has taken longer than 30 s.
        try eventually(timeout: .seconds(60), "both registered under distinct names") {
            let first = try home.status(1).mdns
            let second = try home.status(2).mdns
            names = [first.nameInUse, second.nameInUse]
            return first.registered && second.registered && Set(names).count == 2
        }
        #expect(names.allSatisfy { $0.hasPrefix("Living Room") })
        #expect(try home.ctl(1, ["status"]).stdout.contains("\"\(names[0])\""))
        #expect(try home.ctl(2, ["status"]).stdout.contains("\"\(names[1])\""))
        try eventually("box 3 sees two peers") { try home.peers(3).peers.filter { $0.id != nil }.count == 2 }
    }

    @Test func avahiRestartedUnderARunningDaemonIsFollowed() throws {
        let home = try SimulatedHome(boxes: 2, tag: "d")
        try home.startDaemon(1)
        try home.startDaemon(2)
        try eventually("box 1 sees box 2") { try home.peerNames(1) == ["Box 2"] }
        let pid = try home.status(1).pid
        try home.avahi("kill", 1)
        try eventually("box 1 notices avahi is gone") { !(try home.status(1).mdns.daemonRunning) }
        #expect(try home.ctl(1, ["library", "list"]).status == 0, "the daemon keeps serving without avahi")
        try home.avahi("start", 1)
        try eventually(timeout: .seconds(20), "box 1 is announced again and sees box 2") {
            let status = try home.status(1)
            let names = try home.peerNames(1)
            return status.mdns.daemonRunning && status.mdns.registered && names == ["Box 2"]
        }
        try eventually(timeout: .seconds(20), "box 2 sees box 1 again") { try home.peerNames(2) == ["Box 1"] }
        #expect(try home.status(1).pid == pid, "no restart of mediapeerd")
        #expect(home.log(1).contains("avahi-daemon"))
    }

    @Test func aNewMediaFileChangesTheGenerationANeighbourSees() throws {
        let home = try SimulatedHome(boxes: 2, tag: "e")
        try home.startDaemon(1)
        try home.startDaemon(2)
        try eventually("box 2 sees box 1") { try home.peerNames(2) == ["Box 1"] }
        try eventually("box 1 is fully indexed") { try home.status(1).scan.completedScans >= 1 }
        let before = try home.status(1).library.generation
        try MediaFixtures.copy(MediaFixtures.photo, to: home.box(1) + "/media/new.jpg")
        try eventually("box 1 indexed it") { try home.status(1).library.generation > before }
        try eventually(timeout: .seconds(20), "box 2 sees box 1's new generation") {
            let generation = try home.peers(2).peers.first { $0.name == "Box 1" }?.generation
            return generation.map { Int64($0) > before } ?? false
        }
    }

    @Test func avahiBrowseListsEveryOtherBoxWithTheDocumentedTXTKeys() throws {
        let home = try SimulatedHome(boxes: 3, tag: "f")
        for index in 1...3 { try home.startDaemon(index) }
        try eventually("box 3 sees the others") { try home.peerNames(3) == ["Box 1", "Box 2"] }
        for index in 1...2 {
            let status = try home.status(index)
            // The IPv4/IPv6 column says how the record was found, and avahi resolves it to an address of either
            // family, its choice: browse again (a few times at most) until it gives box N's IPv4 address.
            var browse = CommandResult(status: 0, stdout: "", stderr: "")
            var line: Substring?
            for _ in 0..<5 where line == nil {
                browse = try home.exec(3, ["avahi-browse", "-t", "-r", "-p", "_mediapeer._tcp"], timeout: .seconds(30))
                line = browse.stdout.split(separator: "\n").first {
                    $0.hasPrefix("=") && $0.contains("\"id=\(status.peerID)\"")
                        && $0.contains(";10.77.0.\(index);8737;")
                }
            }
            let found = try #require(line, "box \(index) in \(browse.stdout)")
            for key in ["\"v=2\"", "\"port=8737\"", "\"name=Box \(index)\"", "\"gen="] { #expect(found.contains(key)) }
        }
    }

    @Test func staticPeersAreFoundWithoutMulticast() throws {
        let home = try SimulatedHome(boxes: 2, tag: "g")
        try home.avahi("stop", 1)
        try home.avahi("stop", 2)
        try home.startDaemon(1, extraConfig: #"static_peers = ["10.77.0.2:8737"]"#)
        try home.startDaemon(2)
        #expect(!(try home.status(1).mdns.daemonRunning))
        try eventually("box 1 learns box 2's id from its static entry") { try home.peerNames(1) == ["Box 2"] }
        #expect(try home.peers(1).peers.first?.id == (try home.status(2).peerID))
        #expect(try home.ctl(1, ["status"]).stdout.contains("avahi-daemon is not running"))
    }
}
