/// Bounds on what a fetch takes from other boxes (issue 12): what a manifest may describe and how much memory the
/// chunks in transit may hold.
extension PeerLimits {
    /// The most chunks a manifest from a peer may have: 256 GiB in 1 MiB chunks, far beyond any media file, and a
    /// manifest of 8 MiB at most (a peer cannot make this box read, hold or store more for one object).
    public static let maxChunkCount = 262_144
    /// The bytes every fetch of the daemon together may hold in chunk buffers (received, not yet written): 64
    /// pieces of 1 MiB. A request waits for room before it takes more, so holders that stall mid-chunk cannot make
    /// the daemon hold more than this, however many there are.
    public static let fetchBufferBudget = 64 << 20
}
