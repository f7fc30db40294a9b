/// Bounds of the peer API's HTTP server: what other devices on the network can make it hold.
extension PeerLimits {
    /// Connections to the peer API open at once, from every client together; more are closed at once.
    public static let maxConnections = 256
    /// Connections to the peer API open at once from one address: a box needs a few (a fetch, a catalog sync,
    /// health checks), so 16 is plenty, and one device cannot take every connection.
    public static let maxConnectionsPerAddress = 16
    /// How long a request's head and body may take to arrive, from its first byte: a client that trickles a request
    /// is cut off rather than holding a connection.
    public static let requestDeadline: Duration = .seconds(10)
}

extension PeerLimits {
    /// A household roster sent to a box (`POST /v1/household/roster`, `/v1/household/removed`): 256 records of a
    /// few hundred bytes fit several times over.
    public static let maxRosterBytes = 256 << 10
}
