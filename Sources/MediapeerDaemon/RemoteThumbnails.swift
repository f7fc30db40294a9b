import Logging
import MediaProbe
import NIOCore
import PeerProtocol
import Synchronization
import WireVocabulary

/// Reads the EXIF thumbnail of a neighbour's photo from a box that holds it whole: the first bytes of the object
/// (a JPEG's EXIF block comes right after its start), one ranged request of at most
/// ``ExifThumbnail/prefixLength`` bytes, never the photo. The bytes are not checked against the manifest (the
/// first chunk is a megabyte): a thumbnail is only shown, and a holder is a box of the home.
struct RemoteThumbnails: Sendable {
    let client: PeerClient
    let logger: Logger
    /// The room of the thumbnails being read at once: a TV asks for a page of them together.
    private let buffers = FetchBufferBudget(bytes: 4 * ExifThumbnail.prefixLength)
    /// How long a holder may take to send them.
    static let timeout: TimeAmount = .seconds(5)

    init(client: PeerClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The thumbnail of the photo `id` (`size` bytes) as `holder` holds it; nil when the holder cannot send its
    /// first bytes or they hold no thumbnail.
    func thumbnail(of id: ContentID, size: Int64, from holder: PeerEndpoint) async -> [UInt8]? {
        let length = min(size, Int64(ExifThumbnail.prefixLength))
        guard length > 0 else { return nil }
        let prefix = Mutex<[UInt8]>([])
        do {
            try await client.pieces(
                holder, id: id, range: 0..<length, pieceLength: Int(length), pieceTimeout: Self.timeout,
                buffers: buffers
            ) { _, piece in
                prefix.withLock { $0 = Array(buffer: piece) }
                return true
            }
        } catch {
            logger.debug(
                "a neighbour's photo thumbnail could not be read",
                metadata: ["id": "\(id.hex)", "peer": "\(holder)", "error": "\(error)"])
            return nil
        }
        return ExifThumbnail.read(jpegPrefix: prefix.withLock { $0 })
    }
}
