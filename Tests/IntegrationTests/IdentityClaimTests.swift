import ControlWire
import Foundation
import Testing
import WireVocabulary

/// Issue 14's attack on identities, with real TLS: a device announcing a box's id cannot take it, because an
/// address counts for an id only once a TLS handshake there proved the id's key.
@Suite(.serialized) struct IdentityClaimTests {
    /// Box 3 runs no daemon, only `avahi-publish`: `_mediapeer._tcp` with box 1's id, from box 3's own address and
    /// a port where nothing answers. Box 2 keeps box 1 at box 1's address and port, reachable, with its catalog,
    /// and finds it again when box 1 restarts while the claim stands.
    @Test func anAnnouncementOfAnotherBoxsIdFromElsewhereChangesNothingForThatBox() throws {
        let home = try SimulatedHome(boxes: 3, tag: "ic")
        try MediaFixtures.copy(MediaFixtures.drawing, to: home.box(1) + "/media/real.png")
        try home.startDaemon(1)
        try home.startDaemon(2)
        let real = try home.contentID(of: "real.png", in: 1)
        try home.waitUntilListed(real, in: 2, heldBy: ["Box 1"])
        let box1 = try home.status(1).peerID

        let announcement = try ChildProcess(
            SimulatedHome.script,
            [
                "exec", "--prefix", home.prefix, "3", "avahi-publish", "-s", "Box 1", "_mediapeer._tcp", "8999",
                "id=\(box1)", "v=2", "port=8999", "name=Box 1", "gen=1000000",
            ],
            environment: ProcessInfo.processInfo.environment, stdout: .file(home.box(3) + "/publish.log"),
            stderr: .file(home.box(3) + "/publish.log"))
        defer {
            announcement.signal(SIGKILL)
            _ = announcement.waitUntilExit()
        }
        try eventually(timeout: .seconds(30), "box 2 notices the claim\n\(home.log(2).suffix(2000))") {
            home.log(2).contains("claims the id of")
        }
        try expectBox1Intact(home, id: box1, title: real)

        // Box 1 restarts while the claim stands: its goodbye makes box 2 consider the claim again, which proves
        // nothing, and box 1's own announcement brings it back at its own address.
        try home.signalDaemon(1, SIGTERM)
        try eventually(timeout: .seconds(10), "box 2 drops box 1 after its goodbye") {
            try home.peers(2).peers.first { $0.id == box1 && $0.reachable && $0.port == 8737 } == nil
        }
        try home.startDaemon(1)
        try eventually(timeout: .seconds(30), "box 2 finds box 1 again\n\(home.log(2).suffix(3000))") {
            try home.peers(2).peers.contains { $0.id == box1 && $0.reachable && $0.port == 8737 }
        }
        try expectBox1Intact(home, id: box1, title: real)
    }

    /// Box 2 holds box 1 at box 1's address and port, reachable after a health check that began once the claim
    /// was known, and lists box 1's title as box 1's.
    private func expectBox1Intact(_ home: SimulatedHome, id: String, title: ContentID) throws {
        let noticed = Date()
        // A health check that ended after the claim: box 1 answered it at its own endpoint, with its key.
        try eventually(timeout: .seconds(15), "box 2 checks box 1 again") {
            try home.peers(2).peers.contains { $0.id == id && $0.reachable && $0.lastSeen > noticed }
        }
        let peer = try #require(try home.peers(2).peers.first { $0.id == id }, "box 1 dropped")
        #expect(peer.name == "Box 1" && peer.port == 8737 && peer.reachable)
        #expect(peer.addresses.contains("10.77.0.1") && !peer.addresses.contains("10.77.0.3"), "\(peer.addresses)")
        try home.waitUntilListed(title, in: 2, heldBy: ["Box 1"])
    }
}
