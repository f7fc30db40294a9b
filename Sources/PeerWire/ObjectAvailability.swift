import Foundation
import WireVocabulary

/// `GET /v1/have/ID`: which chunks of an object a box holds.
public struct HaveMap: Sendable, Codable, Equatable {
    public var id: ContentID
    public var chunkCount: Int
    /// True when the box holds every chunk (a media file or a complete replica).
    public var complete: Bool
    /// The ``ChunkBitmap`` bytes in base64: bit i, most significant bit first, is chunk i.
    public var bitmap: String

    public init(id: ContentID, have: ChunkBitmap) {
        self.id = id
        chunkCount = have.chunkCount
        complete = have.isComplete
        bitmap = Data(have.bytes).base64EncodedString()
    }

    /// The bitmap, or nil when it is malformed or does not fit `chunkCount` (a peer's answer is never trusted).
    public var chunks: ChunkBitmap? {
        guard let bytes = Data(base64Encoded: bitmap) else { return nil }
        return ChunkBitmap(chunkCount: chunkCount, bytes: [UInt8](bytes))
    }
}

/// A box that holds an object, as `GET /v1/locate/ID` refers to it.
public struct Holder: Sendable, Codable, Equatable, Hashable {
    public var peerID: String
    public var name: String
    /// Where to reach its peer API: IPv4 first.
    public var addresses: [String]
    public var port: Int
    /// False for a partial holder (ask it `/v1/have/ID`).
    public var complete: Bool
    /// The peer id of the box that referred to this holder; nil when the holder answered for itself.
    public var referredBy: String?

    public init(peerID: String, name: String, addresses: [String], port: Int, complete: Bool, referredBy: String? = nil)
    {
        self.peerID = peerID
        self.name = name
        self.addresses = addresses
        self.port = port
        self.complete = complete
        self.referredBy = referredBy
    }
}

/// The answer of `GET /v1/locate/ID?ttl=N&qid=Q`: referrals, never data.
public struct LocateAnswer: Sendable, Codable, Equatable {
    public var id: ContentID
    public var queryID: String
    public var holders: [Holder]

    public init(id: ContentID, queryID: String, holders: [Holder]) {
        self.id = id
        self.queryID = queryID
        self.holders = holders
    }
}

/// Bounds on what peers may ask, shared by server and client.
public enum PeerLimits {
    /// The most hops a locate query may travel.
    public static let maxLocateTTL = 4
    /// Query ids are 1 to 64 characters of `[A-Za-z0-9_-]`.
    public static func isValidQueryID(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2D || byte == 0x5F
            }
    }
    /// Catalog entries per page.
    public static let catalogPageSize = 1000
}
