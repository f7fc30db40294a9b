import PeerAddresses
import Testing

@Suite struct AddressPreferenceTests {
    @Test func ipv4ComesFirstThenRoutableIPv6ThenLinkLocalIPv6ThenHostNames() {
        #expect(
            AddressPreference.sorted(["nas.local", "fe80::2%3", "fd00::2", "192.168.1.2"])
                == ["192.168.1.2", "fd00::2", "fe80::2%3", "nas.local"])
    }

    @Test func addressesOfOneKindAreOrderedByTheirText() {
        #expect(
            AddressPreference.sorted(["10.0.0.9", "10.0.0.10", "fd00::b", "fd00::a"])
                == ["10.0.0.10", "10.0.0.9", "fd00::a", "fd00::b"])
    }

    @Test func aNameMadeOfDigitsAndDotsButNotFourPartsIsAHostName() {
        #expect(AddressPreference.sorted(["1.2.3", "fd00::1"]) == ["fd00::1", "1.2.3"])
    }
}
