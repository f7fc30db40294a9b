/// Cohen and Shenker's square-root replication (SIGCOMM 2002) with perfect knowledge: every day it learns each box's
/// true expected plays of each title (the distributions the workload draws from), gives each title copies in
/// proportion to the square root of its home-wide demand, scaled to fill the home's cache room, and puts the
/// replicas on the boxes that want the title most. Remote plays are streamed, never kept.
public struct SquareRootOracle: ReplicationStrategy {
    public let name = "oracle, square-root"
    /// The replicas the current plan wants: title → boxes.
    private var plan: [Int: Set<Int>] = [:]

    public init() {}

    public mutating func played(_ play: SimulatedPlay, outcome: PlayOutcome, in household: inout Household) {}

    public mutating func hourStarted(in household: inout Household) {
        if household.hour % 24 == 0 { plan = Self.plan(household, day: household.hour / 24) }
        execute(in: &household)
    }

    /// Deletes what the plan no longer wants and copies what it wants, on the boxes that are on (a box that is off
    /// does both when it comes back).
    private func execute(in household: inout Household) {
        for title in 0..<household.replicaHolders.count {
            for box in household.replicaHolders[title]
            where household.isOnline(box) && plan[title]?.contains(box) != true {
                household.evict(title, from: box)
            }
        }
        for title in plan.keys.sorted() {
            for box in plan[title, default: []].sorted() where household.isOnline(box) {
                if !household.holds(box, title) && household.freeRoom(box) >= household.workload.titles[title].size {
                    household.replicate(title, to: box)
                }
            }
        }
    }

    static func plan(_ household: Household, day: Int) -> [Int: Set<Int>] {
        let workload = household.workload
        let perBox = workload.expectedPlays(onDay: day)
        let titles = workload.titles
        let demand = titles.indices.map { title in perBox.reduce(0.0) { $0 + $1[title] } }
        let room = Int64(household.boxes) * household.quota
        // The largest scale whose replicas (copies beyond the original) fit in the home's room.
        func replicas(_ title: Int, scale: Double) -> Int {
            min(household.boxes - 1, max(0, Int(scale * demand[title].squareRoot()) - 1))
        }
        func bytes(scale: Double) -> Int64 {
            titles.indices.reduce(Int64(0)) { $0 + Int64(replicas($1, scale: scale)) * titles[$1].size }
        }
        var low = 0.0
        var high = 1.0
        while bytes(scale: high) <= room && high < 1e12 { high *= 2 }
        for _ in 0..<50 {
            let middle = (low + high) / 2
            if bytes(scale: middle) <= room { low = middle } else { high = middle }
        }
        var freeRoom = Array(repeating: household.quota, count: household.boxes)
        var plan: [Int: Set<Int>] = [:]
        let order = titles.indices.filter { replicas($0, scale: low) > 0 }.sorted {
            (demand[$0] / Double(titles[$0].size), $1) > (demand[$1] / Double(titles[$1].size), $0)
        }
        for title in order {
            let size = titles[title].size
            let owner = titles[title].owner
            // Boxes already holding it first (no needless copy), then by how much each wants it.
            let candidates = (0..<household.boxes).filter { $0 != owner && perBox[$0][title] > 0 }.sorted {
                let left = (household.holdsReplica($0, title) ? 1 : 0, perBox[$0][title], -$0)
                let right = (household.holdsReplica($1, title) ? 1 : 0, perBox[$1][title], -$1)
                return left > right
            }
            var chosen: Set<Int> = []
            for box in candidates where chosen.count < replicas(title, scale: low) && freeRoom[box] >= size {
                chosen.insert(box)
                freeRoom[box] -= size
            }
            if !chosen.isEmpty { plan[title] = chosen }
        }
        return plan
    }
}
