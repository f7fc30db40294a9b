import Crypto
import WireVocabulary

/// Verifies chunks received from untrusted peers against a manifest that was itself verified against the
/// content id being fetched.
public struct ChunkVerifier: Sendable {
    public let manifest: ChunkManifest

    /// Accepts a manifest from the network only if it hashes to `expected`.
    public init(manifest: ChunkManifest, expected: ContentID) throws(ManifestError) {
        let computed = manifest.contentID
        guard computed == expected else { throw .doesNotMatchContentID(expected: expected, computed: computed) }
        self.manifest = manifest
    }

    /// True when `bytes` are exactly chunk `index`: the right length and the right SHA-256.
    public func verify(chunk index: Int, bytes: UnsafeRawBufferPointer) -> Bool {
        guard index >= 0, index < manifest.chunkCount else { return false }
        let range = manifest.byteRange(ofChunk: index)
        guard Int64(bytes.count) == range.upperBound - range.lowerBound else { return false }
        return SHA256.hash(data: bytes).elementsEqual(manifest.hash(ofChunk: index))
    }

    public func verify(chunk index: Int, bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { verify(chunk: index, bytes: $0) }
    }
}

extension ChunkManifest {
    /// The wire and disk form: `MPM1`, u64 file size, u32 chunk size, then the chunk hashes (all big-endian).
    public func serialized() -> [UInt8] {
        Self.magic + BigEndian.bytes(UInt64(fileSize)) + BigEndian.bytes(UInt32(chunkSize)) + packedChunkHashes
    }

    /// Parses ``serialized()`` output, rejecting anything malformed.
    public init(serialized bytes: [UInt8]) throws(ManifestError) {
        let header = Self.headerSize
        guard bytes.count >= header, bytes.starts(with: Self.magic) else { throw .truncated }
        let size = BigEndian.uint64(bytes[4..<12])
        let chunk = BigEndian.uint32(bytes[12..<16])
        guard size <= UInt64(Int64.max) else { throw .invalidFileSize(-1) }
        guard let chunkSize = Int(exactly: chunk) else { throw .invalidChunkSize(-1) }
        try self.init(fileSize: Int64(size), chunkSize: chunkSize, packedChunkHashes: Array(bytes[header...]))
    }

    /// Parses a manifest received from a peer: accepted only with chunk size `chunkSize` and at most
    /// `maxChunkCount` chunks, both checked from the header before the hashes are copied.
    ///
    /// Both bounds are what a peer could otherwise choose: huge chunks make every chunk in transit huge, tiny ones
    /// make the manifest huge (and with it every have-map and every question about the object).
    public init(serialized bytes: [UInt8], chunkSize: Int, maxChunkCount: Int) throws(ManifestError) {
        guard bytes.count >= Self.headerSize, bytes.starts(with: Self.magic) else { throw .truncated }
        let size = BigEndian.uint64(bytes[4..<12])
        let chunk = BigEndian.uint32(bytes[12..<16])
        guard Int(exactly: chunk) == chunkSize else {
            throw .unexpectedChunkSize(found: Int(clamping: chunk), expected: chunkSize)
        }
        // Division rather than multiplication: no overflow on a made-up size.
        let chunks = size / UInt64(chunkSize) + (size % UInt64(chunkSize) == 0 ? 0 : 1)
        guard chunks <= UInt64(maxChunkCount) else {
            throw .tooManyChunks(found: Int(clamping: chunks), limit: maxChunkCount)
        }
        try self.init(serialized: bytes)
    }

    /// The length of the serialized form of a manifest of `chunkCount` chunks.
    public static func serializedSize(chunkCount: Int) -> Int { headerSize + chunkCount * SHA256.byteCount }

    static let magic = Array("MPM1".utf8)
    static let headerSize = magic.count + 12
}
