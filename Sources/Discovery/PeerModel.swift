#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

/// The answer of a ``PeerTable/HealthCheck``.
public enum HealthResult: Sendable, Hashable {
    /// The peer answered. Give what it said about itself (its `GET /v1/info`) when known: a static peer learns its
    /// id this way, and a name, generation or protocol version given here replaces the table's.
    case healthy(id: String? = nil, name: String? = nil, generation: UInt64? = nil, protocolVersion: String? = nil)
    /// The peer did not answer, or answered wrongly; the text says how (it is logged).
    case unhealthy(String)
}

/// One peer as ``PeerTable`` knows it: every way it was reached, merged under its peer id.
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

/// Why a peer left the table.
public enum PeerRemovalReason: String, Sendable, Hashable, Codable {
    /// Every DNS-SD instance of the peer said goodbye (or expired).
    case goodbye
    /// Its health checks failed ``PeerTable/Configuration/failuresBeforeDrop`` times in a row.
    case unreachable
    /// avahi-daemon restarted and browsed again, and the peer was not among the instances found (only without a
    /// health check, which otherwise decides).
    case notRediscovered
    /// A static entry turned out to be this box itself.
    case ownInstance
}

/// A change to the peer table, on ``PeerTable/changes``.
///
/// Only peers with an id are reported; a static peer whose health check has not answered yet is listed by
/// ``PeerTable/snapshot()`` but appears here once it is identified (as ``added(_:)``, or as ``updated(_:)`` if the
/// peer was already known from mDNS).
public enum PeerChange: Sendable, Hashable, Codable {
    case added(PeerSnapshot)
    /// Anything but `lastSeen` changed: an address, the generation, reachability, the name…
    case updated(PeerSnapshot)
    case removed(PeerSnapshot, reason: PeerRemovalReason)
}
