import WireVocabulary

/// A title in demand, for `mediapeerctl popular`: this box's decayed counts and the home's.
public struct PopularTitle: Sendable, Codable, Equatable {
    public var id: ContentID
    /// The title as the home knows it; the content id when nobody here knows the title any more.
    public var title: String
    public var kind: MediaKind?
    /// Plays started on this box, decayed.
    public var plays: Double
    /// Fetches asked for by hand on this box, decayed.
    public var fetches: Double
    /// Requests for its bytes this box served to other boxes, decayed (once per box per hour).
    public var served: Double
    /// The home's demand: this box's plays and fetches plus every neighbour's latest figures.
    public var homeDemand: Double
    /// Whether this box holds it whole.
    public var heldHere: Bool
    /// The friendly names (else peer ids) of the neighbours whose catalogs list it complete.
    public var holders: [String]

    public init(
        id: ContentID, title: String, kind: MediaKind?, plays: Double, fetches: Double, served: Double,
        homeDemand: Double, heldHere: Bool, holders: [String]
    ) {
        self.id = id
        self.title = title
        self.kind = kind
        self.plays = plays
        self.fetches = fetches
        self.served = served
        self.homeDemand = homeDemand
        self.heldHere = heldHere
        self.holders = holders
    }
}

/// `GET /v1/popular`: titles by home demand, highest first.
public struct PopularList: Sendable, Codable, Equatable {
    public var titles: [PopularTitle]
    /// How many titles have demand, listed or not.
    public var total: Int
    /// The half-life the figures decay with, in seconds.
    public var halfLifeSeconds: Int64

    public init(titles: [PopularTitle], total: Int, halfLifeSeconds: Int64) {
        self.titles = titles
        self.total = total
        self.halfLifeSeconds = halfLifeSeconds
    }
}
