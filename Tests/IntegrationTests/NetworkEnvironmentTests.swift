import ControlWire
import Foundation
import Testing
import WireVocabulary

/// The network environments a set-top box really has, in a simulated home: IPv6 disabled, IPv6 alone (link-local
/// addresses only), an address that comes late or changes, a link going down and up, a second interface.
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

        let id = try Self.box2FindsBox1AndFetches("holiday.mkv", original, in: home)

        // A player and a TV on the LAN: the player endpoint answers, and SSDP finds it.
        let play = try home.exec(
            2, ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", home.mediaURL(id, through: 1)])
        #expect(play.stdout == "200 \(try fileSize(original))", "\(play.stdout) \(play.stderr)")
        let found = try ControlPoint.search(home, from: 2, target: Self.mediaServer)
        #expect(found.contains { $0["LOCATION"] == "http://10.77.0.1:8738/upnp/device.xml" }, "\(found)")
    }

    @Test func boxesOnALinkWithOnlyIPv6LinkLocalAddressesFindEachOtherFetchAndServeAPlayer() throws {
        let home = try SimulatedHome(boxes: 2, tag: "o6")
        let original = try home.addLargeVideo("concert.mkv", megabytes: 2, to: [1])
        // A home whose router gives no IPv4 and announces no IPv6 prefix: each box has its link-local address alone.
        for index in 1...2 { try Self.ip(home, index, ["-4", "addr", "flush", "dev", "eth0"]) }
        #expect(try home.exec(1, ["ip", "-4", "-o", "addr", "show", "dev", "eth0"]).stdout.isEmpty)
        let linkLocal = try #require(
            try home.exec(1, ["ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "link"]).stdout
                .split(separator: " ").first { $0.hasPrefix("fe80:") }?.split(separator: "/").first.map(String.init))
        for index in 1...2 { try home.startDaemon(index) }

        let id = try Self.box2FindsBox1AndFetches("concert.mkv", original, in: home)

        // A player on the link reaches box 1 at its link-local address, the zone in the URL (RFC 6874).
        let url = "http://[\(linkLocal)%25eth0]:8738/media/\(id.hex)"
        let play = try home.exec(
            2, ["curl", "-sS", "-g", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", url])
        #expect(play.stdout == "200 \(try fileSize(original))", "\(play.stdout) \(play.stderr)")
        // And box 2 hands out box 1's title through itself, at its own link-local address.
        let printed = try home.ctl(2, ["url", "concert"])
        #expect(printed.status == 0 && printed.stdout.contains("[fe80:"), "\(printed.stdout) \(printed.stderr)")
    }

    /// Box 2 finds box 1 over mDNS, lists box 1's `title` (whose file is `original`) and fetches it byte-identical;
    /// returns its content id.
    static func box2FindsBox1AndFetches(_ title: String, _ original: String, in home: SimulatedHome) throws
        -> ContentID
    {
        try eventually(timeout: .seconds(30), "box 2 finds box 1 over mDNS\n\(home.log(2).suffix(2000))") {
            try home.peerNames(2).contains("Box 1")
        }
        let id = try home.contentID(of: title, in: 1)
        try home.waitUntilListed(id, in: 2, heldBy: ["Box 1"])
        let fetch = try home.ctl(2, ["fetch", id.hex, "--wait"])
        #expect(fetch.status == 0, "\(fetch.stderr)\n\(home.log(2).suffix(3000))")
        #expect(try sha256(home.replicaPath(id, in: 2)) == (try sha256(original)))
        return id
    }

    /// Runs `ip ARGUMENTS` in box `index` and fails the test if it fails.
    static func ip(_ home: SimulatedHome, _ index: Int, _ arguments: [String]) throws {
        let result = try home.exec(index, ["ip"] + arguments)
        guard result.status == 0 else { throw TestFailure("ip \(arguments) in box \(index): \(result.stderr)") }
    }

    /// The MediaServer's locations box `index` finds by an M-SEARCH sent from its address `source`, but its own.
    static func locations(_ home: SimulatedHome, from index: Int, bind source: String) throws -> Set<String> {
        try ControlPoint.requireInstalled()
        let result = try home.exec(
            index,
            [ControlPoint.binary, "--timeout", "3", "search", "--bind", source, "--search_target", mediaServer],
            timeout: .seconds(30))
        guard result.status == 0 else { throw TestFailure("upnp-client search failed: \(result.stderr)") }
        let ownAddresses = ["10.77.0.\(index)", "10.78.0.\(index)"]
        return Set(
            ControlPoint.messages(result.stdout).filter { !ownAddresses.contains($0["_host"] ?? "") }.compactMap {
                $0["LOCATION"]
            })
    }

    static func httpStatus(_ home: SimulatedHome, from index: Int, _ url: String) throws -> String {
        try home.exec(index, ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", url]).stdout
    }

    static func changesLogged(_ home: SimulatedHome, _ index: Int) -> Int {
        home.log(index).components(separatedBy: "SSDP interfaces changed").count - 1
    }

    @Test func aBoxStartedBeforeItsAddressServesAndAnnouncesOnceTheAddressComes() throws {
        let home = try SimulatedHome(boxes: 2, tag: "na")
        try Self.ip(home, 1, ["addr", "del", "10.77.0.1/24", "dev", "eth0"])
        try home.startDaemon(1)
        let listener = try ControlPoint.listen(home, in: 2)
        // The DHCP lease arrives: SSDP announces at once (its re-announcement is 12 to 15 minutes away).
        try Self.ip(home, 1, ["addr", "add", "10.77.0.1/24", "dev", "eth0"])
        try eventually("box 2 hears box 1's ssdp:alive\n\(listener.output)\n\(home.log(1).suffix(2000))") {
            listener.notifications(from: "10.77.0.1", "ssdp:alive").contains {
                $0["LOCATION"] == "http://10.77.0.1:8738/upnp/device.xml"
            }
        }
        #expect(try Self.httpStatus(home, from: 2, "http://10.77.0.1:8738/upnp/device.xml") == "200")
        try home.startDaemon(2)
        try eventually(timeout: .seconds(30), "box 2 finds box 1 over mDNS\n\(home.log(2).suffix(2000))") {
            try home.peerNames(2).contains("Box 1")
        }
    }

    @Test func anAddressChangeIsAnnouncedAndLearnedByANeighbourAndAnSSDPSearch() throws {
        let home = try SimulatedHome(boxes: 2, tag: "nc")
        for index in 1...2 { try home.startDaemon(index) }
        try eventually(timeout: .seconds(30), "box 2 finds box 1 over mDNS") {
            try home.peerNames(2).contains("Box 1")
        }
        let listener = try ControlPoint.listen(home, in: 2)
        // A DHCP renewal that hands out another address: the old one goes, the new one comes (in the other order,
        // deleting the primary address would take the new secondary one with it).
        try Self.ip(home, 1, ["addr", "del", "10.77.0.1/24", "dev", "eth0"])
        try Self.ip(home, 1, ["addr", "add", "10.77.0.41/24", "dev", "eth0"])
        try eventually("box 2 hears ssdp:alive from the new address\n\(listener.output)") {
            listener.notifications(from: "10.77.0.41", "ssdp:alive").contains {
                $0["LOCATION"] == "http://10.77.0.41:8738/upnp/device.xml"
            }
        }
        #expect(try Self.locations(home, from: 2, bind: "10.77.0.2") == ["http://10.77.0.41:8738/upnp/device.xml"])
        try eventually(timeout: .seconds(30), "box 2 learns box 1's new address\n\(home.log(2).suffix(2000))") {
            try home.peers(2).peers.first { $0.name == "Box 1" }?.addresses.contains("10.77.0.41") == true
        }
        // The peer API is mutual TLS: box 2 asks with its own key, as its daemon would.
        let info = try home.exec(
            2, home.peerCurl(2) + ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "https://10.77.0.41:8737/v1/info"])
        #expect(info.stdout == "200")
    }

    @Test func anInterfaceGoingDownAndUpIsAnnouncedOnAgain() throws {
        let home = try SimulatedHome(boxes: 2, tag: "nd")
        let listener = try ControlPoint.listen(home, in: 2)
        try home.startDaemon(1)
        // Three copies of each of the five announcements at start.
        try eventually("box 2 hears box 1's start-up ssdp:alive\n\(listener.output)") {
            listener.notifications(from: "10.77.0.1", "ssdp:alive").count == 15
        }
        try Self.ip(home, 1, ["link", "set", "eth0", "down"])
        try eventually("box 1 notices eth0 is down\n\(home.log(1).suffix(2000))") { Self.changesLogged(home, 1) == 1 }
        try Self.ip(home, 1, ["link", "set", "eth0", "up"])
        try eventually("box 2 hears box 1 announce again\n\(listener.output)\n\(home.log(1).suffix(2000))") {
            listener.notifications(from: "10.77.0.1", "ssdp:alive").count > 15
        }
        #expect(try Self.locations(home, from: 2, bind: "10.77.0.2") == ["http://10.77.0.1:8738/upnp/device.xml"])
    }

    @Test func aSecondInterfaceGetsSSDPAndThePlayerEndpointToo() throws {
        let home = try SimulatedHome(boxes: 2, tag: "nw")
        try home.startDaemon(1)
        // A second link between box 1 and box 2 (box 1's Wi-Fi), added while the daemon runs.
        guard let ip = Command.which("ip") else { throw TestFailure("ip is not installed") }
        let link = try Command.run(
            ip,
            [
                "-n", "\(home.prefix)-box1", "link", "add", "wlan0", "type", "veth", "peer", "name", "wlan0", "netns",
                "\(home.prefix)-box2",
            ])
        guard link.status == 0 else { throw TestFailure("cannot add the second link: \(link.stderr)") }
        for (index, address) in [(1, "10.78.0.1/24"), (2, "10.78.0.2/24")] {
            try Self.ip(home, index, ["addr", "add", address, "dev", "wlan0"])
            try Self.ip(home, index, ["link", "set", "wlan0", "up"])
        }
        try eventually("box 1 announces on wlan0\n\(home.log(1).suffix(2000))") {
            home.log(1).contains("SSDP interfaces changed") && home.log(1).contains("wlan0")
        }
        #expect(try Self.locations(home, from: 2, bind: "10.78.0.2") == ["http://10.78.0.1:8738/upnp/device.xml"])
        #expect(try Self.locations(home, from: 2, bind: "10.77.0.2") == ["http://10.77.0.1:8738/upnp/device.xml"])
        for address in ["10.78.0.1", "10.77.0.1"] {
            #expect(try Self.httpStatus(home, from: 2, "http://\(address):8738/upnp/device.xml") == "200")
        }
    }
}

func fileSize(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.size] as? NSNumber)?.intValue ?? -1
}
