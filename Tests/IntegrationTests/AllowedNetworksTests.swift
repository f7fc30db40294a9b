import Foundation
import TestChildProcess
import Testing

/// `allowed_networks` on a real daemon in a simulated home: players cannot authenticate, so box 1 answers only the
/// addresses it allows, at the player endpoint, the MediaServer's description and SSDP alike.
@Suite(.serialized) struct AllowedNetworksTests {
    /// `curl` in box `from`: the status code and the body.
    private func curl(_ home: SimulatedHome, from: Int, _ url: String) throws -> (status: Int, body: Data) {
        let output = home.folder + "/allowed-networks-body-\(from)"
        let result = try home.exec(from, ["curl", "-s", "--max-time", "30", "-o", output, "-w", "%{http_code}", url])
        guard result.status == 0, let status = Int(result.stdout) else {
            throw TestFailure("curl \(url) from box \(from) failed (\(result.status)): \(result.stderr)")
        }
        return (status, (try? Data(contentsOf: URL(fileURLWithPath: output))) ?? Data())
    }

    /// Box 1 allows box 3 (and loopback); box 2, on the same LAN, is refused until a reload allows it.
    @Test func onlyAllowedAddressesReachThePlayerEndpointTheMediaServerAndSSDPAndAReloadAppliesAChange() throws {
        let home = try SimulatedHome(boxes: 3, tag: "an")
        try MediaFixtures.copy(MediaFixtures.clip, to: home.box(1) + "/media/clip.mp4")
        try home.startDaemon(1, extraConfig: #"allowed_networks = ["10.77.0.3/32", "127.0.0.0/8", "::1"]"#)
        let id = try home.contentID(of: "clip.mp4", in: 1)
        let media = home.mediaURL(id, through: 1, fileExtension: "mp4")
        let description = "http://\(home.address(1)):8738/upnp/device.xml"
        let clip = try Data(contentsOf: URL(fileURLWithPath: home.box(1) + "/media/clip.mp4"))

        // Box 3 is allowed: it plays, reads the description and finds the MediaServer.
        let played = try curl(home, from: 3, media)
        #expect(played.status == 200)
        #expect(played.body == clip)
        #expect(String(decoding: try curl(home, from: 3, description).body, as: UTF8.self).contains("MediaServer:1"))
        let foundBy3 = try ControlPoint.search(home, from: 3, target: SSDPDiscoveryTests.mediaServer)
        #expect(foundBy3.contains { $0["_host"] == home.address(1) }, "\(foundBy3)")

        // Box 2 is not: a 403 that says why, for the title and the description, and no SSDP answer.
        for url in [media, description] {
            let refused = try curl(home, from: 2, url)
            let reason = String(decoding: refused.body, as: UTF8.self)
            #expect(refused.status == 403, "\(url)")
            #expect(reason.contains("allowed_networks") && reason.contains(home.address(2)), "\(reason)")
        }
        // Box 1 itself is not in the list either, but a player on the box (mediapeerctl play's URL names the box's
        // LAN address) is answered.
        #expect(try curl(home, from: 1, media).status == 200)
        let foundBy2 = try ControlPoint.search(home, from: 2, target: SSDPDiscoveryTests.mediaServer)
        #expect(!foundBy2.contains { $0["_host"] == home.address(1) }, "\(foundBy2)")
        #expect(home.log(1).contains("refused a client"))

        // Allowing box 2 takes a reload, not a restart: the same daemon serves it at its next connection.
        let pid = try home.status(1).pid
        let config = home.box(1) + "/mediapeer.toml"
        try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: #""10.77.0.3/32""#, with: #""10.77.0.2/31""#)
            .write(toFile: config, atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        try eventually("box 1 applies the new allowed_networks\n\(home.log(1))") {
            home.log(1).contains("allowed_networks applied")
        }
        #expect(try curl(home, from: 2, media).status == 200)
        #expect(try home.status(1).pid == pid)
    }

    /// A TV taken out of `allowed_networks` stops streaming at the reload, not when it next reconnects; a player
    /// still allowed streams on.
    @Test func aReloadThatNoLongerAllowsAPlayerClosesItsOpenStreamAndKeepsTheOthers() throws {
        let home = try SimulatedHome(boxes: 3, tag: "ac")
        // Larger than what the kernel's socket buffers and the sender's queue hold (about 11 MiB): the bytes written
        // before the close still arrive, so an 8 MiB title could reach a cut player whole.
        let original = try home.addLargeVideo("film.mkv", megabytes: 64, to: [1])
        try home.startDaemon(1, extraConfig: #"allowed_networks = ["10.77.0.2/32", "10.77.0.3/32", "127.0.0.0/8"]"#)
        let id = try home.contentID(of: "film.mkv", in: 1)
        let media = home.mediaURL(id, through: 1, fileExtension: "mkv")
        // Box 2 reads at a TV's pace (64 MiB at 256 KiB/s would take four minutes), box 3 faster (eight seconds).
        let received = { (box: Int) in home.folder + "/stream-\(box)" }
        let players = try [(2, "256k"), (3, "8m")].map { box, rate in
            try ChildProcess(
                SimulatedHome.script,
                [
                    "exec", "--prefix", home.prefix, String(box), "curl", "-sf", "--limit-rate", rate, "-o",
                    received(box),
                    media,
                ],
                stdout: .null, stderr: .null)
        }
        try eventually("box 1 serves both players\n\(home.log(1).suffix(2000))") {
            ["10.77.0.2", "10.77.0.3"].allSatisfy { home.log(1).contains("play started client=\($0)") }
        }

        let config = home.box(1) + "/mediapeer.toml"
        try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: #""10.77.0.2/32", "#, with: "")
            .write(toFile: config, atomically: true, encoding: .utf8)
        kill(try home.status(1).pid, SIGHUP)
        try eventually("box 1 applies the new allowed_networks\n\(home.log(1).suffix(2000))") {
            home.log(1).contains("allowed_networks applied")
        }
        #expect(home.log(1).contains("closed_for=10.77.0.2 closed_player_connections=1"), "\(home.log(1).suffix(2000))")
        // curl's 18: the body ended before its Content-Length.
        #expect(players[0].waitUntilExit() == 18)
        #expect(try curl(home, from: 2, media).status == 403)
        // Box 3's stream went on to the last byte.
        #expect(players[1].waitUntilExit() == 0)
        #expect(try sha256(received(3)) == (try sha256(original)))
    }
}
