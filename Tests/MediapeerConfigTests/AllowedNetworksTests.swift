import MediapeerConfig
import Testing

@Suite("IPNetwork")
struct IPNetworkTests {
    @Test(arguments: [
        ("10.0.0.0/8", "10.0.0.0/8"), ("192.168.1.0/24", "192.168.1.0/24"), ("0.0.0.0/0", "0.0.0.0/0"),
        ("192.168.1.20", "192.168.1.20/32"), ("192.168.1.20/32", "192.168.1.20/32"), ("fd00::/8", "fd00::/8"),
        ("FE80::/10", "fe80::/10"), ("::/0", "::/0"), ("::1", "::1/128"), ("2001:db8:0:0::/64", "2001:db8::/64"),
        ("::ffff:10.0.0.0/104", "10.0.0.0/8"), ("::ffff:192.168.1.20", "192.168.1.20/32"),
    ])
    func validNetworksParseToOneSpelling(text: String, spelling: String) throws {
        let network = try IPNetwork.parse(text)
        #expect(network.description == spelling)
        #expect(try IPNetwork.parse(spelling) == network)
    }

    @Test(arguments: [
        ("10.0.0.0/33", "the prefix length 33 is too long; an IPv4 address has 32 bits"),
        ("fd00::/129", "the prefix length 129 is too long; an IPv6 address has 128 bits"),
        ("10.0.0.0/", #"the prefix length "" is not a number from 0 to 32"#),
        ("10.0.0.0/-1", #"the prefix length "-1" is not a number from 0 to 32"#),
        ("10.0.0.0/+8", #"the prefix length "+8" is not a number from 0 to 32"#),
        ("10.0.0.0/0008", #"the prefix length "0008" is not a number from 0 to 32"#),
        ("fd00::/x", #"the prefix length "x" is not a number from 0 to 128"#),
        ("10.0.0.0/8/8", #"the prefix length "8/8" is not a number from 0 to 32"#),
    ])
    func prefixLengthsOutOfBoundsOrNotNumbersAreRejected(text: String, reason: String) {
        #expect(throws: InvalidNetwork(entry: text, reason: reason)) { try IPNetwork.parse(text) }
    }

    @Test(arguments: [
        (
            "192.168.1.5/24",
            #"has bits set after the prefix; write "192.168.1.0/24" for the whole network, or "192.168.1.5/32" for this address alone"#
        ),
        (
            "fd00::1/8",
            #"has bits set after the prefix; write "fd00::/8" for the whole network, or "fd00::1/128" for this address alone"#
        ),
        (
            "10.0.0.1/0",
            #"has bits set after the prefix; write "0.0.0.0/0" for the whole network, or "10.0.0.1/32" for this address alone"#
        ),
    ])
    func hostBitsAfterThePrefixAreRejectedWithBothReadings(text: String, reason: String) {
        #expect(throws: InvalidNetwork(entry: text, reason: reason)) { try IPNetwork.parse(text) }
    }

    @Test(arguments: [
        "nas.local/24", "10.0.0.256/8", "10.0.0/8", "010.0.0.0/8", " 10.0.0.0/8", "10.0.0.0 /8", "fd00:::/8", "/8",
        "::ffff:10.0.0.0.0/104", "https://10.0.0.0/8",
    ])
    func textThatIsNoAddressIsRejected(text: String) throws {
        let error = try #require(throws: InvalidNetwork.self) { try IPNetwork.parse(text) }
        #expect(error.reason.hasPrefix("\""), "\(error)")
        #expect(error.reason.contains("is not an IPv4 or IPv6 address"), "\(error)")
    }

    @Test func anEmptyEntryZonesAndShortMappedPrefixesAreRejectedWithAReason() {
        #expect(
            throws: InvalidNetwork(
                entry: "", reason: #"is empty; write a network such as "192.168.1.0/24" or "fd00::/8", or one address"#)
        ) {
            try IPNetwork.parse("")
        }
        #expect(throws: InvalidNetwork(entry: "fe80::%eth0/10", reason: #"a network has no zone ("%eth0"); remove it"#))
        {
            try IPNetwork.parse("fe80::%eth0/10")
        }
        #expect(
            throws: InvalidNetwork(
                entry: "::ffff:0:0/80",
                reason: "an IPv4-mapped network needs a prefix of at least 96 bits; write the IPv4 network instead")
        ) { try IPNetwork.parse("::ffff:0:0/80") }
    }

    @Test func theErrorNamesTheEntry() {
        #expect(
            InvalidNetwork(entry: "10.0.0.0/33", reason: "too long").description == #""10.0.0.0/33": too long"#)
    }

    @Test(arguments: [
        ("192.168.1.0/24", "192.168.1.0", true), ("192.168.1.0/24", "192.168.1.255", true),
        ("192.168.1.0/24", "192.168.2.0", false), ("192.168.1.0/24", "192.168.0.255", false),
        ("172.16.0.0/12", "172.31.255.255", true), ("172.16.0.0/12", "172.32.0.0", false),
        ("10.77.0.1/32", "10.77.0.1", true), ("10.77.0.1/32", "10.77.0.2", false),
        ("0.0.0.0/0", "203.0.113.9", true), ("0.0.0.0/0", "::1", false),
        ("fd00::/8", "fd12:3456::1", true), ("fd00::/8", "fe00::1", false),
        ("fe80::/10", "fe80::1%eth0", true), ("fe80::/10", "febf:ffff::1", true), ("fe80::/10", "fec0::1", false),
        ("2001:db8:0:1::/64", "2001:db8:0:1:ffff:ffff:ffff:ffff", true), ("2001:db8:0:1::/64", "2001:db8:0:2::", false),
        ("2001:db8::/127", "2001:db8::1", true), ("2001:db8::/127", "2001:db8::2", false),
        ("::1/128", "::1", true), ("::1/128", "::2", false), ("::/0", "2001:db8::1", true),
        ("::/0", "10.0.0.1", false), ("10.0.0.0/8", "::ffff:10.1.2.3", true), ("10.0.0.0/8", "::ffff:11.1.2.3", false),
        ("::ffff:0:0/96", "10.1.2.3", true),
    ])
    func membershipFollowsThePrefixBits(network: String, address: String, contained: Bool) throws {
        let parsed = try IPNetwork.parse(network)
        let candidate = try #require(IPAddress(address))
        #expect(parsed.contains(candidate) == contained)
    }

    @Test(arguments: ["", "nas.local", "10.0.0.1%eth0", "10.0.0.1/8", "1.2.3", "::ffff:1.2.3.4.5"])
    func textThatIsNoSingleAddressIsNoIPAddress(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func anIPv4MappedAddressIsItsIPv4Address() {
        #expect(IPAddress("::ffff:10.1.2.3") == IPAddress("10.1.2.3"))
        #expect(IPAddress("::ffff:10.1.2.3")?.description == "10.1.2.3")
        #expect(IPAddress("::ffff:0a01:0203") == .v4(0x0A01_0203))
    }
}

@Suite("allowed_networks")
struct AllowedNetworksKeyTests {
    @Test func theDefaultIsTheHomesPrivateLinkLocalAndLoopbackRanges() throws {
        let allowed = try parsed("").allowedNetworks
        #expect(allowed == .home)
        for address in [
            "10.77.0.2", "172.16.5.4", "192.168.1.20", "169.254.3.4", "fd12::1", "fe80::1", "127.0.0.1", "::1",
            "::ffff:192.168.1.20",
        ] {
            #expect(allowed.allows(address: address), "\(address)")
        }
        // CGNAT (the ISP's other customers), public addresses, global IPv6: outside the home.
        for address in ["100.64.0.1", "8.8.8.8", "172.32.0.1", "2001:db8::1", "::ffff:8.8.8.8", "nas.local", ""] {
            #expect(!allowed.allows(address: address), "\(address)")
        }
    }

    @Test func aListOfNetworksReplacesTheDefault() throws {
        let config = try parsed(#"allowed_networks = ["10.77.0.1/32", "127.0.0.0/8", "::1", "2001:db8::/56"]"#)
        #expect(
            config.allowedNetworks.networks.map(\.description) == [
                "10.77.0.1/32", "127.0.0.0/8", "::1/128", "2001:db8::/56",
            ])
        #expect(config.allowedNetworks.allows(address: "10.77.0.1"))
        #expect(!config.allowedNetworks.allows(address: "10.77.0.2"))
        #expect(config.allowedNetworks.allows(address: "2001:db8:0:ff::7"))
        #expect(config.warnings.filter { $0.key == "allowed_networks" }.isEmpty)
    }

    @Test func everyBadEntryIsReportedWithItsIndexAndLine() {
        #expect(
            messages(
                """
                allowed_networks = [
                    "10.0.0.0/8",
                    "192.168.1.5/24",
                    "nas.local",
                    7,
                ]
                """) == [
                    #"test.toml:3: allowed_networks[1]: "192.168.1.5/24": has bits set after the prefix; write "192.168.1.0/24" for the whole network, or "192.168.1.5/32" for this address alone"#,
                    #"test.toml:4: allowed_networks[2]: "nas.local": "nas.local" is not an IPv4 or IPv6 address; write a network such as "192.168.1.0/24" or "fd00::/8", or one address"#,
                    "test.toml:5: allowed_networks[3]: expected a string, found an integer",
                ])
    }

    @Test func notAnArrayIsAWrongTypeWithAHint() {
        #expect(
            messages(#"allowed_networks = "192.168.1.0/24""#) == [
                #"test.toml:1: allowed_networks: expected an array of strings, found a string; write allowed_networks = ["192.168.1.0/24"], with brackets"#
            ])
    }

    @Test func anEmptyListAdmitsNoAddressAndSaysSo() throws {
        let config = try parsed("allowed_networks = []")
        #expect(config.allowedNetworks.networks.isEmpty)
        #expect(!config.allowedNetworks.allows(address: "127.0.0.1"))
        #expect(!config.allowedNetworks.allows(address: "192.168.1.20"))
        let warning = try #require(config.warnings.first { $0.key == "allowed_networks" })
        #expect(warning.description.contains("no player on another device may connect"))
    }

    @Test func theListReadsAsCommaSeparatedNetworksInLogs() {
        #expect(
            AllowedNetworks([IPNetwork("10.0.0.0/8")!, IPNetwork("fd00::/8")!]).description == "10.0.0.0/8,fd00::/8")
        #expect(AllowedNetworks([]).description == "none")
    }

    @Test func theListRoundTripsThroughRendering() throws {
        var config = MediapeerConfiguration(name: "box")
        config.allowedNetworks = AllowedNetworks([IPNetwork("192.168.1.0/24")!, IPNetwork("::1")!])
        let rendered = config.rendered()
        #expect(rendered.contains("allowed_networks = [\n    \"192.168.1.0/24\",\n    \"::1/128\",\n]"))
        #expect(try parsed(rendered) == config)
    }
}
