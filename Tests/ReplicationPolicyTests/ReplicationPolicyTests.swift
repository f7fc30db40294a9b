import Testing

@testable import ReplicationPolicy

/// Hand-built homes whose right answers can be worked out on paper. Unless a test says otherwise: the default
/// settings (local weight 4, failure weight 10) but for a play made local being worth 100 bytes (the scale of these
/// titles), titles of 250 bytes, a cache of 1000 bytes with watermarks at 900 and 600, and a home of five boxes, all
/// online, with room for plenty of replicas.
@Suite struct ReplicationPolicyTests {
    private let policy = ReplicationPolicy(settings: PolicySettings(fetchAheadPlayBytes: 100))
    private let home = HomeFacts(
        thisBox: "here", otherBoxes: ["a", "b", "c", "d"].map { HomeBox(id: $0, isOnline: true) }, cacheRoom: 10_000)

    private func holder(
        _ box: String = "a", availability: Double = 1, online: Bool = true, original: Bool = true
    ) -> HolderFacts {
        HolderFacts(box: box, availability: availability, isOnline: online, isOriginal: original)
    }

    /// A title held by box "a" (an original) and in this box's cache, watched here `local` times lately.
    private func replica(
        _ id: String, local: Double, size: Int64 = 250, holders: [HolderFacts]? = nil, pinned: Bool = false,
        inUse: Bool = false
    ) -> TitleFacts {
        TitleFacts(
            id: id, size: size, localDemand: local, homeDemand: local, holders: holders ?? [holder()], here: .replica,
            pinned: pinned, inUse: inUse)
    }

    /// A title held by box "a" only, watched `local` times here and `remote` times elsewhere lately.
    private func elsewhere(
        _ id: String, local: Double, remote: Double = 0, size: Int64 = 250, holders: [HolderFacts]? = nil
    ) -> TitleFacts {
        TitleFacts(
            id: id, size: size, localDemand: local, homeDemand: local + remote, holders: holders ?? [holder()])
    }

    private func cache(used: Int64, budget: Int64 = 1_000_000) -> CacheFacts {
        CacheFacts(quota: 1000, used: used, highWatermark: 900, lowWatermark: 600, writeBudgetLeft: budget)
    }

    /// The four replicas of the eviction tests, filling the cache: worth 1, 4, 2 and 8 local plays.
    private var fourReplicas: [TitleFacts] {
        [replica("r1", local: 1), replica("r2", local: 4), replica("r3", local: 2), replica("r4", local: 8)]
    }

    // MARK: Targets

    @Test func targetsFollowTheSquareRootOfDemand() {
        let titles = [("low", 1.0), ("mid", 4.0), ("top", 16.0)].map { id, demand in
            TitleFacts(id: id, size: 100, localDemand: 0, homeDemand: demand, holders: [holder()])
        }
        let tenBoxes = HomeFacts(
            thisBox: "here", otherBoxes: (1...9).map { HomeBox(id: "b\($0)", isOnline: true) }, cacheRoom: 400)
        // One original each; room for 4 replicas of 100 bytes: 1, 2 and 4 copies take 0 + 1 + 3 of them.
        #expect(policy.targets(titles: titles, home: tenBoxes) == ["low": 1, "mid": 2, "top": 4])
    }

    @Test func targetsNeverExceedTheNumberOfBoxes() {
        let titles = [1.0, 4.0, 16.0].map { demand in
            TitleFacts(id: "d\(demand)", size: 100, localDemand: 0, homeDemand: demand, holders: [holder()])
        }
        #expect(policy.targets(titles: titles, home: home).values.allSatisfy { $0 == 5 })
    }

    @Test func withoutCacheRoomEveryTitleKeepsOneCopy() {
        let titles = [1.0, 4.0, 16.0].map { demand in
            TitleFacts(id: "d\(demand)", size: 100, localDemand: 0, homeDemand: demand, holders: [holder()])
        }
        let noRoom = HomeFacts(thisBox: "here", otherBoxes: home.otherBoxes, cacheRoom: 0)
        #expect(policy.targets(titles: titles, home: noRoom).values.allSatisfy { $0 == 1 })
    }

    @Test func titlesBelowTheMinimumDemandHaveNoTarget() {
        let titles = [elsewhere("rare", local: 0, remote: 0.2), elsewhere("seen", local: 0, remote: 3)]
        #expect(policy.targets(titles: titles, home: home).keys.sorted() == ["seen"])
    }

    // MARK: Eviction

    @Test func evictionGoesDownToTheLowWatermarkLowestValuePerByteFirst() {
        let decision = policy.decide(titles: fourReplicas, cache: cache(used: 1000), home: home)
        #expect(
            decision.actions == [
                .evict(id: "r1", reason: .aboveHighWatermark), .evict(id: "r3", reason: .aboveHighWatermark),
            ])
    }

    @Test func evictionRanksBySizeAsWellAsDemand() {
        // Equal demand: the big title frees the most room for the value it takes away.
        let titles = [replica("small", local: 2, size: 100), replica("big", local: 2, size: 800)]
        let decision = policy.decide(titles: titles, cache: cache(used: 900 + 1), home: home)
        #expect(decision.actions == [.evict(id: "big", reason: .aboveHighWatermark)])
    }

    @Test func nothingIsEvictedUpToTheHighWatermark() {
        let decision = policy.decide(titles: fourReplicas, cache: cache(used: 900), home: home)
        #expect(decision.actions.isEmpty)
        #expect(decision.replicas.allSatisfy { $0.keptBecause == .roomToSpare })
    }

    /// Evicts above the high watermark with r1, the least valuable, changed by `change`: r1 must stay for `reason`,
    /// and the next cheapest two go in its place.
    private func expectLeastValuableKept(because reason: KeepReason, _ change: (inout TitleFacts) -> Void) {
        var titles = fourReplicas
        change(&titles[0])
        let decision = policy.decide(titles: titles, cache: cache(used: 1000), home: home)
        #expect(
            decision.actions == [
                .evict(id: "r3", reason: .aboveHighWatermark), .evict(id: "r2", reason: .aboveHighWatermark),
            ])
        #expect(decision.replicas.first { $0.id == "r1" }?.keptBecause == reason)
    }

    @Test func aPinnedReplicaIsNeverEvicted() {
        expectLeastValuableKept(because: .pinned) { $0.pinned = true }
    }

    @Test func aReplicaInUseIsNeverEvicted() {
        expectLeastValuableKept(because: .inUse) { $0.inUse = true }
    }

    @Test func aReplicaNoOtherBoxHoldsIsNeverEvicted() {
        expectLeastValuableKept(because: .lastCopy) { $0.holders = [] }
    }

    @Test func aReplicaWhoseOtherHoldersLeftLongAgoIsTheLastCopy() {
        expectLeastValuableKept(because: .lastCopy) { $0.holders = [holder(availability: 0.01, online: false)] }
    }

    @Test func aReplicaWhoseHolderIsOfflineButOftenOnlineMayGo() {
        var titles = fourReplicas
        titles[0].holders = [holder(availability: 0.7, online: false)]
        let decision = policy.decide(titles: titles, cache: cache(used: 1000), home: home)
        #expect(decision.actions.first?.id == "r1")
    }

    @Test func aWantedReplicaWhoseOtherHoldersAreAllRarelyOnlineIsNeverEvicted() {
        // Worth 4 + 10 × 1 × 0.8 × 0.9 = 11.2, between r3 and r2: without the protection r3 and r1 would go.
        expectLeastValuableKept(because: .lastReachableCopy) {
            $0.holders = [holder(availability: 0.2), holder("b", availability: 0.1, online: false)]
        }
    }

    @Test func anUnwantedReplicaWhoseHoldersAreRarelyOnlineMayGo() {
        var titles = fourReplicas
        titles[0] = replica("r1", local: 0.1, holders: [holder(availability: 0.2)])
        let decision = policy.decide(titles: titles, cache: cache(used: 1000), home: home)
        #expect(decision.actions.first == .evict(id: "r1", reason: .aboveHighWatermark))
    }

    @Test func aReplicaIsWorthTheFailedPlaysItSavesTenTimesOver() {
        // Watched once here, held elsewhere only by a box away half the time: 4 × 1 local + 10 × 1 play × 0.5.
        let title = replica("r", local: 1, holders: [holder(availability: 0.5)])
        let decision = policy.decide(titles: [title], cache: cache(used: 250), home: home)
        #expect(decision.replicas.first?.value == 9)
    }

    @Test func aReplicaWhoseOtherHolderIsOftenAwayOutlastsOneWatchedMoreWhoseHolderIsAlwaysOn() {
        // r-away: 4 × 2 + 10 × 2 × 0.2 = 12; r-more: 4 × 2.5 = 10 (its holder never away); r-on 4 and r-top 32.
        let titles = [
            replica("r-away", local: 2, holders: [holder(availability: 0.8)]), replica("r-more", local: 2.5),
            replica("r-on", local: 1), replica("r-top", local: 8),
        ]
        let decision = policy.decide(titles: titles, cache: cache(used: 1000), home: home)
        #expect(
            decision.actions == [
                .evict(id: "r-on", reason: .aboveHighWatermark), .evict(id: "r-more", reason: .aboveHighWatermark),
            ])
    }

    @Test func replicasAreValuedMostPerByteFirstWithTheirReasons() {
        let decision = policy.decide(titles: fourReplicas, cache: cache(used: 1000), home: home)
        #expect(decision.replicas.map(\.id) == ["r4", "r2", "r3", "r1"])
        #expect(decision.replicas.map(\.keptBecause) == [.worthItsRoom, .worthItsRoom, nil, nil])
        // Held by an original always online: the value is the weighted local demand, 4 × 8 plays for r4.
        #expect(decision.replicas[0].value == 32)
        #expect(decision.replicas[0].valuePerByte == 32.0 / 250)
    }

    // MARK: Replication

    @Test func aTitleWatchedHereUnderItsTargetIsReplicated() {
        let decision = policy.decide(titles: [elsewhere("film", local: 3)], cache: cache(used: 0), home: home)
        #expect(decision.actions == [.replicate(id: "film", reason: .underTarget(copies: 1, target: 5))])
    }

    @Test func aTitleUnwatchedAnywhereIsNotReplicated() {
        let decision = policy.decide(titles: [elsewhere("film", local: 0.1)], cache: cache(used: 0), home: home)
        #expect(decision.actions.isEmpty)
    }

    @Test func aTitleWatchedOnceIsNotFetchedAheadOfItsNextPlay() {
        // A copy fetched ahead costs the network as much as the play it would save.
        let decision = policy.decide(titles: [elsewhere("film", local: 1)], cache: cache(used: 0), home: home)
        #expect(decision.actions.isEmpty)
    }

    @Test func aSmallTitleTheHomePlaysALotIsFetchedAheadOfItsFirstPlayHere() {
        // Not watched here, 4 plays elsewhere in a home of five boxes: 0.8 expected here, p = 1 − e^−0.8 = 0.55. A
        // 10-byte song wastes 4.5 bytes if it is not played, against 55 bytes' worth of plays made local.
        let song = elsewhere("song", local: 0, remote: 4, size: 10)
        let decision = policy.decide(titles: [song], cache: cache(used: 0), home: home)
        #expect(decision.actions == [.replicate(id: "song", reason: .underTarget(copies: 1, target: 5))])
    }

    @Test func aLargeTitleTheHomePlaysALotIsNotFetchedAheadOfItsFirstPlayHere() {
        // The same demand for 250 bytes: 112 bytes wasted if it is not played, against 55 bytes' worth of plays.
        let film = elsewhere("film", local: 0, remote: 4)
        #expect(policy.decide(titles: [film], cache: cache(used: 0), home: home).actions.isEmpty)
    }

    @Test func fetchingAheadBreaksEvenWhereTheBytesItMayWasteEqualThePlaysItMakesLocal() {
        // A title of 100 bytes, as much as a play made local is worth: even at p = 1/2, that is ln 2 expected plays.
        let ln2 = 0.693_147_180_559_945_3
        #expect(policy.isWorthFetchingAhead(expectedPlays: ln2 * 1.01, size: 100))
        #expect(!policy.isWorthFetchingAhead(expectedPlays: ln2 * 0.99, size: 100))
        #expect(!policy.isWorthFetchingAhead(expectedPlays: 0, size: 1))
    }

    @Test func aTitleWatchedOftenIsNotFetchedBeyondItsTarget() {
        let noRoom = HomeFacts(thisBox: "here", otherBoxes: home.otherBoxes, cacheRoom: 0)
        #expect(
            policy.decide(titles: [elsewhere("film", local: 3)], cache: cache(used: 0), home: noRoom).actions.isEmpty)
    }

    @Test func exactlyOneBoxTakesACopyOfATitleWhoseHolderIsRarelyOnline() {
        // Watched on box "a" only, held by box "a", online a tenth of the time: of the four other boxes, all deciding
        // from the same facts, exactly one takes a copy.
        let film = elsewhere("film", local: 0, remote: 1, size: 100, holders: [holder(availability: 0.1)])
        let boxes = ["here", "a", "b", "c", "d"]
        let takers = boxes.filter { $0 != "a" }.filter { box in
            let view = HomeFacts(
                thisBox: box, otherBoxes: boxes.filter { $0 != box }.map { HomeBox(id: $0, isOnline: true) },
                cacheRoom: 0)
            return !policy.decide(titles: [film], cache: cache(used: 0), home: view).actions.isEmpty
        }
        #expect(takers.count == 1)
    }

    @Test func theMostValuablePerByteIsReplicatedFirst() {
        let titles = [elsewhere("b-some", local: 3), elsewhere("a-most", local: 9), elsewhere("c-tie", local: 3)]
        let decision = policy.decide(titles: titles, cache: cache(used: 0), home: home)
        #expect(decision.actions.map(\.id) == ["a-most", "b-some", "c-tie"])
    }

    @Test func replicationStopsAtTheHighWatermark() {
        let titles = (1...5).map { elsewhere("t\($0)", local: Double(10 - $0)) }
        let decision = policy.decide(titles: titles, cache: cache(used: 0), home: home)
        #expect(decision.actions.map(\.id) == ["t1", "t2", "t3"])
    }

    @Test func aTitleIsNotReplicatedWhileNoHolderIsOnline() {
        let film = elsewhere("film", local: 3, holders: [holder(online: false)])
        #expect(policy.decide(titles: [film], cache: cache(used: 0), home: home).actions.isEmpty)
    }

    @Test func aTitleWhoseOnlyHolderIsRarelyOnlineGetsACopy() {
        // No room in the home for replicas by target: the copy is for the title's availability alone.
        let noRoom = HomeFacts(thisBox: "here", otherBoxes: [HomeBox(id: "a", isOnline: true)], cacheRoom: 0)
        let film = elsewhere("film", local: 0, remote: 1, holders: [holder(availability: 0.1)])
        let decision = policy.decide(titles: [film], cache: cache(used: 0), home: noRoom)
        #expect(decision.actions == [.replicate(id: "film", reason: .holdersRarelyOnline)])
    }

    @Test func aTitleWhoseHolderIsOftenOnlineGetsNoCopyBeyondItsTarget() {
        let noRoom = HomeFacts(thisBox: "here", otherBoxes: [HomeBox(id: "a", isOnline: true)], cacheRoom: 0)
        let film = elsewhere("film", local: 0, remote: 1, holders: [holder(availability: 0.9)])
        #expect(policy.decide(titles: [film], cache: cache(used: 0), home: noRoom).actions.isEmpty)
    }

    @Test func aPinnedTitleMissingHereIsReplicatedFirst() {
        var pinned = elsewhere("z-pinned", local: 0)
        pinned.pinned = true
        let titles = [elsewhere("a-watched", local: 9), pinned]
        let decision = policy.decide(titles: titles, cache: cache(used: 0), home: home)
        #expect(decision.actions.first == .replicate(id: "z-pinned", reason: .pinned))
    }

    @Test func replicationStaysWithinTheWriteBudget() {
        let titles = [elsewhere("big", local: 9, size: 500), elsewhere("small", local: 3, size: 200)]
        let decision = policy.decide(titles: titles, cache: cache(used: 0, budget: 400), home: home)
        #expect(decision.actions.map(\.id) == ["small"])
    }

    @Test func aPartialFetchNeedsOnlyItsMissingBytesOfBudget() {
        var film = elsewhere("film", local: 3, size: 500)
        film.here = .partial(bytes: 300)
        let decision = policy.decide(titles: [film], cache: cache(used: 300, budget: 200), home: home)
        #expect(decision.actions.map(\.id) == ["film"])
    }

    @Test func aTitlePlayedHereFromElsewhereIsKept() {
        // The play streams it into the cache: watched once is enough to keep it, as the play brought it already.
        var film = elsewhere("film", local: 1)
        film.inUse = true
        film.here = .partial(bytes: 100)
        let decision = policy.decide(titles: [film], cache: cache(used: 100), home: home)
        #expect(decision.actions == [.replicate(id: "film", reason: .playedHere)])
    }

    @Test func keepingWhatAPlayBroughtTakesNoWriteBudget() {
        var film = elsewhere("film", local: 1)
        film.inUse = true
        let decision = policy.decide(titles: [film], cache: cache(used: 0, budget: 0), home: home)
        #expect(decision.actions == [.replicate(id: "film", reason: .playedHere)])
    }

    // MARK: Displacement and hysteresis

    @Test func aTitleWorthClearlyMoreDisplacesTheLeastValuableReplica() {
        // Full to the high watermark: 900 bytes of replicas watched 2, 4 and 8 times here; the new title 4 times, worth
        // 16 against r1's 8: more than the margin of 1.5.
        let held = [
            replica("r1", local: 2, size: 300), replica("r2", local: 4, size: 300), replica("r4", local: 8, size: 300),
        ]
        let decision = policy.decide(
            titles: held + [elsewhere("new", local: 4, size: 300)], cache: cache(used: 900), home: home)
        #expect(
            decision.actions == [
                .evict(id: "r1", reason: .displacedBy(id: "new")),
                .replicate(id: "new", reason: .underTarget(copies: 1, target: 5)),
            ])
    }

    @Test func aTitleOnlyMarginallyBetterDisplacesNothing() {
        let held = [
            replica("r1", local: 2, size: 300), replica("r2", local: 4, size: 300), replica("r4", local: 8, size: 300),
        ]
        // Worth 10 (2.5 plays) against r1's 8 (2 plays): below the margin of 1.5.
        let decision = policy.decide(
            titles: held + [elsewhere("new", local: 2.5, size: 300)], cache: cache(used: 900), home: home)
        #expect(decision.actions.isEmpty)
    }

    @Test func aReplicationThatCannotFitEvenAfterEvictionsIsNotPlanned() {
        // All the room is pinned: nothing may go, so nothing comes and nothing is evicted for it.
        let held = [replica("p1", local: 1, size: 450, pinned: true), replica("p2", local: 1, size: 450, pinned: true)]
        let decision = policy.decide(
            titles: held + [elsewhere("new", local: 50, size: 300)], cache: cache(used: 900), home: home)
        #expect(decision.actions.isEmpty)
    }

    @Test func aTitleLargerThanTheHighWatermarkIsNeverPlanned() {
        let decision = policy.decide(
            titles: [elsewhere("huge", local: 50, size: 950)], cache: cache(used: 0), home: home)
        #expect(decision.actions.isEmpty)
    }

    @Test func whatWatermarkEvictionFreedIsNotRefilledWithLessValuableTitles() {
        // Above the high watermark, r1 (1 play) and r3 (2 plays) go; a title worth 2 plays must not take their room.
        let decision = policy.decide(
            titles: fourReplicas + [elsewhere("new", local: 2)], cache: cache(used: 1000), home: home)
        #expect(decision.actions.map(\.id) == ["r1", "r3"])
    }

    // MARK: Robustness

    @Test func theSameFactsInAnyOrderGiveTheSameDecision() {
        let titles = fourReplicas + [elsewhere("new", local: 20), elsewhere("other", local: 20)]
        let forward = policy.decide(titles: titles, cache: cache(used: 1000), home: home)
        let backward = policy.decide(titles: titles.reversed(), cache: cache(used: 1000), home: home)
        #expect(forward == backward)
    }

    @Test func nonsenseNumbersGiveADecisionThatReplicatesNothingOfThem() {
        let titles = [
            TitleFacts(id: "nan", size: 100, localDemand: .nan, homeDemand: .infinity, holders: [holder()]),
            TitleFacts(id: "negative", size: -5, localDemand: 9, homeDemand: 9, holders: [holder()]),
            TitleFacts(
                id: "max", size: .max, localDemand: 9, homeDemand: 9,
                holders: [holder(availability: .nan), holder("b", availability: 2)], here: .replica),
            TitleFacts(id: "max", size: 1, localDemand: 1, homeDemand: 1, holders: []),
        ]
        let broken = CacheFacts(quota: 1000, used: .max, highWatermark: .max, lowWatermark: -1, writeBudgetLeft: .min)
        let decision = policy.decide(titles: titles, cache: broken, home: home)
        #expect(!decision.actions.contains { if case .replicate = $0 { true } else { false } })
        #expect(decision.actions == [.evict(id: "max", reason: .aboveHighWatermark)])
    }
}
