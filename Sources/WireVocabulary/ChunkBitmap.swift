/// Which chunks of an object a box holds: bit `i` (most significant bit of each byte first, as BitTorrent's
/// bitfield) is set when chunk `i` is verified and durable. A 4 GiB film at 1 MiB chunks needs 512 bytes.
public struct ChunkBitmap: Sendable, Equatable, Hashable {
    /// The number of chunks the bitmap covers.
    public let chunkCount: Int
    /// `(chunkCount + 7) / 8` bytes; the unused low bits of the last byte are zero.
    public private(set) var bytes: [UInt8]

    /// An empty bitmap (no chunk held), or a full one.
    public init(chunkCount: Int, full: Bool = false) {
        precondition(chunkCount >= 0, "negative chunk count")
        self.chunkCount = chunkCount
        bytes = [UInt8](repeating: 0, count: (chunkCount + 7) / 8)
        if full { for index in 0..<chunkCount { insert(index) } }
    }

    /// Parses a bitmap from the network or the database. Nil when the length is wrong or a padding bit is set, so
    /// a malformed bitmap is never mistaken for a claim to hold chunks that do not exist.
    public init?(chunkCount: Int, bytes: [UInt8]) {
        // Checked before any arithmetic: a peer's count may be anything, and `chunkCount + 7` must not overflow.
        guard chunkCount >= 0, chunkCount <= Int.max - 7, bytes.count == (chunkCount + 7) / 8 else { return nil }
        if chunkCount % 8 != 0, let last = bytes.last, last & (0xFF >> UInt8(chunkCount % 8)) != 0 { return nil }
        self.chunkCount = chunkCount
        self.bytes = bytes
    }

    public func contains(_ index: Int) -> Bool {
        guard index >= 0, index < chunkCount else { return false }
        return bytes[index >> 3] & (0x80 >> UInt8(index & 7)) != 0
    }

    public mutating func insert(_ index: Int) {
        precondition(index >= 0 && index < chunkCount, "chunk index out of range")
        bytes[index >> 3] |= 0x80 >> UInt8(index & 7)
    }

    /// The number of chunks held.
    public var count: Int { bytes.reduce(0) { $0 + $1.nonzeroBitCount } }

    public var isComplete: Bool { count == chunkCount }

    /// True when every chunk in `range` is held.
    public func containsAll(_ range: Range<Int>) -> Bool { range.allSatisfy(contains) }
}
