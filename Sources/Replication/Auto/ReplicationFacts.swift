import MediaIndex
import ReplicationPolicy
import WireVocabulary

/// What the replication policy is told, built from what the daemon knows: the home's demand, where each title is,
/// the cache, and the neighbours. Pure, so what a box decides can be checked from the facts alone.
struct ReplicationFacts: Sendable, Equatable {
    var titles: [TitleFacts]
    var cache: CacheFacts
    var home: HomeFacts

    /// What the daemon read for one pass.
    struct Inputs: Sendable {
        var thisBox: String
        /// Every title with demand here or at a neighbour.
        var demand: [ContentID: TitleDemand]
        /// Where the titles of ``demand`` and of the cache are.
        var placements: [ContentID: TitlePlacement]
        /// The neighbours answering now.
        var online: Set<String>
        /// Every neighbour known, with the share of time it was online lately.
        var availability: [String: Double]
        /// The objects being fetched or played, or read lately.
        var inUse: Set<ContentID>
        /// Bytes the cache's replicas take or will take once complete.
        var cacheUsed: Int64
        var quota: Int64
        var highWatermark: Double
        var lowWatermark: Double
        var dailyBudget: Int64
        var writtenToday: Int64
    }

    init(_ inputs: Inputs) {
        var titles: [TitleFacts] = []
        for (id, placement) in inputs.placements.sorted(by: { $0.key < $1.key }) {
            let demand = inputs.demand[id]
            let holders = placement.holders.filter(\.complete).map { holder in
                let isOnline = inputs.online.contains(holder.peerID)
                // A holder with no presence yet counts as it is now, as the ledger's own availability does: an
                // unknown holder that is away is taken as rarely online, so the copy here is kept.
                return HolderFacts(
                    box: holder.peerID, availability: inputs.availability[holder.peerID] ?? (isOnline ? 1 : 0),
                    isOnline: isOnline, isOriginal: false)
            }
            let here: LocalCopy
            if placement.isMediaFileHere {
                here = .original
            } else if let replica = placement.replica {
                here = replica.complete ? .replica : .partial(bytes: replica.size)
            } else {
                here = .none
            }
            titles.append(
                TitleFacts(
                    id: id.hex, size: placement.size, localDemand: demand?.local ?? 0,
                    homeDemand: demand?.home ?? 0, holders: holders, here: here,
                    pinned: placement.replica?.pinned ?? false, inUse: inputs.inUse.contains(id)))
        }
        self.titles = titles
        cache = CacheFacts(
            quota: inputs.quota, used: inputs.cacheUsed, highWatermarkShare: inputs.highWatermark,
            lowWatermarkShare: inputs.lowWatermark, writeBudgetLeft: max(0, inputs.dailyBudget - inputs.writtenToday))
        let others = Set(inputs.availability.keys).union(inputs.online).subtracting([inputs.thisBox])
        let boxes = others.sorted().map { HomeBox(id: $0, isOnline: inputs.online.contains($0)) }
        // The neighbours' quotas are not known here: the home's room is taken as this box's times the boxes.
        let (room, overflow) = inputs.quota.multipliedReportingOverflow(by: Int64(boxes.count + 1))
        home = HomeFacts(thisBox: inputs.thisBox, otherBoxes: boxes, cacheRoom: overflow ? .max : room)
    }
}
