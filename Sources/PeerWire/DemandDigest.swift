import WireVocabulary

/// `GET /v1/demand`: the titles most in demand on a box, so that every box can add the home's demand up.
///
/// Each entry is the box's own decayed demand for a title (plays and fetches asked for on that box, not the requests
/// it served to other boxes, which those boxes count as their own plays) at the entry's instant; a reader decays it
/// to its own now with its own half-life. At most ``PeerLimits/maxDemandDigestEntries`` entries, highest first.
public struct DemandDigest: Sendable, Codable, Equatable {
    /// Changes whenever the box's figures were written (``PeerInfo/demandGeneration``).
    public var generation: Int64
    public var entries: [DemandDigestEntry]

    public init(generation: Int64, entries: [DemandDigestEntry]) {
        self.generation = generation
        self.entries = entries
    }
}

/// One title's decayed demand on the box that sends the digest.
public struct DemandDigestEntry: Sendable, Codable, Equatable {
    public var id: ContentID
    /// The decayed count at ``at``.
    public var value: Double
    /// Unix time in seconds when ``value`` was the count.
    public var at: Double

    public init(id: ContentID, value: Double, at: Double) {
        self.id = id
        self.value = value
        self.at = at
    }
}

/// Bounds on a neighbour's demand digest.
extension PeerLimits {
    /// The most titles one digest lists: the head of a home's demand, which is what replication acts on.
    public static let maxDemandDigestEntries = 512
    /// The most bytes of a digest a box reads (an entry is about 130 bytes of JSON).
    public static let maxDemandDigestBytes = 256 << 10
    /// The largest count believed: a title played every minute for a half-life of 30 days is far below it.
    public static let maxDemandValue = 1_000_000.0
    /// How long after a failed pull a neighbour's digest is not asked for again.
    public static let demandRetryDelay: Duration = .seconds(60)
}
