import MediaIndex
import ReplicationPolicy
import Testing
import WireVocabulary

@testable import Replication

/// What the auto-replicator tells the policy, from what the daemon read.
@Suite struct ReplicationFactsTests {
    private let film = ContentID(bytes: [UInt8](repeating: 1, count: 32))!
    private let song = ContentID(bytes: [UInt8](repeating: 2, count: 32))!
    private let series = ContentID(bytes: [UInt8](repeating: 3, count: 32))!

    @Test func whatThisBoxHoldsOfEachTitleIsItsLocalCopy() {
        let facts = ReplicationFacts(
            inputs(placements: [
                placement(film, mediaFile: true), placement(song, replica: replica(song, complete: true)),
                placement(series, replica: replica(series, complete: false)),
            ]))
        #expect(here(film, facts) == .original)
        #expect(here(song, facts) == .replica)
        #expect(here(series, facts) == .partial(bytes: 100))
    }

    @Test func onlyCompleteHoldersCountWithTheirAvailabilityAndPresence() throws {
        var inputs = inputs(placements: [
            placement(
                film,
                holders: [
                    RemoteHolder(peerID: "kitchen", complete: true), RemoteHolder(peerID: "attic", complete: true),
                    RemoteHolder(peerID: "bedroom", complete: false),
                ])
        ])
        inputs.online = ["kitchen", "bedroom"]
        inputs.availability = ["kitchen": 0.9, "attic": 0.1, "bedroom": 1]
        let title = try #require(ReplicationFacts(inputs).titles.first)
        #expect(
            title.holders == [
                HolderFacts(box: "kitchen", availability: 0.9, isOnline: true, isOriginal: false),
                HolderFacts(box: "attic", availability: 0.1, isOnline: false, isOriginal: false),
            ])
    }

    @Test func aHolderWithNoPresenceYetCountsAsItIsNow() throws {
        var inputs = inputs(placements: [
            placement(
                film,
                holders: [
                    RemoteHolder(peerID: "kitchen", complete: true), RemoteHolder(peerID: "attic", complete: true),
                ])
        ])
        inputs.online = ["kitchen"]
        let title = try #require(ReplicationFacts(inputs).titles.first)
        #expect(title.holders.map(\.availability) == [1, 0])
    }

    @Test func demandPinsAndUseComeFromTheirOwnSources() throws {
        var inputs = inputs(placements: [placement(film, replica: replica(film, complete: true, pinned: true))])
        inputs.demand = [film: TitleDemand(plays: 2, fetches: 1, served: 4, home: 5)]
        inputs.inUse = [film]
        let title = try #require(ReplicationFacts(inputs).titles.first)
        #expect(title.localDemand == 3 && title.homeDemand == 5)
        #expect(title.pinned && title.inUse)
    }

    @Test func theWriteBudgetLeftIsTheDailyBudgetLessTodaysWritesAndNeverNegative() {
        var inputs = inputs(placements: [])
        inputs.dailyBudget = 1000
        inputs.writtenToday = 400
        #expect(ReplicationFacts(inputs).cache.writeBudgetLeft == 600)
        inputs.writtenToday = 4000
        #expect(ReplicationFacts(inputs).cache.writeBudgetLeft == 0)
    }

    @Test func theHomesRoomIsThisBoxsQuotaForEveryKnownBoxOnlineOrNot() {
        var inputs = inputs(placements: [])
        inputs.quota = 1000
        inputs.online = ["kitchen"]
        inputs.availability = ["kitchen": 1, "attic": 0.2]
        let home = ReplicationFacts(inputs).home
        #expect(home.boxCount == 3 && home.cacheRoom == 3000)
        #expect(home.otherBoxes == [HomeBox(id: "attic", isOnline: false), HomeBox(id: "kitchen", isOnline: true)])
    }

    private func here(_ id: ContentID, _ facts: ReplicationFacts) -> LocalCopy? {
        facts.titles.first { $0.id == id.hex }?.here
    }

    private func inputs(placements: [TitlePlacement]) -> ReplicationFacts.Inputs {
        ReplicationFacts.Inputs(
            thisBox: "living-room", demand: [:],
            placements: Dictionary(uniqueKeysWithValues: placements.map { ($0.id, $0) }), online: [], availability: [:],
            inUse: [], cacheUsed: 0, quota: 1 << 30, highWatermark: 0.9, lowWatermark: 0.8, dailyBudget: 1 << 30,
            writtenToday: 0)
    }

    private func placement(
        _ id: ContentID, mediaFile: Bool = false, replica: ReplicaRecord? = nil, holders: [RemoteHolder] = []
    ) -> TitlePlacement {
        TitlePlacement(id: id, size: 100, title: "t", isMediaFileHere: mediaFile, replica: replica, holders: holders)
    }

    private func replica(_ id: ContentID, complete: Bool, pinned: Bool = false) -> ReplicaRecord {
        ReplicaRecord(
            id: id, complete: complete, have: ChunkBitmap(chunkCount: 1, full: complete), size: 100,
            mimeType: "video/x-matroska", lastUsed: 0, pinned: pinned)
    }
}

/// Which titles a pass weighs: bounded, whatever the neighbours tell.
@Suite struct TitlesToWeighTests {
    private static func id(_ index: Int) -> ContentID {
        ContentID(bytes: [UInt8](repeating: 0, count: 28) + withUnsafeBytes(of: UInt32(index).bigEndian, Array.init))!
    }

    @Test func theHomesMostWantedTitlesAreWeighedUpToTheBound() {
        var demand: [ContentID: TitleDemand] = [:]
        for index in 0..<3000 {
            demand[Self.id(index)] = TitleDemand(plays: 0, fetches: 0, served: 0, home: Double(index + 1))
        }
        let ids = AutoReplicator.titlesToWeigh(demand, cached: [], settings: .standard)
        #expect(ids.count == AutoReplicator.mostDemandedTitles)
        #expect(Set(ids) == Set((3000 - AutoReplicator.mostDemandedTitles..<3000).map(Self.id)))
    }

    @Test func cachedAndLocallyWatchedTitlesAreAlwaysWeighed() {
        var demand: [ContentID: TitleDemand] = [:]
        for index in 0..<2000 {
            demand[Self.id(index)] = TitleDemand(plays: 0, fetches: 0, served: 0, home: 10)
        }
        demand[Self.id(5000)] = TitleDemand(plays: 0.1, fetches: 0, served: 0, home: 0.1)
        let ids = Set(AutoReplicator.titlesToWeigh(demand, cached: [Self.id(6000)], settings: .standard))
        #expect(ids.contains(Self.id(5000)) && ids.contains(Self.id(6000)))
    }

    @Test func titlesBelowThePolicysMinimumDemandAreLeftOut() {
        let demand = [Self.id(1): TitleDemand(plays: 0, fetches: 0, served: 0, home: 0.01)]
        #expect(AutoReplicator.titlesToWeigh(demand, cached: [], settings: .standard).isEmpty)
    }
}
