import ContentID
import NIOCore
import PeerProtocol
import WireVocabulary

/// What a fetch asks of the holders: ``PeerClient`` over HTTP, or a test's fake.
protocol FetchTransport: Sendable {
    /// The object's manifest, verified against `id`, accepted only with chunks of `chunkSize` bytes and at most
    /// `maxChunkCount` of them; a holder that has not answered within `timeout` has failed.
    func manifest(
        _ peer: PeerEndpoint, id: ContentID, chunkSize: Int, maxChunkCount: Int, timeout: TimeAmount
    ) async throws(PeerClientError) -> ChunkVerifier
    /// Which chunks a partial holder has.
    func have(_ peer: PeerEndpoint, id: ContentID, chunkCount: Int) async throws(PeerClientError) -> ChunkBitmap
    /// Streams `range` of the object, handing each whole piece of `pieceLength` bytes to `deliver` while the next
    /// one arrives, each piece held only with its bytes reserved in `buffers`; stops early when `deliver` returns
    /// false. Returns the pieces delivered.
    func pieces(
        _ peer: PeerEndpoint, id: ContentID, range: Range<Int64>, pieceLength: Int, pieceTimeout: TimeAmount,
        buffers: FetchBufferBudget,
        deliver: @escaping @Sendable (_ index: Int, _ piece: ByteBuffer) async throws -> Bool
    ) async throws -> Int
}

extension PeerClient: FetchTransport {}
