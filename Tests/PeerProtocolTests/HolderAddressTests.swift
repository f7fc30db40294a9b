import PeerWire
import Testing

/// Which addresses a referral may carry: IP literals only.
@Suite struct HolderAddressTests {
    @Test(arguments: ["192.168.1.2", "10.0.0.1", "fd00::2", "::1", "fe80::2%eth0", "fe80::2%3", "fe80::2%br-lan.1_x"])
    func anIPLiteralIsAValidHolderAddress(_ text: String) {
        #expect(PeerLimits.isValidHolderAddress(text))
    }

    @Test(arguments: [
        "", "nas.local", "10.0.0.1/x", "10.0.0.1?x", "10.0.0.1#x", "10.0.0.1:80", "[fd00::2]", "fe80::2%",
        "fe80::2%eth0/x", "fe80::2%a b", "10.0.0.1%eth0", "256.0.0.1", "fe80::2%0123456789abcdef",
        "http://10.0.0.1", "10.0.0.1\r\nHost: x",
    ])
    func anythingElseIsNot(_ text: String) {
        #expect(!PeerLimits.isValidHolderAddress(text))
    }

    @Test func aHolderNameIsCutAndCleaned() throws {
        let holder = Holder(
            peerID: String(repeating: "a", count: 32), name: "\u{1B}]0;x" + String(repeating: "y", count: 400),
            addresses: ["10.0.0.1"], port: 8737, complete: true)
        let validated = try #require(holder.validated())
        #expect(validated.name.hasPrefix("\u{FFFD}]0;x") && validated.name.utf8.count == 255)
    }

    @Test func aHolderWithAMalformedPeerIDIsDropped() {
        let holder = Holder(peerID: "../x", name: "x", addresses: ["10.0.0.1"], port: 8737, complete: true)
        #expect(holder.validated() == nil)
    }
}
