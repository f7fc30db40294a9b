/// The order in which a box tries a peer's addresses. The peer table lists a peer's addresses in it and the peer
/// client connects to the first, so every request picks the same address for the same peer.
///
/// ```swift
/// AddressPreference.sorted(["nas.local", "fe80::2%3", "fd00::2", "192.168.1.2"])
/// // ["192.168.1.2", "fd00::2", "fe80::2%3", "nas.local"]
/// ```
///
/// IPv4 comes first: every home network has it and it needs neither a zone nor a name lookup. Routable IPv6 comes
/// before link-local IPv6, whose `%zone` ties it to one interface, and host names come last, as resolving them
/// (`.local` goes through mDNS) can take seconds. Within each kind addresses are ordered by their text, so the
/// choice does not depend on the order in which they were learnt.
public enum AddressPreference {
    /// `addresses`, best first.
    public static func sorted(_ addresses: some Sequence<String>) -> [String] {
        addresses.sorted { rank($0) < rank($1) }
    }

    private static func rank(_ address: String) -> (Int, String) {
        if address.contains(":") { return (address.lowercased().hasPrefix("fe80:") ? 2 : 1, address) }
        let isIPv4 =
            address.split(separator: ".", omittingEmptySubsequences: false).count == 4
            && address.allSatisfy { $0 == "." || $0.isASCII && $0.isNumber }
        return (isIPv4 ? 0 : 3, address)
    }
}
