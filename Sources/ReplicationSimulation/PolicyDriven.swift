import ReplicationPolicy

/// Ours: `ReplicationPolicy` run the way the daemon runs it, on each box from that box's view. Each box counts its
/// plays as decayed counts; its home demand is the sum of what the online boxes report; each holder's availability
/// is the share of the last week it was seen online. A box runs the policy after a play it could not serve itself, at
/// a slow interval, and when it comes back online, and does what the policy says: a replication copies the title from
/// an online holder (network bytes), an eviction deletes it.
///
/// A play of a title held elsewhere fetches it into this box's cache while it plays (the daemon's `Fetcher.play`): the
/// policy then runs with that title as a partial fetch in use (its bytes counted in the cache), evicting from the high
/// watermark down to the low one if the fetch pushes the cache over it, and the copy stays when it then fits in the
/// quota (else it was only streamed, as a full cache's `CacheSpace` would refuse it).
public struct PolicyDriven: ReplicationStrategy {
    /// How the boxes run the policy; every figure is printed with the tables.
    public struct Settings: Sendable {
        public var policy = PolicySettings.standard
        public var halfLife = Duration.seconds(7 * 24 * 3600)
        public var highWatermark = 0.90
        public var lowWatermark = 0.80
        /// Bytes replication may write on a box per day (the daemon's `replication_daily_budget`).
        public var dailyWriteBudget: Int64 = 20_000_000_000
        /// The slow interval: every box also runs the policy every this many hours.
        public var intervalHours = 6
        /// Availability is the share of hours online over this window (or since the start, when shorter).
        public var availabilityWindowHours = 7 * 24
        /// A box hands the policy at most this many titles the home wants (the most wanted), besides those it holds or
        /// watches: bounded work per run on a weak CPU, as the daemon's bounded demand digests are.
        public var mostWantedTitles = 1024
        /// A title played on a box this recently is in use there (a film's length).
        public var inUseSeconds = 2 * 3600.0

        public init() {}
    }

    public let name = "ours, ReplicationPolicy"
    public let settings: Settings
    private let policy: ReplicationPolicy
    private var started = false
    private var titleIDs: [String] = []
    private var boxIDs: [String] = []
    private var titleByID: [String: Int] = [:]
    /// Each box's own plays, by title.
    private var localDemand: [[Int: DecayedCount]] = []
    /// Every box's plays together, by title; minus `offlineDemand`, it is what the online boxes report.
    private var totalDemand: [Int: DecayedCount] = [:]
    private var offlineDemand: [Int: DecayedCount] = [:]
    private var availability: [Double] = []
    private var wasOnline: [Bool] = []
    private var writtenToday: [Int64] = []
    private var lastPlayed: [[Int: Double]] = []
    /// Each box as its neighbours see it this hour.
    private var homeBoxes: [HomeBox] = []
    /// Policy runs, for the table's footnote.
    public private(set) var runs = 0
    /// Actions carried out, by kind of reason ("replicate: under target", …), for the table's footnote.
    public private(set) var actionsByReason: [String: Int] = [:]

    /// Runs and actions by reason, one line.
    public var footnote: String {
        let actions = actionsByReason.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        return "\(runs) policy runs; actions done: " + (actions.isEmpty ? "none" : actions.joined(separator: ", "))
    }

    public init(settings: Settings = Settings()) {
        self.settings = settings
        policy = ReplicationPolicy(settings: settings.policy)
    }

    public mutating func played(_ play: SimulatedPlay, outcome: PlayOutcome, in household: inout Household) {
        let halfLife = settings.halfLife
        localDemand[play.box][play.title] = localDemand[play.box][play.title, default: .zero]
            .adding(1, at: play.time, halfLife: halfLife)
        totalDemand[play.title] = totalDemand[play.title, default: .zero].adding(1, at: play.time, halfLife: halfLife)
        lastPlayed[play.box][play.title] = play.time
        switch outcome {
        case .local: break
        case .streamed: run(on: play.box, playing: play.title, in: &household)
        case .failed: run(on: play.box, playing: nil, in: &household)
        }
    }

    public mutating func hourStarted(in household: inout Household) {
        if !started { start(household) }
        let hour = household.hour
        if hour % 24 == 0 { writtenToday = Array(repeating: 0, count: household.boxes) }
        measureAvailability(household)
        homeBoxes = (0..<household.boxes).map { HomeBox(id: boxIDs[$0], isOnline: household.isOnline($0)) }
        offlineDemand = [:]
        for box in 0..<household.boxes where !household.isOnline(box) {
            for (title, count) in localDemand[box] {
                offlineDemand[title] = offlineDemand[title, default: .zero].adding(count, halfLife: settings.halfLife)
            }
        }
        for box in 0..<household.boxes where household.isOnline(box) {
            let cameBack = !wasOnline[box]
            if cameBack || (hour + box) % settings.intervalHours == 0 {
                run(on: box, playing: nil, in: &household)
            }
        }
        wasOnline = (0..<household.boxes).map { household.isOnline($0) }
    }

    private mutating func start(_ household: Household) {
        started = true
        let boxes = household.boxes
        titleIDs = household.workload.titles.map { "title-\($0.index)" }
        titleByID = Dictionary(uniqueKeysWithValues: titleIDs.enumerated().map { ($1, $0) })
        boxIDs = (0..<boxes).map { "box-\($0)" }
        localDemand = Array(repeating: [:], count: boxes)
        lastPlayed = Array(repeating: [:], count: boxes)
        writtenToday = Array(repeating: 0, count: boxes)
        wasOnline = Array(repeating: false, count: boxes)
    }

    private mutating func measureAvailability(_ household: Household) {
        let window = max(1, min(settings.availabilityWindowHours, household.hour + 1))
        let first = household.hour + 1 - window
        availability = (0..<household.boxes).map { box in
            let onlineHours = (first...household.hour).filter { household.workload.isOnline(box: box, hour: $0) }
            return Double(onlineHours.count) / Double(window)
        }
    }

    /// The facts box `box` has about every title the home wants or it holds, as the daemon would gather them.
    private func facts(for box: Int, playing: Int?, in household: Household) -> [TitleFacts] {
        let now = household.now
        let halfLife = settings.halfLife
        let held = household.replicasOnBox[box]
        var candidates: [(title: Int, home: Double, local: Double)] = []
        for (title, total) in totalDemand where household.hasArrived(title) {
            let home =
                total.value(at: now, halfLife: halfLife)
                - (offlineDemand[title]?.value(at: now, halfLife: halfLife) ?? 0)
            let local = localDemand[box][title]?.value(at: now, halfLife: halfLife) ?? 0
            // A title the home wants less than the policy's minimum and not in this cache gets no action and changes
            // no target: leaving it out gives the same decision, much faster in a building of 100 boxes.
            if held.contains(title) || max(home, local) >= settings.policy.minimumDemand {
                candidates.append((title, max(home, local), local))
            }
        }
        if candidates.count > settings.mostWantedTitles {
            candidates.sort { ($0.home, $1.title) > ($1.home, $0.title) }
            let cutoff = candidates[settings.mostWantedTitles - 1].home
            candidates.removeAll { $0.home < cutoff && !held.contains($0.title) && $0.local == 0 }
        }
        for title in held where totalDemand[title] == nil { candidates.append((title, 0, 0)) }
        if let playing, !candidates.contains(where: { $0.title == playing }) { candidates.append((playing, 0, 0)) }
        candidates.sort { $0.title < $1.title }
        return candidates.map { title, home, local in
            let owner = household.workload.titles[title].owner
            let holders = household.holders(of: title).filter { $0 != box }.map { holder in
                HolderFacts(
                    box: boxIDs[holder], availability: availability[holder], isOnline: household.isOnline(holder),
                    isOriginal: holder == owner)
            }
            let size = household.workload.titles[title].size
            let here: LocalCopy =
                owner == box
                ? .original
                : household.holdsReplica(box, title) ? .replica : title == playing ? .partial(bytes: size) : .none
            // In use: the title a play is fetching now, or a copy here played lately (a film is still playing).
            let playedLately = lastPlayed[box][title].map { now - $0 < settings.inUseSeconds } ?? false
            let inUse = title == playing || (here != .none && playedLately)
            return TitleFacts(
                id: titleIDs[title], size: household.workload.titles[title].size, localDemand: local,
                homeDemand: home, holders: holders, here: here, inUse: inUse)
        }
    }

    private mutating func run(on box: Int, playing: Int?, in household: inout Household) {
        runs += 1
        let fetching = playing.map { household.workload.titles[$0].size } ?? 0
        let cache = CacheFacts(
            quota: household.quota, used: household.used[box] + fetching, highWatermarkShare: settings.highWatermark,
            lowWatermarkShare: settings.lowWatermark,
            writeBudgetLeft: max(0, settings.dailyWriteBudget - writtenToday[box]))
        let home = HomeFacts(
            thisBox: boxIDs[box], otherBoxes: homeBoxes.filter { $0.id != boxIDs[box] },
            cacheRoom: Int64(household.boxes) * household.quota)
        let decision = policy.decide(titles: facts(for: box, playing: playing, in: household), cache: cache, home: home)
        for action in decision.actions {
            guard let title = titleByID[action.id] else { continue }
            switch action {
            case .evict(_, let reason):
                if household.evict(title, from: box) {
                    actionsByReason["evict: " + Self.kind(of: reason), default: 0] += 1
                }
            case .replicate(_, let reason):
                guard title != playing, household.replicate(title, to: box) else { continue }
                writtenToday[box] += household.workload.titles[title].size
                actionsByReason["replicate: " + Self.kind(of: reason), default: 0] += 1
            }
        }
        if let playing, household.freeRoom(box) >= fetching, household.storeStreamed(playing, on: box) {
            writtenToday[box] += fetching
            actionsByReason["kept from a play", default: 0] += 1
        }
    }

    private static func kind(of reason: ReplicateReason) -> String {
        switch reason {
        case .pinned: "pinned"
        case .underTarget: "under target"
        case .playedHere: "played here"
        case .holdersRarelyOnline: "holders rarely online"
        }
    }

    private static func kind(of reason: EvictReason) -> String {
        switch reason {
        case .aboveHighWatermark: "above high watermark"
        case .displacedBy: "displaced"
        }
    }
}
