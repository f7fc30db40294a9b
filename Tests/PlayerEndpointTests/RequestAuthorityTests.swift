import Testing

@testable import PlayerEndpoint

/// Which `Host` headers URLs given back to a client may be built on: it is the client's to write.
@Suite struct RequestAuthorityTests {
    @Test(arguments: [
        ("box.local:8738", "box.local:8738"), ("10.0.0.5:8738", "10.0.0.5:8738"), ("10.0.0.5", "10.0.0.5:9000"),
        ("[fe80::1]:8738", "[fe80::1]:8738"), ("[::ffff:10.0.0.5]", "[::ffff:10.0.0.5]:9000"),
        ("Living-Room:80", "Living-Room:80"),
    ])
    func aValidHostIsKeptWithItsPortOrOurs(header: String, authority: String) {
        #expect(RequestAuthority.fromHostHeader(header, defaultPort: 9000) == authority)
    }

    @Test(arguments: [
        "", "evil/x", "a b", "box:0", "box:65536", "box:80x", "box:", "[fe80::1", "[fe80::1%eth0]", "[]:80",
        "[zz::1]", "-box", "box..local", "user@box", "box:80:80", "[::1]x",
    ])
    func anInvalidHostIsRefused(header: String) {
        #expect(RequestAuthority.fromHostHeader(header, defaultPort: 9000) == nil)
    }

    @Test func aLongHostIsRefused() {
        #expect(RequestAuthority.fromHostHeader(String(repeating: "a", count: 300), defaultPort: 1) == nil)
    }

    @Test func anIPv6AddressIsBracketedAndAnIPv4MappedOneUnwrapped() {
        #expect(RequestAuthority.urlHost(ofIP: "fe80::1") == "[fe80::1]")
        #expect(RequestAuthority.urlHost(ofIP: "::ffff:10.77.0.1") == "10.77.0.1")
        #expect(RequestAuthority.urlHost(ofIP: "10.77.0.1") == "10.77.0.1")
    }
}
