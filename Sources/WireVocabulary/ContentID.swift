/// The identity of a piece of content, independent of its name or location.
///
/// A content id is the SHA-256 of a file's `ChunkManifest` (module `ContentID`: its size, its chunk size and the
/// SHA-256 of every chunk). Two boxes holding the same bytes compute the same id; a peer cannot hand out a fake
/// chunk list for an id, because the list must hash back to the id; and once a manifest is verified, each chunk can
/// be verified on its own as it arrives.
///
/// Its text form is 64 lowercase hex digits.
public struct ContentID: Hashable, Sendable, Comparable {
    /// The length of a SHA-256 digest. Spelled out, not taken from Crypto, so the wire types need no hashing library.
    static let byteCount = 32

    /// The 32 bytes of the SHA-256 digest.
    public let bytes: [UInt8]

    /// Creates a content id from its 32 raw bytes.
    ///
    /// - returns: nil unless `bytes` has exactly 32 elements.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = Array(bytes)
    }

    /// Parses the 64-hex-digit text form (either case). Anything else, including path-like or over-long input,
    /// returns nil, so a content id taken from the network can never name anything but content.
    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == Self.byteCount * 2 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(Self.byteCount)
        var index = 0
        while index < utf8.count {
            guard let high = Self.nibble(utf8[index]), let low = Self.nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        self.bytes = out
    }

    /// The 64 lowercase hex digits.
    public var hex: String { Hex.encode(bytes) }

    public static func < (lhs: ContentID, rhs: ContentID) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension ContentID: CustomStringConvertible {
    public var description: String { hex }
}

extension ContentID: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = ContentID(hex: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a 64-hex-digit content id")
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: some Collection<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
