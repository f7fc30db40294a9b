import ContentID
import ElapsedTime
import Foundation
import PeerProtocol
import PeerWire
import Testing
import WireVocabulary

@testable import Replication

private let chunkSize = 1024

private func manifest(chunks: Int) throws -> ChunkManifest {
    try ChunkManifest(
        fileSize: Int64(chunks * chunkSize), chunkSize: chunkSize,
        packedChunkHashes: [UInt8](repeating: 0, count: chunks * 32))
}

private func holder(_ peer: String, complete: Bool = true) -> Holder {
    Holder(peerID: peer, name: "box-\(peer)", addresses: ["127.0.0.1"], port: 7000, complete: complete)
}

private func endpoint(_ peer: String) throws -> PeerEndpoint {
    try #require(holder(peer).endpoint)
}

private func bitmap(_ count: Int, _ held: some Sequence<Int>) -> ChunkBitmap {
    var map = ChunkBitmap(chunkCount: count)
    for index in held { map.insert(index) }
    return map
}

private func at(_ milliseconds: Int) -> ElapsedInstant { ElapsedInstant(.milliseconds(milliseconds)) }

private func starts(_ actions: [FetchScheduler.Action]) -> [FetchScheduler.Request] {
    actions.compactMap { if case .start(let request) = $0 { request } else { nil } }
}

private func waits(_ actions: [FetchScheduler.Action]) -> [ElapsedInstant] {
    actions.compactMap { if case .waitForHolders(let until, _, _) = $0 { until } else { nil } }
}

/// A scheduler past its first holder look-up with the manifest ready; returns the actions of that last step.
private func downloading(chunks: Int, holders: [Holder], have: [Int] = [], at now: ElapsedInstant = at(0))
    throws -> (FetchScheduler, [FetchScheduler.Action])
{
    let manifest = try manifest(chunks: chunks)
    var scheduler = FetchScheduler(id: manifest.contentID, title: "test", startedAt: Date(timeIntervalSince1970: 0))
    _ = scheduler.start(at: now)
    _ = scheduler.holdersFound(holders, at: now)
    let actions = scheduler.manifestReady(manifest, have: bitmap(chunks, have), at: now)
    return (scheduler, actions)
}

/// Verifies every chunk of `request`, one per `spacing` milliseconds from `start`.
private func deliverAll(
    _ request: FetchScheduler.Request, to scheduler: inout FetchScheduler, from start: Int = 0,
    spacing: Int = 1
) -> [Bool] {
    request.chunks.enumerated().map { step, chunk in
        scheduler.chunkVerified(chunk, of: request, bytes: Int64(chunkSize), at: at(start + step * spacing))
    }
}

@Suite struct FetchSchedulerTests {
    @Test func theHoldersAreLookedUpFirstThenTheManifestIsAskedOfThem() throws {
        let manifest = try manifest(chunks: 4)
        var scheduler = FetchScheduler(id: manifest.contentID, title: "test", startedAt: Date())
        #expect(scheduler.start(at: at(0)) == [.lookUpHolders])
        #expect(scheduler.progress.state == .locating)
        let actions = scheduler.holdersFound([holder("a"), holder("b", complete: false)], at: at(10))
        #expect(actions == [.obtainManifest(from: [try endpoint("a"), try endpoint("b")])])
    }

    @Test func eachSourceGetsThreeRequestsForRunsOfUpToSixteenChunks() throws {
        let (scheduler, actions) = try downloading(chunks: 100, holders: [holder("a")])
        let requests = starts(actions)
        #expect(requests.map(\.chunks) == [0..<16, 16..<32, 32..<48])
        #expect(requests.allSatisfy { $0.source.peerID == "a" })
        #expect(requests.first?.bytes == 0..<Int64(16 * chunkSize))
        #expect(actions.contains(.schedule(.flush, at: at(1000))))
        #expect(scheduler.progress.state == .downloading)
    }

    @Test func aFinishedRequestFreesItsSlotForTheNextRun() throws {
        var (scheduler, actions) = try downloading(chunks: 100, holders: [holder("a")])
        let first = try #require(starts(actions).first)
        #expect(deliverAll(first, to: &scheduler).allSatisfy { $0 })
        actions = scheduler.requestFinished(first, .ended, at: at(20))
        #expect(starts(actions).map(\.chunks) == [48..<64])
    }

    @Test func aPartialHolderIsAskedWhatItHasAndGivenOnlyThoseChunks() throws {
        let (start, actions) = try downloading(chunks: 8, holders: [holder("b", complete: false)])
        var scheduler = start
        #expect(actions.contains(.queryAvailability(try endpoint("b"))))
        let next = scheduler.availabilityKnown(bitmap(8, [5, 6]), of: try endpoint("b"), at: at(5))
        #expect(starts(next).map(\.chunks) == [5..<7])
    }

    @Test func theEndgameDuplicatesChunksInFlightAndCountsTheFirstCopy() throws {
        var (scheduler, actions) = try downloading(chunks: 2, holders: [holder("a")])
        let slow = try #require(starts(actions).first)
        #expect(slow.chunks == 0..<2)
        actions = scheduler.holdersFound([holder("a"), holder("b")], at: at(10))
        let duplicates = starts(actions)
        #expect(duplicates.map(\.chunks) == [0..<1, 1..<2])
        #expect(duplicates.allSatisfy { $0.source.peerID == "b" })
        for request in duplicates { _ = deliverAll(request, to: &scheduler) }
        // The slow copy of chunk 0 is discarded: the object is complete, so its stream stops.
        #expect(scheduler.chunkVerified(0, of: slow, bytes: Int64(chunkSize), at: at(30)) == false)
        #expect(scheduler.progress.chunksDone == 2)
        #expect(scheduler.progress.bytesReceived == Int64(3 * chunkSize))
    }

    @Test func aBadChunkBansItsSourceAndItsChunksGoToAnother() throws {
        var (scheduler, actions) = try downloading(chunks: 200, holders: [holder("a"), holder("b")])
        let requests = starts(actions)
        let fromA = requests.filter { $0.source.peerID == "a" }
        let fromB = requests.filter { $0.source.peerID == "b" }
        #expect(fromB.first?.chunks == 48..<64)
        scheduler.chunkRejected(48, of: fromB[0], bytes: Int64(chunkSize))
        // Its other requests stop at their next chunk (which is kept).
        #expect(scheduler.chunkVerified(64, of: fromB[1], bytes: Int64(chunkSize), at: at(2)) == false)
        #expect(starts(scheduler.requestFinished(fromB[0], .ended, at: at(3))).isEmpty)
        _ = deliverAll(fromA[0], to: &scheduler)
        actions = scheduler.requestFinished(fromA[0], .ended, at: at(30))
        #expect(starts(actions).map(\.chunks) == [48..<64])
        #expect(starts(actions).allSatisfy { $0.source.peerID == "a" })
        // Found again, the banned box is not used again for this object.
        #expect(starts(scheduler.holdersFound([holder("a"), holder("b")], at: at(40))).isEmpty)
        let b = try #require(scheduler.progress.sources.first { $0.peerID == "b" })
        #expect(b.badChunks == 1 && !b.active && b.chunks == 1)
    }

    @Test func twoTransportFailuresInARowDropASourceUntilItsPenaltyIsOver() throws {
        var (scheduler, actions) = try downloading(chunks: 100, holders: [holder("a")])
        let requests = starts(actions)
        actions = scheduler.requestFinished(requests[0], .failed("reset"), at: at(100))
        #expect(starts(actions).map(\.chunks) == [0..<16])
        actions = scheduler.requestFinished(requests[1], .failed("reset"), at: at(200))
        #expect(actions.contains(.drop(try endpoint("a"), reason: "reset")))
        #expect(actions.contains(.schedule(.penaltyOver(source: "a"), at: at(5200))))
        #expect(waits(actions) == [at(1200)])
        #expect(scheduler.progress.state == .waitingForHolders)
        // Still within its penalty: found again, it is not used.
        #expect(scheduler.timerFired(.holderRetry, at: at(1200)) == [.lookUpHolders])
        #expect(starts(scheduler.holdersFound([holder("a")], at: at(1200))).isEmpty)
        #expect(scheduler.timerFired(.penaltyOver(source: "a"), at: at(5200)) == [.lookUpHolders])
        actions = scheduler.holdersFound([holder("a")], at: at(5200))
        #expect(starts(actions).count == 3)
        #expect(scheduler.progress.state == .downloading)
        #expect(scheduler.progress.sources.first?.failures == 2)
    }

    @Test func aVerifiedChunkBetweenTwoFailuresKeepsTheSource() throws {
        var (scheduler, actions) = try downloading(chunks: 100, holders: [holder("a")])
        let requests = starts(actions)
        _ = scheduler.requestFinished(requests[0], .failed("reset"), at: at(100))
        _ = scheduler.chunkVerified(16, of: requests[1], bytes: Int64(chunkSize), at: at(150))
        actions = scheduler.requestFinished(requests[2], .failed("reset"), at: at(200))
        #expect(!actions.contains { if case .drop = $0 { true } else { false } })
        #expect(starts(actions).count == 1)
    }

    @Test func aBusyAnswerRestsThatSlotForAQuarterSecond() throws {
        var (scheduler, actions) = try downloading(chunks: 100, holders: [holder("a")])
        let requests = starts(actions)
        actions = scheduler.requestFinished(requests[0], .busy, at: at(100))
        #expect(starts(actions).isEmpty)
        #expect(actions.contains(.schedule(.slotRested(source: "a"), at: at(350))))
        #expect(waits(actions).isEmpty)
        actions = scheduler.timerFired(.slotRested(source: "a"), at: at(350))
        #expect(starts(actions).map(\.chunks) == [0..<16])
    }

    @Test func withNoHolderTheFetchLooksAgainAfter1_2_4_8_8Seconds() throws {
        let manifest = try manifest(chunks: 4)
        var scheduler = FetchScheduler(id: manifest.contentID, title: "test", startedAt: Date())
        _ = scheduler.start(at: at(0))
        var now = 0
        var retries: [Int] = []
        for _ in 0..<5 {
            #expect(scheduler.holdersFound([], at: at(now)) == [.obtainManifest(from: [])])
            let actions = scheduler.manifestUnavailable(at: at(now))
            let until = try #require(waits(actions).first)
            retries.append(Int(now.distance(to: Int(until.sinceOrigin / .milliseconds(1)))))
            #expect(scheduler.progress.state == .waitingForHolders)
            now = Int(until.sinceOrigin / .milliseconds(1))
            #expect(scheduler.timerFired(.holderRetry, at: at(now)) == [.lookUpHolders])
        }
        #expect(retries == [1000, 2000, 4000, 8000, 8000])
        #expect(scheduler.progress.message == "no reachable box holds the object")
    }

    @Test func aChunkNobodyHoldsMakesTheFetchWaitForAHolderOfIt() throws {
        var (scheduler, actions) = try downloading(chunks: 4, holders: [holder("b", complete: false)])
        actions = scheduler.availabilityKnown(bitmap(4, [0, 1]), of: try endpoint("b"), at: at(0))
        let request = try #require(starts(actions).first)
        // What the source holds is fetched meanwhile.
        #expect(waits(actions) == [at(1000)])
        _ = deliverAll(request, to: &scheduler)
        actions = scheduler.requestFinished(request, .ended, at: at(10))
        #expect(scheduler.progress.state == .waitingForHolders)
        #expect(scheduler.progress.message == "no reachable box holds the missing chunks")
        #expect(scheduler.timerFired(.holderRetry, at: at(1000)) == [.lookUpHolders])
        actions = scheduler.holdersFound([holder("b", complete: false), holder("c")], at: at(1000))
        #expect(starts(actions).map(\.chunks) == [2..<4])
        #expect(starts(actions).first?.source.peerID == "c")
    }

    @Test func theLastVerifiedChunkFinishesTheFetch() throws {
        var (scheduler, actions) = try downloading(chunks: 2, holders: [holder("a")])
        let request = try #require(starts(actions).first)
        #expect(deliverAll(request, to: &scheduler) == [true, false])
        #expect(scheduler.requestFinished(request, .ended, at: at(5)) == [.finish])
        scheduler.finished(at: Date(timeIntervalSince1970: 9))
        #expect(scheduler.progress.state == .complete)
        #expect(scheduler.progress.bytesDone == Int64(2 * chunkSize))
        #expect(scheduler.progress.finishedAt == Date(timeIntervalSince1970: 9))
    }

    @Test func aResumedFetchHoldingEveryChunkFinishesWithoutARequest() throws {
        let (scheduler, actions) = try downloading(chunks: 3, holders: [], have: [0, 1, 2])
        #expect(actions == [.finish])
        #expect(scheduler.progress.chunksResumed == 3)
    }

    @Test func theRateIsTheBytesOfTheLastThreeSeconds() throws {
        var (scheduler, actions) = try downloading(chunks: 100, holders: [holder("a")])
        var rates: [Int64] = []
        for (index, request) in starts(actions).enumerated() {
            _ = deliverAll(request, to: &scheduler, from: index * 1600, spacing: 100)
            rates.append(scheduler.progress.bytesPerSecond)
        }
        // One chunk every 100 ms: 10 chunks a second, whatever came before the window.
        #expect(rates == [Int64(10 * chunkSize), Int64(10 * chunkSize), Int64(10 * chunkSize)])
        // Twice as fast from 4.85 s to 5.6 s. The window then starts at the chunk of 2.6 s: 21 chunks followed it
        // at the first pace and 16 at the second, over 3 s.
        let next = try #require(starts(scheduler.requestFinished(starts(actions)[0], .ended, at: at(4850))).first)
        _ = deliverAll(next, to: &scheduler, from: 4850, spacing: 50)
        #expect(scheduler.progress.bytesPerSecond == Int64(37 * chunkSize) / 3)
    }

    @Test func aFlushRecordsOnlyWhenNewChunksArrivedAndStopsWhenIdle() throws {
        var (scheduler, actions) = try downloading(chunks: 2, holders: [holder("b", complete: false)])
        actions = scheduler.availabilityKnown(bitmap(2, [0]), of: try endpoint("b"), at: at(0))
        let request = try #require(starts(actions).first)
        #expect(actions.contains(.schedule(.flush, at: at(1000))))
        _ = scheduler.chunkVerified(0, of: request, bytes: Int64(chunkSize), at: at(500))
        #expect(scheduler.timerFired(.flush, at: at(1000)) == [.flush(bitmap(2, [0]))])
        #expect(scheduler.flushed(at: at(1100)) == [.schedule(.flush, at: at(2100))])
        _ = scheduler.requestFinished(request, .ended, at: at(1500))
        // Nothing in flight and nothing new (the fetch waits for a holder of chunk 1): no flush, no further timer.
        #expect(scheduler.timerFired(.flush, at: at(2100)) == [])
    }

    @Test func aChunkFromADroppedSourceIsKeptButItsStreamStops() throws {
        var (scheduler, actions) = try downloading(chunks: 100, holders: [holder("a")])
        let requests = starts(actions)
        _ = scheduler.requestFinished(requests[0], .failed("reset"), at: at(100))
        _ = scheduler.requestFinished(requests[1], .failed("reset"), at: at(200))
        #expect(scheduler.chunkVerified(32, of: requests[2], bytes: Int64(chunkSize), at: at(300)) == false)
        #expect(scheduler.progress.chunksDone == 1)
        #expect(scheduler.have?.contains(32) == true)
    }

    @Test func aHolderWhoseRequestsAllFailIsAskedAgainOnlyOncePerDropPenalty() throws {
        var (scheduler, pending) = try downloading(chunks: 64, holders: [holder("a")])
        var timers: [(at: ElapsedInstant, timer: FetchScheduler.Timer)] = []
        var now = at(0)
        var started = 0
        var steps = 0
        // Every action is carried out at once, every request fails at once, and time jumps to the next timer: a
        // fetch that spun would never get past one instant, and this loop would run out of steps.
        while now < at(60_000), steps < 10_000 {
            steps += 1
            var next: [FetchScheduler.Action] = []
            for action in pending {
                switch action {
                case .start(let request):
                    started += 1
                    next += scheduler.requestFinished(request, .failed("connection refused"), at: now)
                case .lookUpHolders: next += scheduler.holdersFound([holder("a")], at: now)
                case .schedule(let timer, let instant): timers.append((instant, timer))
                case .waitForHolders(let until, _, _): timers.append((until, .holderRetry))
                case .flush: next += scheduler.flushed(at: now)
                default: break
                }
            }
            if !next.isEmpty {
                pending = next
                continue
            }
            guard let index = timers.indices.min(by: { timers[$0].at < timers[$1].at }) else { break }
            let (instant, timer) = timers.remove(at: index)
            #expect(instant.sinceOrigin - now.sinceOrigin <= .seconds(8))
            now = instant
            pending = scheduler.timerFired(timer, at: now)
        }
        #expect(now >= at(60_000))
        // Each try of the holder: its 3 requests, and the one a failure's free slot sends, before the second
        // failure drops it for 5 s. 13 tries in 60 s at most, and it is still being tried.
        #expect(started >= 12 * 3 && started <= 13 * 4)
    }
}

/// The bytes of a run of chunks.
private func bytes(_ chunks: Range<Int>) -> Range<Int64> {
    Int64(chunks.lowerBound * chunkSize)..<Int64(chunks.upperBound * chunkSize)
}

/// A play rate of one chunk per 100 ms: the chunk under a read is due 1 s after it, each next one 100 ms later.
private let playRate = Int64(chunkSize * 10)

/// The scheduler's order while a player reads the object: its window first, then the first and last chunks, and
/// hedging when a chunk is late, all on virtual time.
@Suite struct FetchSchedulerPlaybackTests {
    @Test func aPlayersWindowIsRequestedBeforeAnyOtherChunk() throws {
        let manifest = try manifest(chunks: 100)
        var scheduler = FetchScheduler(id: manifest.contentID, title: "test", startedAt: Date())
        _ = scheduler.start(at: at(0))
        _ = scheduler.holdersFound([holder("a")], at: at(0))
        // The player asks before the manifest is known.
        #expect(starts(scheduler.want(1, bytes: bytes(50..<60), bytesPerSecond: playRate, at: at(0))).isEmpty)
        let blocked = starts(scheduler.manifestReady(manifest, have: bitmap(100, []), at: at(5)))
        #expect(blocked.map(\.chunks) == [50..<51])
        _ = deliverAll(blocked[0], to: &scheduler, from: 10)
        let window = starts(scheduler.requestFinished(blocked[0], .ended, at: at(20)))
        #expect(window.map(\.chunks) == [51..<53, 53..<55, 55..<57, 57..<59])
    }

    @Test func theChunkAPlayerIsBlockedOnIsAskedAloneAndItsSourceGetsNothingElseUntilItArrives() throws {
        var (scheduler, _) = try downloading(chunks: 100, holders: [])
        _ = scheduler.want(1, bytes: bytes(50..<60), bytesPerSecond: playRate, at: at(0))
        let requests = starts(scheduler.holdersFound([holder("a"), holder("b")], at: at(0)))
        // "a" has the blocked chunk to itself; "b" is not held back.
        #expect(requests.filter { $0.source.peerID == "a" }.map(\.chunks) == [50..<51])
        #expect(requests.filter { $0.source.peerID == "b" }.map(\.chunks) == [51..<53, 53..<55, 55..<57, 57..<59])
        // Once it arrived (its request ended), "a" gets the rest of its slots at once.
        let blocked = try #require(requests.first)
        _ = deliverAll(blocked, to: &scheduler, from: 10)
        let after = starts(scheduler.requestFinished(blocked, .ended, at: at(20)))
        #expect(after.allSatisfy { $0.source.peerID == "a" })
        #expect(after.map(\.chunks) == [59..<60, 0..<4, 98..<100])
    }

    @Test func aChunkAlreadyHeldUnderTheReadBlocksNothing() throws {
        var (scheduler, _) = try downloading(chunks: 100, holders: [], have: [50])
        _ = scheduler.want(1, bytes: bytes(50..<60), bytesPerSecond: playRate, at: at(0))
        let requests = starts(scheduler.holdersFound([holder("a")], at: at(0)))
        #expect(requests.map(\.chunks) == [51..<53, 53..<55, 55..<57, 57..<59])
    }

    @Test func theFirstAndLastChunksComeEarlyOnceAPlayerIsInterested() throws {
        var (scheduler, _) = try downloading(chunks: 100, holders: [])
        _ = scheduler.want(1, bytes: bytes(50..<52), bytesPerSecond: playRate, at: at(0))
        let blocked = starts(scheduler.holdersFound([holder("a")], at: at(0)))
        #expect(blocked.map(\.chunks) == [50..<51])
        _ = deliverAll(blocked[0], to: &scheduler, from: 10)
        let requests = starts(scheduler.requestFinished(blocked[0], .ended, at: at(20)))
        #expect(requests.map(\.chunks) == [51..<52, 0..<4, 98..<100])
    }

    @Test func aSeekMovesTheNextRequestsToTheNewWindowAtOnce() throws {
        var (scheduler, _) = try downloading(chunks: 100, holders: [])
        _ = scheduler.want(1, bytes: bytes(10..<12), bytesPerSecond: playRate, at: at(0))
        let first = starts(scheduler.holdersFound([holder("a")], at: at(0)))
        _ = deliverAll(first[0], to: &scheduler, from: 10)
        let before = starts(scheduler.requestFinished(first[0], .ended, at: at(20)))
        #expect(before.map(\.chunks) == [11..<12, 0..<4, 98..<100])
        // The seek: the extra slot asks for the chunk under the new read at once, alone.
        let seek = starts(scheduler.want(1, bytes: bytes(60..<70), bytesPerSecond: playRate, at: at(100)))
        #expect(seek.map(\.chunks) == [60..<61])
        // Until it arrives a freed slot waits; then the slots go to the new window, not to the old one's neighbours.
        _ = deliverAll(before[0], to: &scheduler, from: 200)
        #expect(starts(scheduler.requestFinished(before[0], .ended, at: at(300))).isEmpty)
        _ = deliverAll(seek[0], to: &scheduler, from: 310)
        let next = starts(scheduler.requestFinished(seek[0], .ended, at: at(320)))
        #expect(next.map(\.chunks) == [61..<63, 63..<65])
    }

    @Test func anUrgentChunkStillInFlightAtItsDeadlineIsAskedOfASecondSource() throws {
        var (scheduler, _) = try downloading(chunks: 100, holders: [])
        _ = scheduler.want(1, bytes: bytes(5..<6), bytesPerSecond: playRate, at: at(0))
        let actions = scheduler.holdersFound([holder("a"), holder("b")], at: at(0))
        let urgent = try #require(starts(actions).first)
        #expect(urgent.chunks == 5..<6 && urgent.source.peerID == "a")
        #expect(!starts(actions).dropFirst().contains { $0.chunks.contains(5) })
        // Due 1 s after the read: a timer then.
        #expect(actions.contains(.schedule(.hedge, at: at(1000))))
        let hedge = starts(scheduler.timerFired(.hedge, at: at(1000)))
        #expect(hedge.map(\.chunks) == [5..<6])
        #expect(hedge.first?.source.peerID == "b")
        // The first verified copy wins; the late one counts for nothing.
        #expect(scheduler.chunkVerified(5, of: hedge[0], bytes: Int64(chunkSize), at: at(1100)) == true)
        _ = scheduler.chunkVerified(5, of: urgent, bytes: Int64(chunkSize), at: at(1200))
        #expect(scheduler.progress.chunksDone == 1)
    }

    @Test func aPlayersChunkGoesToAnotherHolderWhenItsSourceIsDropped() throws {
        var (scheduler, _) = try downloading(chunks: 100, holders: [])
        _ = scheduler.want(1, bytes: bytes(5..<6), bytesPerSecond: playRate, at: at(0))
        let first = try #require(starts(scheduler.holdersFound([holder("a"), holder("b")], at: at(0))).first)
        #expect(first.chunks == 5..<6 && first.source.peerID == "a")
        let again = try #require(starts(scheduler.requestFinished(first, .failed("reset"), at: at(100))).first)
        #expect(again.chunks == 5..<6 && again.source.peerID == "a")
        // A second failure in a row: the holder is gone, and the chunk goes to the other one.
        let actions = scheduler.requestFinished(again, .failed("reset"), at: at(200))
        #expect(actions.contains(.drop(try endpoint("a"), reason: "reset")))
        #expect(starts(actions).first { $0.chunks == 5..<6 }?.source.peerID == "b")
    }

    @Test func urgentRequestsMayUseOneSlotBeyondASourcesThree() throws {
        var (scheduler, actions) = try downloading(chunks: 100, holders: [holder("a")])
        #expect(starts(actions).count == 3)
        let urgent = starts(scheduler.want(1, bytes: bytes(70..<72), bytesPerSecond: playRate, at: at(10)))
        #expect(urgent.map(\.chunks) == [70..<71])
        _ = deliverAll(urgent[0], to: &scheduler, from: 20)
        #expect(starts(scheduler.requestFinished(urgent[0], .ended, at: at(30))).map(\.chunks) == [71..<72])
        // One extra slot, not more: a second player waits for a slot to free.
        #expect(starts(scheduler.want(2, bytes: bytes(80..<82), bytesPerSecond: playRate, at: at(40))).isEmpty)
    }

    @Test func aPlayersChunkVerifiedAfterItsDeadlineIsCountedLateAndOneBeforeIsNot() throws {
        var (scheduler, _) = try downloading(chunks: 100, holders: [])
        // Chunk 50 is due a second after the read, chunk 51 a tenth of a second later, and none before a second
        // after the play began (its first chunk came).
        _ = scheduler.want(1, bytes: bytes(50..<53), bytesPerSecond: playRate, at: at(0))
        let blocked = starts(scheduler.holdersFound([holder("a")], at: at(0)))
        _ = scheduler.chunkVerified(50, of: blocked[0], bytes: Int64(chunkSize), at: at(100))
        let next = starts(scheduler.requestFinished(blocked[0], .ended, at: at(100)))
        _ = scheduler.chunkVerified(51, of: next[0], bytes: Int64(chunkSize), at: at(1050))
        #expect(scheduler.latePlayerChunks == 0)
        _ = scheduler.chunkVerified(52, of: next[0], bytes: Int64(chunkSize), at: at(1400))
        #expect(scheduler.latePlayerChunks == 1)
        #expect(scheduler.lastLateChunk?.chunk == 52 && scheduler.lastLateChunk?.late == .milliseconds(200))
        // A chunk no player reads is never late.
        _ = scheduler.chunkVerified(0, of: next[1], bytes: Int64(chunkSize), at: at(60_000))
        #expect(scheduler.latePlayerChunks == 1)
    }

    @Test func withoutAPlayerTheBackgroundRunsAreSixteenChunksAgain() throws {
        var (scheduler, _) = try downloading(chunks: 100, holders: [])
        _ = scheduler.want(1, bytes: bytes(50..<52), bytesPerSecond: playRate, at: at(0))
        let first = starts(scheduler.holdersFound([holder("a")], at: at(0)))
        _ = deliverAll(first[0], to: &scheduler, from: 1)
        let playing = starts(scheduler.requestFinished(first[0], .ended, at: at(2)))
        #expect(playing.map(\.chunks) == [51..<52, 0..<4, 98..<100])
        #expect(starts(scheduler.forget(stream: 1, at: at(10))).isEmpty)
        _ = deliverAll(playing[1], to: &scheduler, from: 20)
        let next = starts(scheduler.requestFinished(playing[1], .ended, at: at(30)))
        #expect(next.map(\.chunks) == [4..<20])
    }
}

/// A fetch nobody plays yields to one being played: the play gets the links its chunks come over.
@Suite struct FetchSchedulerYieldingTests {
    @Test func anUnplayedFetchStartsNoRequestWhileAnotherIsPlayedAndGoesOnAfter() throws {
        var (scheduler, first) = try downloading(chunks: 100, holders: [holder("a")])
        let running = starts(first)
        #expect(running.count == 3)
        #expect(starts(scheduler.yieldLinks(true, at: at(10))).isEmpty)
        // Its requests in flight end; their slots stay free while the other fetch is played.
        let goesOn = deliverAll(running[0], to: &scheduler, from: 20)
        #expect(!goesOn.contains(true))
        #expect(starts(scheduler.requestFinished(running[0], .ended, at: at(40))).isEmpty)
        // The play ended: the free slot asks again at once.
        #expect(starts(scheduler.yieldLinks(false, at: at(50))).map(\.chunks) == [48..<64])
    }

    @Test func aYieldingFetchStopsItsRequestsInFlightAtTheirNextChunkAndAsksForTheRestLater() throws {
        var (scheduler, first) = try downloading(chunks: 100, holders: [holder("a")])
        let running = starts(first)
        let before = scheduler.chunkVerified(running[0].chunks.lowerBound, of: running[0], bytes: 1024, at: at(5))
        #expect(before)
        _ = scheduler.yieldLinks(true, at: at(10))
        let next = running[0].chunks.lowerBound + 1
        let after = scheduler.chunkVerified(next, of: running[0], bytes: 1024, at: at(20))
        #expect(!after)
        let restarted = starts(scheduler.requestFinished(running[0], .ended, at: at(21)))
        #expect(restarted.isEmpty)
        // The chunks it did not fetch are asked for again once nothing goes first.
        let resumed = starts(scheduler.yieldLinks(false, at: at(50)))
        #expect(resumed.first?.chunks.lowerBound == next + 1, "\(resumed)")
    }

    @Test func aYieldSpellCountsTheChunksOfTheRequestsInFlightAndNoNewRequest() throws {
        var (scheduler, first) = try downloading(chunks: 100, holders: [holder("a")])
        let running = starts(first)
        #expect(scheduler.yieldSpell == nil)
        _ = scheduler.yieldLinks(true, at: at(10))
        #expect(scheduler.yieldSpell == .init(requestsInFlight: running.count))
        for (offset, request) in running.enumerated() {
            _ = scheduler.chunkVerified(request.chunks.lowerBound, of: request, bytes: 1024, at: at(20 + offset))
            _ = scheduler.requestFinished(request, .ended, at: at(30 + offset))
        }
        #expect(scheduler.yieldSpell == .init(requestsInFlight: 3, chunksVerified: 3, requestsStarted: 0))
        _ = scheduler.yieldLinks(false, at: at(50))
        #expect(scheduler.yieldSpell == nil)
    }

    @Test func aFetchThatIsPlayedItselfDoesNotYield() throws {
        var (scheduler, _) = try downloading(chunks: 100, holders: [])
        _ = scheduler.yieldLinks(true, at: at(0))
        _ = scheduler.want(1, bytes: bytes(50..<52), bytesPerSecond: playRate, at: at(0))
        let blocked = starts(scheduler.holdersFound([holder("a")], at: at(0)))
        #expect(blocked.map(\.chunks) == [50..<51])
        _ = deliverAll(blocked[0], to: &scheduler, from: 1)
        #expect(
            starts(scheduler.requestFinished(blocked[0], .ended, at: at(2))).map(\.chunks) == [
                51..<52, 0..<4, 98..<100,
            ])
        #expect(scheduler.hasPlayers)
    }
}

@Suite struct PlaybackWindowTests {
    @Test func theRateIsTheSizeOverTheDurationAndTheWindowTenSecondsOfIt() {
        // 8 GiB over 1000 s: 8.6 MB/s, so 86 MB ahead.
        let window = PlaybackWindow(size: 8 << 30, durationMilliseconds: 1_000_000)
        #expect(window.bytesPerSecond == (8 << 30) / 1000)
        #expect(window.bytes == window.bytesPerSecond * 10)
    }

    @Test func theWindowIsThirtyTwoMebibytesAtLeastAndGenerousWithoutADuration() {
        #expect(PlaybackWindow(size: 100 << 20, durationMilliseconds: 3_600_000).bytes == 32 << 20)
        let unknown = PlaybackWindow(size: 100 << 20, durationMilliseconds: nil)
        #expect(unknown.bytesPerSecond == PlaybackWindow.assumedBytesPerSecond)
    }

    @Test func aRangeToTheEndGetsOneWindowUnderItAndOneAhead() {
        let window = PlaybackWindow(size: nil, durationMilliseconds: nil)
        #expect(window.span(of: 1000...(8 << 30)) == 1000..<(1000 + 2 * window.bytes))
        #expect(window.span(of: 0...99) == 0..<(100 + window.bytes))
    }
}
