/// The version of the peer protocol this build speaks. A box ignores peers announcing another version (TXT `v`).
/// 2: mutual TLS with box keys (version 1 was plain HTTP; the two cannot talk).
public enum PeerProtocolVersion {
    public static let current = 2
}

/// `GET /v1/info`: who a box is. Cheap enough to serve as the health check between boxes.
public struct PeerInfo: Sendable, Codable, Equatable {
    /// The stable peer id: 32 lowercase hex digits, generated on first start and kept in `state_dir`.
    public var id: String
    /// The friendly name from the configuration (the mDNS instance name may differ after a collision).
    public var name: String
    /// The software version.
    public var version: String
    /// The peer protocol version (``PeerProtocolVersion/current``).
    public var protocolVersion: Int
    /// The catalog generation: it changes whenever the box's shareable content changes.
    public var generation: Int64
    /// Moves whenever the box's demand figures change (`GET /v1/demand`); absent from boxes that have none to give.
    public var demandGeneration: Int64?
    /// The household the box is in (16 hex digits; absent in LAN mode), and its roster's version: a member whose
    /// version differs from its own pulls the roster (`GET /v1/household/roster`).
    public var household: String?
    public var rosterVersion: String?

    public init(
        id: String, name: String, version: String, protocolVersion: Int = PeerProtocolVersion.current,
        generation: Int64,
        demandGeneration: Int64? = nil, household: String? = nil, rosterVersion: String? = nil
    ) {
        self.household = household
        self.rosterVersion = rosterVersion
        self.id = id
        self.name = name
        self.version = version
        self.protocolVersion = protocolVersion
        self.generation = generation
        self.demandGeneration = demandGeneration
    }
}
