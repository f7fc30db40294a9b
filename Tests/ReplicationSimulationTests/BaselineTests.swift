import Testing

@testable import ReplicationSimulation

/// Box 0 owns five 10-byte titles A...E (0...4); box 1 has room for two and plays the given titles an hour apart.
private func twoBoxes(playing titles: [Int], quota: Int64 = 20) -> Workload {
    let library = (0..<5).map { SimulatedTitle(index: $0, kind: .film, size: 10, owner: 0, popularityRank: $0 + 1) }
    let plays = titles.enumerated().map {
        SimulatedPlay(time: Double($0.offset) * 3600 + 60, box: 1, title: $0.element)
    }
    return Workload(boxes: 2, days: 1, titles: library, quota: quota, plays: plays)
}

/// Box 0 owns three 10-byte titles A...C and is off during hour 2; boxes 1 and 2 have room for one.
private func threeBoxes(playing plays: [SimulatedPlay]) -> Workload {
    let library = (0..<3).map { SimulatedTitle(index: $0, kind: .film, size: 10, owner: 0, popularityRank: $0 + 1) }
    return Workload(boxes: 3, days: 1, titles: library, quota: 10, plays: plays, offline: [(box: 0, hour: 2)])
}

private let (titleA, titleB, titleC, titleD, titleE) = (0, 1, 2, 3, 4)

@Suite("Baselines")
struct BaselineTests {
    @Test("No replication streams every play and copies nothing")
    func noReplicationStreams() {
        var strategy = NoReplication()
        let metrics = Simulation.run(twoBoxes(playing: [titleA, titleA]), strategy: &strategy)
        #expect(metrics.localPlays == 0)
        #expect(metrics.networkBytes == 20)
        #expect(metrics.replicasCreated == 0)
    }

    @Test("LRU keeps what it played and evicts the least recently played")
    func lruEvictsLeastRecent() {
        var strategy = CacheOnPlay(rule: .leastRecentlyUsed)
        let household = Simulation.replay(twoBoxes(playing: [titleA, titleB, titleA, titleC]), strategy: &strategy)
        #expect(household.holdsReplica(1, titleA))
        #expect(!household.holdsReplica(1, titleB))
        #expect(household.holdsReplica(1, titleC))
        #expect(household.metrics.localPlays == 1)
        #expect(household.metrics.networkBytes == 30)
        #expect(household.metrics.replicasEvicted == 1)
    }

    @Test("LFU evicts the least played, even when it was played last")
    func lfuEvictsLeastFrequent() {
        var strategy = CacheOnPlay(rule: .leastFrequentlyUsed)
        let household = Simulation.replay(twoBoxes(playing: [titleA, titleA, titleB, titleC]), strategy: &strategy)
        #expect(household.holdsReplica(1, titleA))
        #expect(!household.holdsReplica(1, titleB))
        #expect(household.holdsReplica(1, titleC))
    }

    @Test("LFUDA ages: a title played often long ago goes once new titles have evicted enough, where LFU keeps it")
    func lfudaAges() {
        let plays = [titleA, titleA, titleA, titleB, titleC, titleD, titleE]
        var lfuda = CacheOnPlay(rule: .lfuda)
        let aged = Simulation.replay(twoBoxes(playing: plays), strategy: &lfuda)
        // Keys: A 3, B 1; C evicts B (age 1) and gets 2; D evicts C (age 2) and gets 3; E meets A 3 and D 3, and the
        // less recently played A goes.
        #expect(!aged.holdsReplica(1, titleA))
        #expect(aged.holdsReplica(1, titleD))
        #expect(aged.holdsReplica(1, titleE))
        var lfu = CacheOnPlay(rule: .leastFrequentlyUsed)
        let perfect = Simulation.replay(twoBoxes(playing: plays), strategy: &lfu)
        #expect(perfect.holdsReplica(1, titleA))
        #expect(perfect.holdsReplica(1, titleE))
    }

    @Test("A title bigger than the quota is streamed, never kept")
    func tooBigIsOnlyStreamed() {
        var strategy = CacheOnPlay(rule: .leastRecentlyUsed)
        let household = Simulation.replay(twoBoxes(playing: [titleA, titleA], quota: 5), strategy: &strategy)
        #expect(household.metrics.replicasCreated == 0)
        #expect(household.metrics.localPlays == 0)
        #expect(household.metrics.quotaViolations == 0)
    }

    @Test("A play fails when every holder is offline, and counts as avoidable when a box that deleted a copy is on")
    func failedAndAvoidablePlays() {
        // Box 1 plays A (kept), then B (kept, A evicted: room for one), then box 2 plays A while box 0 is off.
        let workload = threeBoxes(playing: [
            SimulatedPlay(time: 60, box: 1, title: titleA), SimulatedPlay(time: 3660, box: 1, title: titleB),
            SimulatedPlay(time: 7260, box: 2, title: titleA),
        ])
        var strategy = CacheOnPlay(rule: .leastRecentlyUsed)
        let metrics = Simulation.run(workload, strategy: &strategy)
        #expect(metrics.failedPlays == 1)
        #expect(metrics.avoidableFailedPlays == 1)
    }

    @Test("The bytes the served plays need count each title once per box that played it, not failed plays")
    func servedFloorCountsEachTitleOncePerBox() {
        // Box 1 streams A twice and B once; box 2 plays A while box 0 is off (fails); box 0 plays its own C.
        let workload = threeBoxes(playing: [
            SimulatedPlay(time: 60, box: 1, title: titleA), SimulatedPlay(time: 3660, box: 1, title: titleA),
            SimulatedPlay(time: 3700, box: 1, title: titleB), SimulatedPlay(time: 7260, box: 2, title: titleA),
            SimulatedPlay(time: 10_860, box: 0, title: titleC),
        ])
        var strategy = NoReplication()
        let metrics = Simulation.run(workload, strategy: &strategy)
        #expect(metrics.networkBytes == 30)
        #expect(metrics.servedFloorBytes == 20)
    }

    @Test("The household refuses a copy that would exceed the quota and counts the violation")
    func householdRefusesOverQuota() {
        var household = Household(workload: twoBoxes(playing: [], quota: 15))
        let first = household.replicate(titleA, to: 1)
        let second = household.replicate(titleB, to: 1)
        #expect(first)
        #expect(!second)
        #expect(household.used[1] == 10)
        #expect(household.metrics.quotaViolations == 1)
    }

    @Test("The oracle gives the most demanded titles the most copies")
    func oraclePlacesBySquareRoot() {
        var settings = WorkloadSettings(boxes: 5, days: 3, seed: 9)
        settings.newTitlesPerBoxPerDay = 0
        let workload = Workload(settings: settings)
        var oracle = SquareRootOracle()
        let household = Simulation.replay(workload, strategy: &oracle)
        let byRank = workload.titles.sorted { $0.popularityRank < $1.popularityRank }
        let topCopies = byRank.prefix(20).map { household.replicaHolders[$0.index].count }.reduce(0, +)
        let tailCopies = byRank.suffix(20).map { household.replicaHolders[$0.index].count }.reduce(0, +)
        #expect(topCopies > tailCopies)
        #expect(household.metrics.quotaViolations == 0)
    }
}

/// Wraps a strategy and records the most replica bytes any box held after any of its steps.
private struct QuotaWatch<Inner: ReplicationStrategy>: ReplicationStrategy {
    var inner: Inner
    var mostUsed: Int64 = 0
    var name: String { inner.name }

    mutating func played(_ play: SimulatedPlay, outcome: PlayOutcome, in household: inout Household) {
        inner.played(play, outcome: outcome, in: &household)
        mostUsed = max(mostUsed, household.used.max() ?? 0)
    }

    mutating func hourStarted(in household: inout Household) {
        inner.hourStarted(in: &household)
        mostUsed = max(mostUsed, household.used.max() ?? 0)
    }
}

@Suite("Quota")
struct QuotaTests {
    static let workload = Workload(settings: WorkloadSettings(boxes: 5, days: 4, seed: 1234))

    @Test("No strategy ever holds more than the quota on a box", arguments: 0..<7)
    func quotaNeverExceeded(strategyIndex: Int) {
        let workload = Self.workload
        func check(_ strategy: some ReplicationStrategy) {
            var watched = QuotaWatch(inner: strategy)
            let metrics = Simulation.run(workload, strategy: &watched)
            #expect(watched.mostUsed <= workload.quota, "\(strategy.name)")
            #expect(metrics.quotaViolations == 0, "\(strategy.name)")
        }
        switch strategyIndex {
        case 0: check(NoReplication())
        case 1...4: check(CacheOnPlay(rule: EvictionRule.allCases[strategyIndex - 1]))
        case 5: check(SquareRootOracle())
        default: check(PolicyDriven())
        }
    }

    @Test("The whole benchmark is deterministic: the same workload gives the same rows")
    func benchmarkDeterministic() {
        let first = Benchmark.run(Self.workload, policy: PolicyDriven.Settings()).map(\.metrics)
        let second = Benchmark.run(Self.workload, policy: PolicyDriven.Settings()).map(\.metrics)
        #expect(first == second)
    }
}
