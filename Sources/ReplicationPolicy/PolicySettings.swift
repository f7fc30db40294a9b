/// The policy's knobs, with defaults for a home of a few boxes and demand counted in plays with a half-life of days.
public struct PolicySettings: Sendable, Hashable {
    /// How much more a play on this box counts here than a play elsewhere in the home: a copy here saves the network
    /// a whole title for every local play, but only shares the serving of the others' plays with the other holders.
    public var localWeight: Double
    /// The home demand below which a title is not worth a replica at all (its target is a single copy).
    public var minimumDemand: Double
    /// The local demand at which this box fetches a title ahead of its next play, when the home holds fewer copies
    /// than its target: a copy fetched ahead costs the network as much as the play it saves, so it is only worth it
    /// for a title watched here again and again. (A title being played here is kept from the minimum demand on: the
    /// play brought it already.)
    public var fetchAheadDemand: Double
    /// How many times more a title's value per byte must be than that of a replica it would displace (hysteresis):
    /// a replica is not evicted for one only marginally better, which would be churn.
    public var displacementMargin: Double
    /// Holders online less than this share of the time are "rarely online": a title held only by such boxes gets a
    /// copy on a box that is online more, whatever its target.
    public var rarelyOnlineAvailability: Double
    /// An offline holder online less than this share of the time lately is taken as gone: a replica here whose other
    /// holders are all gone is the last copy in the home and is never evicted.
    public var goneAvailability: Double

    public init(
        localWeight: Double = 4, minimumDemand: Double = 0.5, fetchAheadDemand: Double = 2,
        displacementMargin: Double = 1.5, rarelyOnlineAvailability: Double = 0.3, goneAvailability: Double = 0.05
    ) {
        self.localWeight = localWeight
        self.minimumDemand = minimumDemand
        self.fetchAheadDemand = fetchAheadDemand
        self.displacementMargin = displacementMargin
        self.rarelyOnlineAvailability = rarelyOnlineAvailability
        self.goneAvailability = goneAvailability
    }

    /// The defaults.
    public static let standard = PolicySettings()
}
