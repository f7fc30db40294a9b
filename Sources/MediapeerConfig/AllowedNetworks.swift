#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IP address as ``AllowedNetworks`` matches it. An IPv4 client of a dual-stack socket arrives as an IPv4-mapped
/// IPv6 address (`::ffff:10.1.2.3`); it is the IPv4 address `10.1.2.3` here, so one rule covers it either way.
public enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    case v4(UInt32)
    /// The 128 bits as two halves (no `UInt128`: it is not on every target the daemon is built for).
    case v6(high: UInt64, low: UInt64)

    /// Parses an IPv4 address in dotted form or an IPv6 address (a link-local `%zone` suffix is ignored); nil for
    /// anything else, host names included.
    public init?(_ text: some StringProtocol) {
        let withoutZone = text.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard !withoutZone.isEmpty, withoutZone.utf8.count <= 45 else { return nil }
        let address = String(withoutZone)
        if !address.contains(":") {
            guard withoutZone.count == text.count else { return nil }
            var bytes = in_addr()
            guard inet_pton(AF_INET, address, &bytes) == 1 else { return nil }
            self = .v4(UInt32(bigEndian: bytes.s_addr))
            return
        }
        var bytes = in6_addr()
        guard inet_pton(AF_INET6, address, &bytes) == 1 else { return nil }
        let (high, low) = withUnsafeBytes(of: &bytes) { raw in
            (
                raw.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) },
                raw.suffix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            )
        }
        self = Self.unmapped(high: high, low: low)
    }

    /// `::ffff:a.b.c.d` as the IPv4 address it carries; any other IPv6 address as it is.
    static func unmapped(high: UInt64, low: UInt64) -> IPAddress {
        high == 0 && low >> 32 == 0xFFFF ? .v4(UInt32(truncatingIfNeeded: low)) : .v6(high: high, low: low)
    }

    public var description: String {
        switch self {
        case .v4(let value):
            return (0..<4).map { String(value >> (24 - 8 * $0) & 0xFF) }.joined(separator: ".")
        case .v6(let high, let low):
            var bytes = in6_addr()
            withUnsafeMutableBytes(of: &bytes) { raw in
                for index in 0..<8 {
                    raw[index] = UInt8(truncatingIfNeeded: high >> (56 - 8 * index))
                    raw[index + 8] = UInt8(truncatingIfNeeded: low >> (56 - 8 * index))
                }
            }
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &bytes, &text, socklen_t(text.count)) != nil else { return "::" }
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}

/// A network in CIDR notation (`192.168.1.0/24`, `fd00::/8`): an address and how many of its leading bits every
/// address of the network shares. The bits after the prefix are zero, so each network has one spelling.
public struct IPNetwork: Sendable, Hashable, LosslessStringConvertible {
    /// The network's first address; its bits after ``prefixLength`` are zero.
    public let address: IPAddress
    /// 0 to 32 for IPv4, 0 to 128 for IPv6.
    public let prefixLength: Int

    /// Parses `address/prefix`, or a bare address for that address alone; nil when ``parse(_:)`` would throw.
    public init?(_ description: String) {
        guard let network = try? Self.parse(description) else { return nil }
        self = network
    }

    private init(address: IPAddress, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    /// `address/prefix`, the form ``parse(_:)`` reads back.
    public var description: String { "\(address)/\(prefixLength)" }

    /// Whether `candidate` is in this network. An IPv4 address is never in an IPv6 network nor the other way round
    /// (IPv4-mapped addresses are IPv4 already: see ``IPAddress``).
    public func contains(_ candidate: IPAddress) -> Bool {
        switch (address, candidate) {
        case (.v4(let network), .v4(let value)):
            return value & Self.mask32(prefixLength) == network
        case (.v6(let networkHigh, let networkLow), .v6(let high, let low)):
            let (maskHigh, maskLow) = Self.mask128(prefixLength)
            return high & maskHigh == networkHigh && low & maskLow == networkLow
        default:
            return false
        }
    }

    static let formsHint = #"write a network such as "192.168.1.0/24" or "fd00::/8", or one address"#

    /// Parses `address/prefix` (IPv4 or IPv6), or a bare address, which is the network of that address alone
    /// (`/32`, `/128`). An IPv4-mapped network (`::ffff:10.0.0.0/104`) is the IPv4 network it maps (`10.0.0.0/8`).
    ///
    /// - throws: ``InvalidNetwork`` naming the entry and what is wrong with it: an empty entry, something that is
    ///   no address (a host name, a zone such as `%eth0`), a prefix length that is not a number or out of range,
    ///   or bits set after the prefix (`192.168.1.5/24`: the address or the whole network?).
    public static func parse(_ text: String) throws(InvalidNetwork) -> IPNetwork {
        func invalid(_ reason: String) -> InvalidNetwork { InvalidNetwork(entry: text, reason: reason) }
        guard !text.isEmpty else { throw invalid("is empty; \(formsHint)") }
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let addressText = parts[0]
        if addressText.contains("%") {
            throw invalid("a network has no zone (\(quoted(addressText.drop { $0 != "%" }))); remove it")
        }
        guard let address = IPAddress(addressText) else {
            throw invalid("\(quoted(addressText)) is not an IPv4 or IPv6 address; \(formsHint)")
        }
        let isV6Text = addressText.contains(":")
        let maximum = isV6Text ? 128 : 32
        var prefixLength = maximum
        if parts.count == 2 {
            let prefixText = parts[1]
            guard !prefixText.isEmpty, prefixText.utf8.count <= 3, prefixText.allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = Int(prefixText)
            else {
                throw invalid("the prefix length \(quoted(parts[1])) is not a number from 0 to \(maximum)")
            }
            guard value <= maximum else {
                throw invalid(
                    "the prefix length \(value) is too long; an \(isV6Text ? "IPv6" : "IPv4") address has \(maximum) bits"
                )
            }
            prefixLength = value
        }
        // An IPv4-mapped address parsed as IPv4: its prefix counts the 96 bits of the mapping too.
        if isV6Text, case .v4 = address {
            guard prefixLength >= 96 else {
                throw invalid(
                    "an IPv4-mapped network needs a prefix of at least 96 bits; write the IPv4 network instead")
            }
            prefixLength -= 96
        }
        let network = IPNetwork(address: address, prefixLength: prefixLength)
        let masked = network.masked
        guard masked == network else {
            throw invalid(
                "has bits set after the prefix; write \(quoted(masked.description)) for the whole network, or "
                    + "\(quoted(IPNetwork(address: address, prefixLength: masked.maximumPrefix).description)) "
                    + "for this address alone")
        }
        return network
    }

    private var maximumPrefix: Int {
        if case .v4 = address { 32 } else { 128 }
    }

    /// The network with its bits after the prefix cleared.
    private var masked: IPNetwork {
        switch address {
        case .v4(let value):
            return IPNetwork(address: .v4(value & Self.mask32(prefixLength)), prefixLength: prefixLength)
        case .v6(let high, let low):
            let (maskHigh, maskLow) = Self.mask128(prefixLength)
            return IPNetwork(address: .v6(high: high & maskHigh, low: low & maskLow), prefixLength: prefixLength)
        }
    }

    private static func mask32(_ prefix: Int) -> UInt32 {
        prefix == 0 ? 0 : UInt32.max << (32 - prefix)
    }

    private static func mask128(_ prefix: Int) -> (UInt64, UInt64) {
        let high: UInt64 = prefix >= 64 ? .max : prefix == 0 ? 0 : .max << (64 - prefix)
        let low: UInt64 = prefix <= 64 ? 0 : .max << (128 - prefix)
        return (high, low)
    }
}

/// Why an entry of `allowed_networks` is not a network, naming the entry.
public struct InvalidNetwork: Error, Sendable, Equatable, CustomStringConvertible {
    /// The entry as written.
    public var entry: String
    /// What is wrong with it and how to write it instead.
    public var reason: String

    public init(entry: String, reason: String) {
        self.entry = entry
        self.reason = reason
    }

    public var description: String { "\(quoted(entry)): \(reason)" }
}

/// The networks whose devices may use the player endpoint, the DLNA MediaServer and SSDP (`allowed_networks`).
///
/// Players (TVs, VLC, Kodi) cannot authenticate, so where they connect from is all a box can judge them by. The
/// default is the home: the private ranges, link-local, and loopback. An empty list admits no other device (the
/// player endpoint answers the box itself whatever the list: `PlayerServer.isThisBox`).
public struct AllowedNetworks: Sendable, Hashable, CustomStringConvertible {
    public var networks: [IPNetwork]

    public init(_ networks: [IPNetwork]) {
        self.networks = networks
    }

    /// What a home LAN uses: RFC 1918 (10/8, 172.16/12, 192.168/16), IPv4 link-local (169.254/16), IPv6 unique
    /// local (fc00::/7) and link-local (fe80::/10), and loopback (127/8, ::1).
    ///
    /// Not the shared address space of carrier-grade NAT (100.64.0.0/10): its addresses are the ISP's, shared with
    /// its other customers, so a packet from there may come from outside the home; a household that uses it for
    /// its own devices (Tailscale does) adds it. Nor global IPv6 addresses: a home whose players have only those
    /// adds its prefix.
    public static let home = AllowedNetworks(
        [
            "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "fc00::/7", "fe80::/10",
            "127.0.0.0/8", "::1/128",
        ].map { IPNetwork($0)! })

    /// The networks, comma-separated (`10.0.0.0/8,fd00::/8`), as logs show them; `none` for an empty list.
    public var description: String {
        networks.isEmpty ? "none" : networks.map(\.description).joined(separator: ",")
    }

    /// Whether `address` is in one of the networks.
    public func allows(_ address: IPAddress) -> Bool {
        networks.contains { $0.contains(address) }
    }

    /// Whether the address in `text` (as a socket gives it: IPv4, IPv6, IPv4-mapped) is in one of the networks;
    /// false for text that is no address.
    public func allows(address text: some StringProtocol) -> Bool {
        IPAddress(text).map(allows) ?? false
    }
}
