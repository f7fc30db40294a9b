/// What one strategy achieved on one workload.
public struct SimulationMetrics: Sendable, Equatable {
    public var plays = 0
    public var localPlays = 0
    /// Plays that found no online box holding the title.
    public var failedPlays = 0
    /// Failed plays while a box that once held a replica of the title, and deleted it, was online: a copy that
    /// could have been kept online was not.
    public var avoidableFailedPlays = 0
    /// Everything sent between boxes: remote plays streamed and replicas copied.
    public var networkBytes: Int64 = 0
    public var replicationBytes: Int64 = 0
    public var replicasCreated = 0
    public var replicasEvicted = 0
    /// Replicas evicted less than a day after they were made: writes wasted on churn.
    public var churnedReplicas = 0
    /// Requests that would have put a box's replicas over its quota (refused, never executed).
    public var quotaViolations = 0
    /// The least any strategy moves to serve the plays this one served: each title's size once for every box, not its
    /// owner, that it served at least once (however the bytes got there: streamed or copied ahead).
    public var servedFloorBytes: Int64 = 0

    public init() {}

    public var localShare: Double { plays == 0 ? 0 : Double(localPlays) / Double(plays) }
}

/// The boxes' state during a run: which box holds which title, who is online, and the counters. Strategies change
/// it only through `replicate`, `storeStreamed` and `evict`, which enforce the rules every strategy shares (a copy
/// comes from an online holder, replicas never exceed the quota, originals are never deleted).
public struct Household: Sendable {
    public let workload: Workload
    public private(set) var metrics = SimulationMetrics()
    /// Seconds since the start of the run.
    public private(set) var now: Double = 0
    public private(set) var hour = 0
    /// Replica bytes held by each box.
    public private(set) var used: [Int64]
    /// The boxes holding a replica of each title (never the owner).
    public private(set) var replicaHolders: [[Int]]
    /// The titles each box holds as replicas.
    public private(set) var replicasOnBox: [Set<Int>]
    private var replicaMadeAt: [Int: Double] = [:]
    /// Boxes that deleted a replica of a title (title → boxes), for counting avoidable failures.
    private var formerHolders: [Int: Set<Int>] = [:]
    /// (title, box) pairs, as `title × boxes + box`, served at least once on a box that does not own the title.
    private var servedPairs: Set<Int> = []
    private var online: [Bool]

    public init(workload: Workload) {
        self.workload = workload
        used = Array(repeating: 0, count: workload.settings.boxes)
        replicaHolders = Array(repeating: [], count: workload.titles.count)
        replicasOnBox = Array(repeating: [], count: workload.settings.boxes)
        online = (0..<workload.settings.boxes).map { workload.isOnline(box: $0, hour: 0) }
    }

    public var boxes: Int { workload.settings.boxes }
    public var quota: Int64 { workload.quota }

    public func isOnline(_ box: Int) -> Bool { online[box] }

    public func hasArrived(_ title: Int) -> Bool {
        Double(workload.titles[title].arrivalHour) * Workload.secondsPerHour <= now
    }

    public func holds(_ box: Int, _ title: Int) -> Bool {
        workload.titles[title].owner == box || replicaHolders[title].contains(box)
    }

    public func holdsReplica(_ box: Int, _ title: Int) -> Bool {
        replicaHolders[title].contains(box)
    }

    /// Every box holding a whole copy: the owner (once the title arrived) first, then the replicas.
    public func holders(of title: Int) -> [Int] {
        hasArrived(title) ? [workload.titles[title].owner] + replicaHolders[title] : replicaHolders[title]
    }

    public func onlineHolder(of title: Int, except box: Int) -> Int? {
        holders(of: title).first { $0 != box && online[$0] }
    }

    public func freeRoom(_ box: Int) -> Int64 { quota - used[box] }

    /// Copies `title` to `box` from an online holder. False (nothing done) when `box` is offline or holds it, when no
    /// other holder is online, or when it does not fit (a quota violation: the strategy should have made room).
    @discardableResult
    public mutating func replicate(_ title: Int, to box: Int) -> Bool {
        guard online[box], hasArrived(title), !holds(box, title), onlineHolder(of: title, except: box) != nil
        else { return false }
        guard addReplica(title, on: box) else { return false }
        let size = workload.titles[title].size
        metrics.networkBytes += size
        metrics.replicationBytes += size
        return true
    }

    /// Keeps the copy a play on `box` just streamed (its bytes were counted with the play).
    @discardableResult
    public mutating func storeStreamed(_ title: Int, on box: Int) -> Bool {
        guard !holds(box, title) else { return false }
        return addReplica(title, on: box)
    }

    /// Deletes the replica of `title` on `box`; originals cannot be evicted.
    @discardableResult
    public mutating func evict(_ title: Int, from box: Int) -> Bool {
        guard let position = replicaHolders[title].firstIndex(of: box) else { return false }
        replicaHolders[title].remove(at: position)
        replicasOnBox[box].remove(title)
        used[box] -= workload.titles[title].size
        metrics.replicasEvicted += 1
        let key = title * boxes + box
        if let madeAt = replicaMadeAt.removeValue(forKey: key), now - madeAt < 24 * Workload.secondsPerHour {
            metrics.churnedReplicas += 1
        }
        formerHolders[title, default: []].insert(box)
        return true
    }

    private mutating func addReplica(_ title: Int, on box: Int) -> Bool {
        let size = workload.titles[title].size
        guard used[box] + size <= quota else {
            metrics.quotaViolations += 1
            return false
        }
        used[box] += size
        replicaHolders[title].append(box)
        replicasOnBox[box].insert(title)
        replicaMadeAt[title * boxes + box] = now
        metrics.replicasCreated += 1
        return true
    }

    mutating func advance(to time: Double) {
        now = time
        let newHour = min(Int(time / Workload.secondsPerHour), workload.hours - 1)
        guard newHour != hour else { return }
        hour = newHour
        for box in 0..<boxes { online[box] = workload.isOnline(box: box, hour: hour) }
    }

    /// Serves a play: from the box itself, streamed from an online holder, or not at all.
    mutating func serve(_ play: SimulatedPlay) -> PlayOutcome {
        metrics.plays += 1
        let served = holds(play.box, play.title) || onlineHolder(of: play.title, except: play.box) != nil
        if served, workload.titles[play.title].owner != play.box,
            servedPairs.insert(play.title * boxes + play.box).inserted
        {
            metrics.servedFloorBytes += workload.titles[play.title].size
        }
        if holds(play.box, play.title) {
            metrics.localPlays += 1
            return .local
        }
        if let source = onlineHolder(of: play.title, except: play.box) {
            metrics.networkBytes += workload.titles[play.title].size
            return .streamed(from: source)
        }
        metrics.failedPlays += 1
        if let former = formerHolders[play.title], former.contains(where: { online[$0] }) {
            metrics.avoidableFailedPlays += 1
        }
        return .failed
    }
}

/// How a play was served.
public enum PlayOutcome: Sendable, Equatable {
    case local
    case streamed(from: Int)
    case failed
}
