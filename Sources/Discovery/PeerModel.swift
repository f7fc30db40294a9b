import ControlWire

/// The answer of a ``PeerTable/HealthCheck``.
public enum HealthResult: Sendable, Hashable {
    /// The peer answered. Give what it said about itself (its `GET /v1/info`) when known: a static peer learns its
    /// id this way, and a name, generation or protocol version given here replaces the table's.
    case healthy(id: String? = nil, name: String? = nil, generation: UInt64? = nil, protocolVersion: String? = nil)
    /// The peer did not answer, or answered wrongly; the text says how (it is logged).
    case unhealthy(String)
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
    /// The box behind a static address now answers with another id.
    case replaced
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
