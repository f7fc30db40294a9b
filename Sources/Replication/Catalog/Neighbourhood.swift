import PeerProtocol

/// An identified, reachable neighbour, as the daemon's peer table knows it.
public struct Neighbour: Sendable, Equatable {
    public var peerID: String
    public var name: String
    /// IPv4 first.
    public var addresses: [String]
    public var port: Int
    /// Its catalog generation, from its TXT record or its `/v1/info`, when known.
    public var generation: Int64?

    public init(peerID: String, name: String, addresses: [String], port: Int, generation: Int64?) {
        self.peerID = peerID
        self.name = name
        self.addresses = addresses
        self.port = port
        self.generation = generation
    }

    public var endpoint: PeerEndpoint? { PeerEndpoint(peerID: peerID, name: name, addresses: addresses, port: port) }
}

/// The boxes this one can talk to right now.
public protocol Neighbourhood: Sendable {
    func neighbours() async -> [Neighbour]
}
