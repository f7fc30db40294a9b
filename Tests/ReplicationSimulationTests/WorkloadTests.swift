import Testing

@testable import ReplicationSimulation

@Suite("Workload generator")
struct WorkloadTests {
    @Test("The same seed makes the same library, hours and plays")
    func sameSeedSameWorkload() {
        let settings = WorkloadSettings(boxes: 5, days: 6, seed: 42)
        let first = Workload(settings: settings)
        let second = Workload(settings: settings)
        #expect(first.titles == second.titles)
        #expect(first.plays == second.plays)
        #expect(first.quota == second.quota)
        #expect((0..<first.hours).allSatisfy { first.isOnline(box: 3, hour: $0) == second.isOnline(box: 3, hour: $0) })
        #expect(!first.plays.isEmpty)
    }

    @Test("Another seed makes other plays")
    func otherSeedOtherPlays() {
        let first = Workload(settings: WorkloadSettings(boxes: 5, days: 6, seed: 42))
        let second = Workload(settings: WorkloadSettings(boxes: 5, days: 6, seed: 43))
        #expect(first.plays != second.plays)
    }

    @Test("Plays follow a Zipf law over popularity ranks: p(rank r) ∝ 1 / r^α")
    func zipfShape() {
        var settings = WorkloadSettings(boxes: 1, days: 10, alpha: 0.8, seed: 7)
        settings.filmsPerBox = 0
        settings.episodesPerBox = 0
        settings.songsPerBox = 50
        settings.newTitlesPerBoxPerDay = 0
        settings.tasteSpread = 0
        settings.alwaysOnShare = 1
        settings.maximumAbsenceProbability = 0
        settings.playsPerBoxPerDay = 3000
        let workload = Workload(settings: settings)
        var playsByRank = [Int](repeating: 0, count: 51)
        for play in workload.plays { playsByRank[workload.titles[play.title].popularityRank] += 1 }
        let total = Double(workload.plays.count)
        let normaliser = (1...50).reduce(0.0) { $0 + workload.zipfWeight(rank: $1) }
        for rank in [1, 2, 5, 10, 50] {
            let expected = workload.zipfWeight(rank: rank) / normaliser
            let observed = Double(playsByRank[rank]) / total
            #expect(abs(observed - expected) < 0.15 * expected, "rank \(rank)")
        }
    }

    @Test("Each box has its own taste: the boxes' favourite titles differ")
    func perBoxTaste() {
        let workload = Workload(settings: WorkloadSettings(boxes: 3, days: 1, seed: 11))
        let favourites = (0..<3).map { box in
            workload.titles.indices.max {
                workload.tasteWeight(box: box, title: $0) < workload.tasteWeight(box: box, title: $1)
            }
        }
        #expect(Set(favourites).count > 1)
    }

    @Test("Boxes are off some hours and play only while on")
    func playsOnlyWhileOnline() {
        let workload = Workload(settings: WorkloadSettings(boxes: 8, days: 5, seed: 5))
        let offHours = (0..<8).flatMap { box in
            (0..<workload.hours).filter { !workload.isOnline(box: box, hour: $0) }
        }
        #expect(!offHours.isEmpty)
        #expect(workload.plays.allSatisfy { workload.isOnline(box: $0.box, hour: Int($0.time / 3600)) })
    }

    @Test("A title is played only after it arrives")
    func newTitlesPlayedAfterArrival() {
        let workload = Workload(settings: WorkloadSettings(boxes: 5, days: 10, seed: 3))
        let played = workload.plays.map { ($0, workload.titles[$0.title]) }
        #expect(played.allSatisfy { play, title in Double(title.arrivalHour) * 3600 <= play.time })
        #expect(played.contains { $0.1.arrivalHour > 0 })
    }
}
