import ContentID
import Crypto
import WireVocabulary

/// An object the hostile peer offers without holding a file: its bytes are a 1 MiB pattern repeated, so any range
/// is computed on the fly, and its manifest uses whatever chunk size the mode wants (64 MiB or 1 byte), hashed for
/// real so that it verifies against its content id as the victim requires.
struct SyntheticObject: Sendable {
    let manifest: ChunkManifest
    /// The serialized manifest, as `GET /v1/objects/ID/manifest` answers it.
    let serialized: [UInt8]
    private let pattern: [UInt8]

    var id: ContentID { manifest.contentID }
    var size: Int64 { manifest.fileSize }

    /// - Parameters:
    ///   - chunkSize: bytes per chunk; a multiple of the 1 MiB pattern, or 1 (one hash per distinct byte value).
    ///   - seed: varies the pattern, so two modes never offer the same id by accident.
    init(size: Int64, chunkSize: Int, seed: UInt8) throws {
        let pattern = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
        var hashes: [UInt8] = []
        let chunkCount = Int((size + Int64(chunkSize) - 1) / Int64(chunkSize))
        hashes.reserveCapacity(chunkCount * SHA256.byteCount)
        if chunkSize == 1 {
            let byByte = (0...255).map { Array(SHA256.hash(data: [UInt8($0)])) }
            for index in 0..<chunkCount { hashes += byByte[Int(pattern[index % pattern.count])] }
        } else {
            precondition(chunkSize % pattern.count == 0, "chunk sizes above 1 byte must be whole patterns")
            for index in 0..<chunkCount {
                let start = Int64(index) * Int64(chunkSize)
                let length = Int(min(Int64(chunkSize), size - start))
                var hasher = SHA256()
                var remaining = length
                while remaining > 0 {
                    let piece = min(remaining, pattern.count)
                    hasher.update(data: pattern[0..<piece])
                    remaining -= piece
                }
                hashes += Array(hasher.finalize())
            }
        }
        let manifest = try ChunkManifest(fileSize: size, chunkSize: chunkSize, packedChunkHashes: hashes)
        self.manifest = manifest
        serialized = manifest.serialized()
        self.pattern = pattern
    }

    /// The bytes `range` of the object.
    func bytes(_ range: Range<Int64>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Int(range.count))
        var offset = range.lowerBound
        while offset < range.upperBound {
            let inPattern = Int(offset % Int64(pattern.count))
            let length = Int(min(Int64(pattern.count - inPattern), range.upperBound - offset))
            out += pattern[inPattern..<(inPattern + length)]
            offset += Int64(length)
        }
        return out
    }
}
