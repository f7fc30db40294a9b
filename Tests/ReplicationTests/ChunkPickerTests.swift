import Testing
import WireVocabulary

@testable import Replication

/// A bitmap of `count` chunks holding `held`.
private func bitmap(_ count: Int, _ held: some Sequence<Int>) -> ChunkBitmap {
    var map = ChunkBitmap(chunkCount: count)
    for index in held { map.insert(index) }
    return map
}

private func picker(chunks: Int, have: [Int] = [], sources: [String: [Int]]) -> ChunkPicker {
    var picker = ChunkPicker(have: bitmap(chunks, have))
    for (source, held) in sources.sorted(by: { $0.key < $1.key }) {
        picker.setAvailability(bitmap(chunks, held), for: source)
    }
    return picker
}

@Suite struct ChunkPickerTests {
    @Test func completeHoldersOnlyFetchFrontToBack() {
        var picker = picker(chunks: 5, sources: ["a": Array(0..<5), "b": Array(0..<5)])
        #expect(
            [picker.next(for: "a"), picker.next(for: "b"), picker.next(for: "a"), picker.next(for: "b")] == [
                0, 1, 2, 3,
            ])
    }

    @Test func rarestChunkAmongPartialHoldersComesFirst() {
        // Chunk 3 is held by one source, chunks 1 and 2 by two, chunk 0 by three.
        var picker = picker(chunks: 4, sources: ["a": [0, 1, 2, 3], "b": [0, 1, 2], "c": [0]])
        #expect(picker.next(for: "a") == 3)
    }

    @Test func tiesInRarityGoToTheLowestIndex() {
        var picker = picker(chunks: 6, sources: ["a": [1, 2, 4, 5], "b": [0, 1, 2, 3, 4, 5], "c": [0, 3]])
        // 1, 2, 4 and 5 are each held by two sources; 0 and 3 as well, but `a` does not hold them.
        #expect(picker.next(for: "a") == 1)
        #expect(picker.next(for: "a") == 2)
    }

    @Test func aSourceIsOnlyGivenChunksItHolds() {
        var picker = picker(chunks: 8, sources: ["a": [2, 5], "b": Array(0..<8)])
        var given: [Int] = []
        while let chunk = picker.next(for: "a") {
            given.append(chunk)
            if given.count > 8 { break }
        }
        #expect(Set(given).isSubset(of: [2, 5]))
        #expect(given.contains(2) && given.contains(5))
    }

    @Test func anUnknownSourceGetsNothing() {
        var picker = picker(chunks: 3, sources: ["a": [0, 1, 2]])
        #expect(picker.next(for: "nobody") == nil)
    }

    @Test func noChunkGoesToTwoSourcesWhileUnrequestedChunksRemain() {
        var picker = picker(chunks: 12, sources: ["a": Array(0..<12), "b": Array(0..<12), "c": Array(0..<12)])
        var given: [Int] = []
        for round in 0..<12 { given.append(picker.next(for: ["a", "b", "c"][round % 3])!) }
        #expect(given.sorted() == Array(0..<12))
    }

    @Test func anIdleSourceDoesNotDuplicateWorkWhileAnotherSourceStillHasUnrequestedChunks() {
        // `c` holds only chunk 0, which `a` is fetching; chunks 1 to 3 (held by `b` alone) were never requested,
        // so this is not the endgame yet.
        var picker = picker(chunks: 4, sources: ["a": [0], "b": [0, 1, 2, 3], "c": [0]])
        #expect(picker.next(for: "a") == 0)
        #expect(picker.next(for: "c") == nil)
    }

    @Test func endgameDuplicatesAChunkInFlightElsewhere() {
        var picker = picker(chunks: 2, sources: ["a": [0, 1], "b": [0, 1], "c": [0, 1]])
        #expect(picker.next(for: "a") == 0)
        #expect(picker.next(for: "b") == 1)
        // Everything is requested: `c` helps with the lowest chunk in flight.
        #expect(picker.next(for: "c") == 0)
    }

    @Test func aChunkNobodyHoldsDoesNotHoldBackTheEndgame() {
        // Chunk 2 has no holder (the fetch is starved for it), yet everything that can be requested is.
        var picker = picker(chunks: 3, sources: ["a": [0, 1], "b": [0, 1], "c": [0, 1]])
        #expect(picker.next(for: "a") == 0)
        #expect(picker.next(for: "b") == 1)
        #expect(picker.next(for: "c") == 0)
    }

    @Test func endgameNeverExceedsTheCopyLimit() {
        var picker = picker(chunks: 1, sources: ["a": [0], "b": [0], "c": [0], "d": [0]])
        picker.endgameCopies = 3
        #expect(picker.next(for: "a") == 0)
        #expect(picker.next(for: "b") == 0)
        #expect(picker.next(for: "c") == 0)
        #expect(picker.next(for: "d") == nil)
    }

    @Test func endgameNeverGivesASourceAChunkItIsAlreadyFetching() {
        var picker = picker(chunks: 2, sources: ["a": [0, 1], "b": [0, 1]])
        picker.endgameCopies = 5
        #expect(picker.next(for: "a") == 0)
        #expect(picker.next(for: "a") == 1)
        #expect(picker.next(for: "a") == nil)
        #expect(picker.next(for: "b") == 0)
        #expect(picker.next(for: "b") == 1)
        #expect(picker.next(for: "b") == nil)
    }

    @Test func endgamePrefersTheChunkWithFewestFetchers() {
        var picker = picker(chunks: 2, sources: ["a": [0, 1], "b": [0, 1], "c": [0, 1], "d": [0, 1]])
        picker.endgameCopies = 3
        #expect(picker.next(for: "a") == 0)
        #expect(picker.next(for: "b") == 1)
        #expect(picker.next(for: "c") == 0)
        #expect(picker.next(for: "d") == 1)
    }

    @Test func completingAChunkTwiceCountsOnlyTheFirstCopy() {
        var picker = picker(chunks: 2, sources: ["a": [0, 1], "b": [0, 1]])
        _ = picker.next(for: "a")
        _ = picker.next(for: "b")
        _ = picker.next(for: "b")
        let first = picker.completed(0, by: "b")
        let second = picker.completed(0, by: "a")
        #expect(first)
        #expect(!second)
        #expect(picker.have.contains(0))
    }

    @Test func completingEveryChunkCompletesTheFetch() {
        var picker = picker(chunks: 3, sources: ["a": [0, 1, 2]])
        while let chunk = picker.next(for: "a") { picker.completed(chunk, by: "a") }
        #expect(picker.isComplete)
        #expect(picker.inFlightCount == 0)
    }

    @Test func anAbandonedChunkIsFreeForAnotherSource() {
        var picker = picker(chunks: 1, sources: ["a": [0], "b": [0]])
        picker.endgameCopies = 1
        #expect(picker.next(for: "a") == 0)
        #expect(picker.next(for: "b") == nil)
        picker.abandoned(0, by: "a")
        #expect(picker.inFlightCount == 0)
        #expect(picker.next(for: "b") == 0)
    }

    @Test func abandoningOneEndgameCopyKeepsTheOtherInFlight() {
        var picker = picker(chunks: 1, sources: ["a": [0], "b": [0], "c": [0]])
        _ = picker.next(for: "a")
        _ = picker.next(for: "b")
        picker.abandoned(0, by: "a")
        #expect(picker.inFlightCount == 1)
        // One copy is still running, so the freed place goes to the next idle source as an endgame copy.
        #expect(picker.next(for: "c") == 0)
    }

    @Test func aBannedSourceIsGoneForGoodAndItsChunkIsFreed() {
        var picker = picker(chunks: 2, sources: ["bad": [0, 1], "good": [0, 1]])
        picker.endgameCopies = 1
        #expect(picker.next(for: "bad") == 0)
        #expect(picker.next(for: "good") == 1)
        picker.ban("bad", chunk: 0)
        #expect(picker.banned == ["bad"])
        #expect(!picker.sources.contains("bad"))
        picker.setAvailability(bitmap(2, [0, 1]), for: "bad")
        #expect(!picker.sources.contains("bad"))
        #expect(picker.next(for: "bad") == nil)
        #expect(picker.next(for: "good") == 0)
    }

    @Test func removingASourceRequeuesEveryChunkItHadInFlight() {
        var picker = picker(chunks: 4, sources: ["gone": [0, 1, 2, 3], "stays": [0, 1, 2, 3]])
        picker.endgameCopies = 1
        #expect(picker.next(for: "gone") == 0)
        #expect(picker.next(for: "gone") == 1)
        #expect(picker.next(for: "stays") == 2)
        picker.remove("gone")
        #expect(picker.inFlightCount == 1)
        #expect(!picker.sources.contains("gone"))
        #expect(picker.next(for: "stays") == 0)
        #expect(picker.next(for: "stays") == 1)
        #expect(picker.next(for: "stays") == 3)
    }

    @Test func aRemovedSourceMayComeBack() {
        var picker = picker(chunks: 2, sources: ["a": [0, 1]])
        picker.remove("a")
        #expect(picker.next(for: "a") == nil)
        picker.setAvailability(bitmap(2, [0, 1]), for: "a")
        #expect(picker.next(for: "a") == 0)
    }

    @Test func starvedWhenAMissingChunkHasNoHolder() {
        var picker = picker(chunks: 3, sources: ["a": [0, 1]])
        #expect(picker.isStarved)
        picker.setAvailability(bitmap(3, [2]), for: "b")
        #expect(!picker.isStarved)
        picker.remove("b")
        #expect(picker.isStarved)
    }

    @Test func notStarvedWhenTheOnlyUnheldChunkIsAlreadyHere() {
        let picker = picker(chunks: 3, have: [2], sources: ["a": [0, 1]])
        #expect(!picker.isStarved)
    }

    @Test func chunksAlreadyHeldOnResumeAreNeverHandedOut() {
        var picker = picker(chunks: 6, have: [0, 2, 3], sources: ["a": Array(0..<6), "b": Array(0..<6)])
        var given: [Int] = []
        for _ in 0..<10 {
            if let chunk = picker.next(for: "a") { given.append(chunk) }
            if let chunk = picker.next(for: "b") { given.append(chunk) }
        }
        #expect(Set(given) == [1, 4, 5])
    }

    @Test func availabilityOfAnotherChunkCountIsIgnored() {
        var picker = ChunkPicker(have: ChunkBitmap(chunkCount: 4))
        picker.setAvailability(ChunkBitmap(chunkCount: 5, full: true), for: "a")
        #expect(picker.sources.isEmpty)
        #expect(picker.next(for: "a") == nil)
    }

    @Test func aFasterSourceGetsMoreChunks() {
        var picker = picker(chunks: 40, sources: ["fast": Array(0..<40), "slow": Array(0..<40)])
        picker.endgameCopies = 1
        var counts: [String: Int] = [:]
        // Each source asks again as soon as its chunk is done; the fast one finishes three in the time of one.
        var tick = 0
        while !picker.isComplete, tick < 1000 {
            for source in tick % 3 == 0 ? ["fast", "slow"] : ["fast"] {
                guard let chunk = picker.next(for: source) else { continue }
                picker.completed(chunk, by: source)
                counts[source, default: 0] += 1
            }
            tick += 1
        }
        #expect(picker.isComplete)
        #expect(counts["fast", default: 0] >= 2 * counts["slow", default: 0])
    }

    @Test func aRunExtendsOverConsecutiveUnrequestedChunksTheSourceHolds() {
        var picker = picker(chunks: 10, sources: ["a": Array(0..<10), "b": [4]])
        // Chunk 4 is held by both, so a rarest-first pick for "a" starts at 0 and runs to the length limit.
        #expect(picker.nextRun(for: "a", maxLength: 3) == 0..<3)
        #expect(picker.nextRun(for: "b", maxLength: 3) == 4..<5)
        // "a" continues after what is in flight, and stops before chunk 4 (in flight for "b").
        #expect(picker.nextRun(for: "a", maxLength: 8) == 3..<4)
        #expect(picker.nextRun(for: "a", maxLength: 8) == 5..<10)
    }

    @Test func aRunStopsAtAChunkTheSourceDoesNotHold() {
        var picker = picker(chunks: 6, sources: ["a": [0, 1, 3, 4, 5]])
        #expect(picker.nextRun(for: "a", maxLength: 8) == 0..<2)
        #expect(picker.nextRun(for: "a", maxLength: 8) == 3..<6)
    }
}
