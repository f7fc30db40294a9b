import MediapeerConfig
import Testing

@Suite("static_peers")
struct StaticPeersTests {
    @Test(arguments: [
        ("nas.local:8737", "nas.local", 8737),
        ("nas.local.:8737", "nas.local.", 8737),
        ("media-box:1", "media-box", 1),
        ("192.168.1.20:65535", "192.168.1.20", 65535),
        ("[fd00::20]:8737", "fd00::20", 8737),
        ("[::1]:9000", "::1", 9000),
        ("[fe80::1%eth0]:8737", "fe80::1%eth0", 8737),
        ("[::ffff:192.0.2.1]:80", "::ffff:192.0.2.1", 80),
    ])
    func validFormsAreAccepted(text: String, host: String, port: Int) throws {
        let config = try parsed(#"static_peers = ["\#(text)"]"#)
        #expect(config.staticPeers == [PeerAddress(host: host, port: port)])
        #expect(config.staticPeers.first?.description == text)
    }

    @Test(arguments: [
        ("nas.local", #""nas.local" has no port; write "nas.local:8737""#),
        ("[fd00::20]", #""[fd00::20]" has no port; write "[fd00::20]:8737""#),
        (
            "fd00::20:8737",
            #""fd00::20:8737" looks like an IPv6 address; put the address in brackets, as in "[fd00::20]:8737""#
        ),
        ("[fd00::zz]:8737", #""[fd00::zz]:8737": "fd00::zz" is not an IPv6 address"#),
        (
            "[fd00::20:8737",
            #""[fd00::20:8737" has no closing "]"; write "host:port", such as "nas.local:8737", "192.168.1.20:8737" or "[fd00::20]:8737""#
        ),
        ("nas.local:0", #""nas.local:0": the port 0 is out of range; use a port from 1 to 65535"#),
        ("nas.local:65536", #""nas.local:65536": the port 65536 is out of range; use a port from 1 to 65535"#),
        ("nas.local:http", #""nas.local:http": the port "http" is not a number from 1 to 65535"#),
        (
            ":8737",
            #"":8737": the host is missing; write "host:port", such as "nas.local:8737", "192.168.1.20:8737" or "[fd00::20]:8737""#
        ),
        ("300.1.1.1:8737", #""300.1.1.1:8737": "300.1.1.1" is not a valid IPv4 address"#),
        (
            "nas box:8737",
            #""nas box:8737": "nas box" is not a valid host name; use letters, digits and "-" in dot-separated parts of at most 63 characters"#
        ),
        (
            "-nas:8737",
            #""-nas:8737": "-nas" is not a valid host name; use letters, digits and "-" in dot-separated parts of at most 63 characters"#
        ),
        ("", #"is empty; write "host:port", such as "nas.local:8737", "192.168.1.20:8737" or "[fd00::20]:8737""#),
    ])
    func badFormsAreRejected(text: String, message: String) {
        #expect(messages(#"static_peers = ["\#(text)"]"#) == ["test.toml:1: static_peers[0]: \(message)"])
    }

    @Test func notAnArrayIsAWrongTypeWithAHint() {
        #expect(
            messages(#"static_peers = "nas.local:8737""#) == [
                #"test.toml:1: static_peers: expected an array of strings, found a string; write static_peers = ["nas.local:8737"], with brackets"#
            ])
    }

    @Test func peerAddressParsesItsOwnDescription() {
        let peer = PeerAddress(host: "fd00::20", port: 8737)
        #expect(PeerAddress(peer.description) == peer)
        #expect(PeerAddress("no port") == nil)
    }
}
