#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One peer as Discovery's `PeerTable` knows it: every way it was reached, merged under its peer id.
public struct PeerSnapshot: Sendable, Hashable, Codable {
    /// The peer id (TXT `id`). Nil only for a static peer whose health check has not answered yet.
    public var id: String?
    /// The friendly name (TXT `name`, else the instance name, else what the health check said).
    public var name: String
    /// The host name from the SRV record (`box2.local`), when discovered over mDNS.
    public var hostName: String?
    /// Every address the peer was seen at, and the hosts of its static entries: IPv4 first, then IPv6 (link-local
    /// ones with `%ifindex`), then host names.
    public var addresses: [String]
    /// The HTTP port (from the SRV record, or from the static entry).
    public var port: UInt16
    /// The catalog generation (TXT `gen`, or the health check's), if known.
    public var generation: UInt64?
    /// The protocol version (TXT `v`), if known.
    public var protocolVersion: String?
    /// The latest TXT record.
    public var txt: [String: String]
    /// The DNS-SD instances (name × interface × IP version) currently announcing the peer.
    public var instances: [ServiceInstance]
    /// The `static_peers` entries that lead to this peer.
    public var staticEntries: [StaticPeer]
    /// When the peer was first seen.
    public var firstSeen: Date
    /// When the peer was last heard from: an mDNS announcement, or a successful health check.
    public var lastSeen: Date
    /// Whether the latest health check succeeded (true for a newly discovered peer until checked).
    public var reachable: Bool
    /// Health checks failed in a row.
    public var consecutiveFailures: Int

    public init(
        id: String?, name: String, hostName: String? = nil, addresses: [String], port: UInt16,
        generation: UInt64? = nil, protocolVersion: String? = nil, txt: [String: String] = [:],
        instances: [ServiceInstance] = [], staticEntries: [StaticPeer] = [], firstSeen: Date, lastSeen: Date,
        reachable: Bool, consecutiveFailures: Int = 0
    ) {
        self.id = id
        self.name = name
        self.hostName = hostName
        self.addresses = addresses
        self.port = port
        self.generation = generation
        self.protocolVersion = protocolVersion
        self.txt = txt
        self.instances = instances
        self.staticEntries = staticEntries
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.reachable = reachable
        self.consecutiveFailures = consecutiveFailures
    }
}

/// A configured peer (`static_peers = ["nas.local:8737"]`), contacted without waiting for DNS-SD.
///
/// The configuration parses and checks the `host:port` text (`MediapeerConfig.PeerAddress`); this is what the
/// table needs of it.
public struct StaticPeer: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A host name, an IPv4 address, or an IPv6 address without brackets (possibly with a `%zone`).
    public var host: String
    /// The peer's HTTP port.
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// `host:port`, or `[host]:port` for IPv6 addresses.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// The IP version an mDNS answer came over, and of the address it resolved to.
///
/// Avahi browses and resolves each instance once per interface and per IP version, so a peer on a dual-stack LAN is
/// usually reported twice: once ``ipv4`` with its IPv4 address and once ``ipv6`` with its IPv6 address.
public enum IPFamily: String, Sendable, Hashable, Codable {
    case ipv4
    case ipv6
}

/// One DNS-SD instance as Avahi sees it: a service name on one interface over one IP version.
///
/// A goodbye removes exactly one of these; a peer is gone when all of its instances are.
public struct ServiceInstance: Sendable, Hashable, Codable {
    /// The DNS-SD instance name, such as `Living Room` or `Living Room #2`.
    public var name: String
    /// The interface index (`if_nametoindex`) the instance was seen on.
    public var interfaceIndex: Int32
    /// The IP version of the mDNS packets that announced it.
    public var family: IPFamily

    public init(name: String, interfaceIndex: Int32, family: IPFamily) {
        self.name = name
        self.interfaceIndex = interfaceIndex
        self.family = family
    }
}
