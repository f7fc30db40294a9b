import ReplicationPolicy

/// Ours: `ReplicationPolicy` run the way the daemon runs it, on each box from that box's view. Each box counts its
/// plays as decayed counts; its home demand is the sum of what the online boxes report; each holder's availability
/// is the share of the last week it was seen online. A box runs the policy after a play it could not serve itself, at
/// a slow interval, and when it comes back online, and does what the policy says: a replication copies the title from
/// an online holder (network bytes), an eviction deletes it.
///
/// A title a play just streamed here is in this box's cache already (the daemon's `Fetcher.play` fetches while it
/// plays): when the policy, asked right after, wants it here, the box keeps that copy instead of copying it again;
/// otherwise the copy is dropped, as a play that was only streamed.
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
        case .streamed: run(on: play.box, justStreamed: play.title, in: &household)
        case .failed: run(on: play.box, justStreamed: nil, in: &household)
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
                run(on: box, justStreamed: nil, in: &household)
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
    private func facts(for box: Int, in household: Household) -> [TitleFacts] {
        let now = household.now
        let halfLife = settings.halfLife
        var candidates = household.replicasOnBox[box]
        for title in totalDemand.keys { candidates.insert(title) }
        return candidates.sorted().compactMap { title -> TitleFacts? in
            guard household.hasArrived(title) else { return nil }
            let home =
                (totalDemand[title]?.value(at: now, halfLife: halfLife) ?? 0)
                - (offlineDemand[title]?.value(at: now, halfLife: halfLife) ?? 0)
            let local = localDemand[box][title]?.value(at: now, halfLife: halfLife) ?? 0
            let owner = household.workload.titles[title].owner
            let holders = household.holders(of: title).filter { $0 != box }.map { holder in
                HolderFacts(
                    box: boxIDs[holder], availability: availability[holder], isOnline: household.isOnline(holder),
                    isOriginal: holder == owner)
            }
            let here: LocalCopy = owner == box ? .original : household.holdsReplica(box, title) ? .replica : .none
            let inUse = lastPlayed[box][title].map { now - $0 < settings.inUseSeconds } ?? false
            return TitleFacts(
                id: titleIDs[title], size: household.workload.titles[title].size, localDemand: local,
                homeDemand: max(home, local), holders: holders, here: here, inUse: inUse)
        }
    }

    private mutating func run(on box: Int, justStreamed: Int?, in household: inout Household) {
        runs += 1
        let cache = CacheFacts(
            quota: household.quota, used: household.used[box], highWatermarkShare: settings.highWatermark,
            lowWatermarkShare: settings.lowWatermark,
            writeBudgetLeft: max(0, settings.dailyWriteBudget - writtenToday[box]))
        let home = HomeFacts(
            thisBox: boxIDs[box], otherBoxes: homeBoxes.filter { $0.id != boxIDs[box] },
            cacheRoom: Int64(household.boxes) * household.quota)
        let decision = policy.decide(titles: facts(for: box, in: household), cache: cache, home: home)
        for action in decision.actions {
            guard let title = titleByID[action.id] else { continue }
            switch action {
            case .evict:
                household.evict(title, from: box)
            case .replicate:
                let kept =
                    title == justStreamed
                    ? household.storeStreamed(title, on: box) : household.replicate(title, to: box)
                if kept { writtenToday[box] += household.workload.titles[title].size }
            }
        }
    }
}
