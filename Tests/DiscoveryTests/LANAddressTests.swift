import PeerAddresses
import Testing

/// The host this box puts in the URLs it gives players: `mediapeerctl url`.
@Suite struct LANAddressTests {
    private func address(_ text: String, up: Bool = true, loopback: Bool = false) -> LANAddress.InterfaceAddress {
        LANAddress.InterfaceAddress(interface: loopback ? "lo" : "eth0", address: text, isUp: up, isLoopback: loopback)
    }

    @Test func theFirstIPv4AddressOfAnUpInterfaceThatIsNotLoopbackWins() {
        let addresses = [
            address("127.0.0.1", loopback: true), address("fd00::2"), address("10.9.9.9", up: false),
            address("192.168.1.20"), address("192.168.2.20"),
        ]
        #expect(LANAddress.host(among: addresses, hostName: "box") == "192.168.1.20")
    }

    @Test func withoutIPv4ARoutableIPv6AddressComesBeforeALinkLocalOne() {
        let addresses = [address("::1", loopback: true), address("fe80::2%eth0"), address("fd00::2")]
        #expect(LANAddress.host(among: addresses, hostName: "box") == "fd00::2")
        #expect(LANAddress.host(among: [address("fe80::2%eth0")], hostName: "box") == "fe80::2%eth0")
    }

    @Test func withOnlyLoopbackOrDownInterfacesTheHostNameIsUsed() {
        let addresses = [address("127.0.0.1", loopback: true), address("10.0.0.2", up: false)]
        #expect(LANAddress.host(among: addresses, hostName: "livingroom") == "livingroom")
    }

    @Test func thisMachinesInterfacesIncludeLoopbackMarkedAsSuch() {
        let addresses = LANAddress.interfaceAddresses()
        #expect(addresses.contains { $0.address == "127.0.0.1" && $0.isLoopback && $0.isUp })
    }
}
