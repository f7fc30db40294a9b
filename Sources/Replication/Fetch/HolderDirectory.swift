import PeerProtocol
import PeerWire
import WireVocabulary

/// Where the fetcher learns who holds an object (the daemon answers from the neighbours' catalogs and locate
/// referrals).
public protocol HolderDirectory: Sendable {
    /// The other boxes that hold the object wholly or in part, with addresses to reach them.
    func holders(of id: ContentID) async -> [Holder]
}

extension Holder {
    var endpoint: PeerEndpoint? { PeerEndpoint(peerID: peerID, name: name, addresses: addresses, port: port) }
}
