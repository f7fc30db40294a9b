import ControlWire
import Foundation
import Testing

/// The network environments a set-top box really has, in a simulated home: IPv6 disabled, an address that comes
/// late or changes, a link going down and up, a second interface.
@Suite(.serialized) struct NetworkEnvironmentTests {
    static let mediaServer = "urn:schemas-upnp-org:device:MediaServer:1"

    @Test func aBoxWithIPv6DisabledStartsIsFoundAndServesAFetchAndAPlayer() throws {
        let home = try SimulatedHome(boxes: 2, tag: "n6")
        let original = try home.addLargeVideo("holiday.mkv", megabytes: 2, to: [1])
        // As `ipv6.disable`-less distributions do it: every interface of box 1, loopback included, loses IPv6, so
        // glibc narrows every lookup to IPv4 (and `getaddrinfo("::")` fails).
        let disable = try home.exec(
            1, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"])
        #expect(disable.status == 0, "\(disable.stderr)")
        #expect(try home.exec(1, ["ip", "-6", "-o", "addr"]).stdout.isEmpty)
        for index in 1...2 { try home.startDaemon(index) }
        #expect(home.log(1).contains("peer API listening on every address"), "\(home.log(1).suffix(3000))")
        #expect(home.log(1).contains("player endpoint listening on every address"))

        try eventually(timeout: .seconds(30), "box 2 finds box 1 over mDNS\n\(home.log(2).suffix(2000))") {
            try home.peerNames(2).contains("Box 1")
        }
        let id = try home.contentID(of: "holiday.mkv", in: 1)
        try home.waitUntilListed(id, in: 2, heldBy: ["Box 1"])
        let fetch = try home.ctl(2, ["fetch", id.hex, "--wait"])
        #expect(fetch.status == 0, "\(fetch.stderr)")
        #expect(try sha256(home.replicaPath(id, in: 2)) == (try sha256(original)))

        // A player and a TV on the LAN: the player endpoint answers, and SSDP finds it.
        let play = try home.exec(
            2, ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", home.mediaURL(id, through: 1)])
        #expect(play.stdout == "200 \(try fileSize(original))", "\(play.stdout) \(play.stderr)")
        let found = try ControlPoint.search(home, from: 2, target: Self.mediaServer)
        #expect(found.contains { $0["LOCATION"] == "http://10.77.0.1:8738/upnp/device.xml" }, "\(found)")
    }
}

func fileSize(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.size] as? NSNumber)?.intValue ?? -1
}
