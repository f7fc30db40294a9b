/// `POST /v1/goodbye`: sent by a box to the peers it knows when it stops. mDNS goodbyes alone take a second to
/// act on (RFC 6762 §10.1 has receivers keep the record one more second); this takes a round trip.
public struct Goodbye: Sendable, Codable, Equatable {
    public var id: String
    public init(id: String) { self.id = id }
}
