import WireVocabulary

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Bounds on the peers a box keeps and on the referrals it believes (issue 12: another device on the LAN must not
/// make this box store, hold or contact without end).
extension PeerLimits {
    /// The most identified peers the peer table holds; more are ignored with a warning. A home has a handful of
    /// boxes: 64 leaves room for every real one and caps what fake announcements can make the box check and sync.
    public static let maxPeers = 64
    /// The most holders a locate answer may refer to; the rest are ignored.
    public static let maxLocateHolders = 16
    /// The most addresses a referred holder may have; a holder with more is dropped.
    public static let maxHolderAddresses = 8
    /// How many locate query ids a box remembers, each for ``locateQueryMemory`` at most (the oldest go first).
    public static let locateQueryIDs = 4096
    /// How long a locate query id is remembered, so that a query coming back by another path is not answered twice.
    public static let locateQueryMemory: Duration = .seconds(60)
    /// Locates a source address may send per second, on average…
    public static let locatesPerSecond = 10
    /// …and at once, after a quiet time.
    public static let locateBurst = 50
    /// How many source addresses the locate rate limit tracks; the least recently seen is forgotten first.
    public static let locateRateSources = 1024

    /// Whether `text` is an address a peer may refer this box to: an IPv4 literal (`192.168.1.2`) or an IPv6 literal
    /// (`fd00::2`), the latter with an optional zone of 1 to 15 of `[A-Za-z0-9_.-]` (`fe80::2%eth0`). Never a host
    /// name: a name would be looked up, and a peer's text must not choose whom this box resolves or contacts.
    public static func isValidHolderAddress(_ text: String) -> Bool {
        guard text.utf8.count <= 64 else { return false }
        if let percent = text.firstIndex(of: "%") {
            let zone = text[text.index(after: percent)...]
            let isZoneByte = { (byte: UInt8) in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == 0x5F || byte == 0x2E || byte == 0x2D
            }
            guard (1...15).contains(zone.utf8.count), zone.utf8.allSatisfy(isZoneByte) else { return false }
            return parses(String(text[..<percent]), family: AF_INET6)
        }
        return parses(text, family: AF_INET) || parses(text, family: AF_INET6)
    }

    /// Whether `port` is a port a peer may refer this box to.
    public static func isValidHolderPort(_ port: Int) -> Bool {
        (1...65535).contains(port)
    }

    private static func parses(_ text: String, family: Int32) -> Bool {
        var storage = (UInt64(0), UInt64(0))
        return withUnsafeMutableBytes(of: &storage) { buffer in
            inet_pton(family, text, buffer.baseAddress) == 1
        }
    }
}

extension Holder {
    /// The holder as this box may believe it, or nil when it breaks a bound: a peer id that is not 32 lowercase
    /// hex digits, no address or more than ``PeerLimits/maxHolderAddresses``, an address that is not an IP literal
    /// (``PeerLimits/isValidHolderAddress(_:)``), or a port outside 1...65535. Its name is cut to 255 bytes of
    /// UTF-8 with control characters replaced, as it may be shown, and a malformed `referredBy` is dropped.
    public func validated() -> Holder? {
        let isHexDigit = { (byte: UInt8) in (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte) }
        guard peerID.utf8.count == 32, peerID.utf8.allSatisfy(isHexDigit),
            (1...PeerLimits.maxHolderAddresses).contains(addresses.count),
            addresses.allSatisfy(PeerLimits.isValidHolderAddress), PeerLimits.isValidHolderPort(port)
        else { return nil }
        var holder = self
        if let referrer = referredBy, !(referrer.utf8.count == 32 && referrer.utf8.allSatisfy(isHexDigit)) {
            holder.referredBy = nil
        }
        holder.name = DisplayText.prefix(DisplayText.replacingControls(name), utf8Bytes: PeerLimits.maxPeerNameBytes)
        return holder
    }
}
