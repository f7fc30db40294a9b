import Crypto
import WireVocabulary

/// The chunk hash list of one file: what a ``ContentID`` is computed from and what each chunk is verified against.
///
/// Chunks have a fixed size (``standardChunkSize``, 1 MiB) except the last, which holds the remainder; an empty
/// file has no chunks. 1 MiB keeps the manifest of a 4 GiB film at 128 KiB and its have-bitmap at 512 bytes, is a
/// large enough read for slow SD cards and HTTP requests, and is small enough that a player waiting for the next
/// verified chunk waits a fraction of a second on home Wi-Fi.
public struct ChunkManifest: Sendable, Equatable {
    /// The largest file a manifest may describe (1 PiB).
    public static let maximumFileSize: Int64 = 1 << 50

    /// The chunk size every manifest this version creates uses.
    public static let standardChunkSize = 1 << 20

    /// Domain separation, so a content id can never collide with a plain SHA-256 of some other byte string.
    static let idPrefix = Array("mediapeer-content-v1\0".utf8)

    /// The size in bytes of the file the manifest describes.
    public let fileSize: Int64
    /// The size of every chunk but the last.
    public let chunkSize: Int
    /// The SHA-256 of each chunk, 32 bytes each, concatenated in chunk order.
    public let packedChunkHashes: [UInt8]

    /// Creates a manifest, checking that the hash list has exactly one 32-byte hash per chunk.
    public init(fileSize: Int64, chunkSize: Int, packedChunkHashes: [UInt8]) throws(ManifestError) {
        guard chunkSize > 0, chunkSize <= 64 << 20 else { throw .invalidChunkSize(chunkSize) }
        // 1 PiB is beyond any media file, and keeps every size computation below far from overflowing on a
        // manifest a peer made up.
        guard fileSize >= 0, fileSize <= Self.maximumFileSize else { throw .invalidFileSize(fileSize) }
        // In 64 bits: on a 32-bit box the count a made-up size implies may not fit an Int; once it matches the
        // hashes actually present, it does.
        let expected = (fileSize + Int64(chunkSize) - 1) / Int64(chunkSize)
        guard Int64(packedChunkHashes.count) == expected * Int64(SHA256.byteCount) else {
            throw .hashCountMismatch(
                expected: Int(clamping: expected), found: packedChunkHashes.count / SHA256.byteCount)
        }
        self.fileSize = fileSize
        self.chunkSize = chunkSize
        self.packedChunkHashes = packedChunkHashes
    }

    /// The number of chunks.
    public var chunkCount: Int { Self.chunkCount(fileSize: fileSize, chunkSize: chunkSize) }

    /// The content id: SHA-256 over a domain prefix, the file size and chunk size (big-endian 64 and 32 bits) and
    /// the chunk hashes in order.
    public var contentID: ContentID {
        var hasher = SHA256()
        hasher.update(data: Self.idPrefix)
        hasher.update(data: BigEndian.bytes(UInt64(fileSize)))
        hasher.update(data: BigEndian.bytes(UInt32(chunkSize)))
        hasher.update(data: packedChunkHashes)
        return ContentID(bytes: Array(hasher.finalize()))!
    }

    /// The byte range of chunk `index` within the file.
    public func byteRange(ofChunk index: Int) -> Range<Int64> {
        precondition(index >= 0 && index < chunkCount, "chunk index out of range")
        let start = Int64(index) * Int64(chunkSize)
        return start..<min(start + Int64(chunkSize), fileSize)
    }

    /// The chunks that overlap a byte range of the file.
    public func chunks(covering range: Range<Int64>) -> Range<Int> {
        guard !range.isEmpty, range.lowerBound < fileSize else { return 0..<0 }
        let first = Int(range.lowerBound / Int64(chunkSize))
        let last = Int((min(range.upperBound, fileSize) - 1) / Int64(chunkSize))
        return first..<(last + 1)
    }

    /// The expected SHA-256 of chunk `index`.
    public func hash(ofChunk index: Int) -> ArraySlice<UInt8> {
        precondition(index >= 0 && index < chunkCount, "chunk index out of range")
        let start = index * SHA256.byteCount
        return packedChunkHashes[start..<(start + SHA256.byteCount)]
    }

    static func chunkCount(fileSize: Int64, chunkSize: Int) -> Int {
        Int((fileSize + Int64(chunkSize) - 1) / Int64(chunkSize))
    }
}

/// Why a manifest was rejected.
public enum ManifestError: Error, Equatable, CustomStringConvertible {
    case invalidChunkSize(Int)
    case invalidFileSize(Int64)
    case hashCountMismatch(expected: Int, found: Int)
    /// A manifest from a peer whose chunk size is not the one this version uses.
    case unexpectedChunkSize(found: Int, expected: Int)
    /// A manifest from a peer with more chunks than this box accepts.
    case tooManyChunks(found: Int, limit: Int)
    case truncated
    case doesNotMatchContentID(expected: ContentID, computed: ContentID)

    public var description: String {
        switch self {
        case .invalidChunkSize(let size): "invalid chunk size \(size) (must be 1 byte to 64 MiB)"
        case .invalidFileSize(let size): "invalid file size \(size)"
        case .hashCountMismatch(let expected, let found):
            "manifest has \(found) chunk hashes, its sizes need \(expected)"
        case .unexpectedChunkSize(let found, let expected):
            "chunk size \(found) is not this version's \(expected)"
        case .tooManyChunks(let found, let limit): "manifest has \(found) chunks, more than the \(limit) accepted"
        case .truncated: "manifest is truncated"
        case .doesNotMatchContentID(let expected, let computed):
            "manifest hashes to \(computed), not to the requested content id \(expected)"
        }
    }
}

enum BigEndian {
    static func bytes(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) } }
    static func bytes(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
    static func uint64(_ bytes: ArraySlice<UInt8>) -> UInt64 { bytes.reduce(0) { $0 << 8 | UInt64($1) } }
    static func uint32(_ bytes: ArraySlice<UInt8>) -> UInt32 { bytes.reduce(0) { $0 << 8 | UInt32($1) } }
}
