/// The policy's knobs, with defaults for a home of a few boxes and demand counted in plays with a half-life of days.
public struct PolicySettings: Sendable, Hashable {
    /// How much more a play on this box counts here than a play elsewhere in the home: a copy here saves the network
    /// a whole title for every local play, but only shares the serving of the others' plays with the other holders.
    public var localWeight: Double
    /// The home demand below which a title is not worth a replica at all (its target is a single copy).
    public var minimumDemand: Double
    /// What a play served here rather than from a neighbour is worth, in network bytes, when deciding to fetch a
    /// title ahead of its next play here. A copy fetched ahead costs nothing more when the play comes (that play
    /// would have moved the title anyway) and the whole title when it does not: so a title is fetched ahead when
    /// `(1 − p) · size ≤ p · fetchAheadPlayBytes`, `p` the chance it is played here soon. Small titles the box will
    /// likely play (a song the home plays a lot) come ahead; a film only when its next play here is near certain.
    /// (A title being played here is kept from the minimum demand on: the play brought it already.)
    public var fetchAheadPlayBytes: Double
    /// How many times more a title's value per byte must be than that of a replica it would displace (hysteresis):
    /// a replica is not evicted for one only marginally better, which would be churn.
    public var displacementMargin: Double
    /// Holders online less than this share of the time are "rarely online": a title held only by such boxes gets a
    /// copy on a box that is online more, whatever its target, and a replica of it here is not evicted while the title
    /// is wanted (its home demand at least ``minimumDemand``).
    public var rarelyOnlineAvailability: Double
    /// An offline holder online less than this share of the time lately is taken as gone: a replica here whose other
    /// holders are all gone is the last copy in the home and is never evicted.
    public var goneAvailability: Double
    /// How many plays' worth a play that fails is: a copy here is worth this many times the plays elsewhere it would
    /// save from failing (every other holder away), as a failed play costs the user far more than a play streamed
    /// from a neighbour costs the network.
    public var failureWeight: Double

    public init(
        localWeight: Double = 4, minimumDemand: Double = 0.5, fetchAheadPlayBytes: Double = 10_000_000,
        displacementMargin: Double = 1.5, rarelyOnlineAvailability: Double = 0.3, goneAvailability: Double = 0.05,
        failureWeight: Double = 10
    ) {
        self.failureWeight = failureWeight
        self.localWeight = localWeight
        self.minimumDemand = minimumDemand
        self.fetchAheadPlayBytes = fetchAheadPlayBytes
        self.displacementMargin = displacementMargin
        self.rarelyOnlineAvailability = rarelyOnlineAvailability
        self.goneAvailability = goneAvailability
    }

    /// The defaults.
    public static let standard = PolicySettings()
}
