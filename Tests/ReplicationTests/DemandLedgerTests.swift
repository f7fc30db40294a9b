import Clocks
import Foundation
import Logging
import PeerWire
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing
import WireVocabulary

@testable import MediaIndex
@testable import Replication

private func titleID(_ number: Int) -> ContentID {
    var bytes = [UInt8](repeating: 0xD0, count: 32)
    withUnsafeBytes(of: UInt64(number).bigEndian) { bytes.replaceSubrange(24..<32, with: $0) }
    return ContentID(bytes: bytes)!
}

/// The half-life and the unix time the tests' clocks start at.
enum DemandTime {
    static let week: Duration = .seconds(7 * 86_400)
    static let start = 1_800_000_000.0
}

/// A ledger over a fresh index, on a test clock at the unix time ``DemandTime/start``, flushing every 2 minutes.
struct LedgerFixture {
    let index: IndexFixture
    let clock = TestClock()
    let ledger: DemandLedger

    init() throws {
        index = try IndexFixture()
        ledger = DemandLedger(
            catalog: index.catalog,
            configuration: DemandLedger.Configuration(
                halfLife: DemandTime.week, flushInterval: .seconds(120), servedWindow: .seconds(3600)),
            clock: clock, unixTime: DemandTime.start, logger: Logger(label: "test"))
    }
}

@Suite(.timeLimit(.minutes(1))) struct DemandLedgerTests {
    let setup: LedgerFixture
    var fixture: IndexFixture { setup.index }
    var clock: TestClock<Duration> { setup.clock }
    var ledger: DemandLedger { setup.ledger }

    init() throws {
        setup = try LedgerFixture()
    }

    /// Runs the ledger for the length of `body`, then shuts it down gracefully.
    private func running(_ body: () async throws -> Void) async throws {
        let ledger = self.ledger
        try await testGracefulShutdown { shutdown in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await ledger.run() }
                try await body()
                shutdown.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
    }

    private func demandRows() throws -> Int {
        try fixture.catalog.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM demand") ?? 0 }
    }

    @Test func eventsWaitInMemoryAndAreWrittenTogetherOnceTheFlushIntervalPasses() async throws {
        let flushes = await ledger.flushesWritten()
        try await running {
            for _ in 1...3 { await ledger.record(.play, of: titleID(1)) }
            await ledger.record(.fetch, of: titleID(1))
            await ledger.record(.play, of: titleID(2))
            await clock.advance(by: .seconds(119))
            #expect(try demandRows() == 0)
            // Past the due instant: the test clock keeps a sleep registered at its present instant waiting.
            await clock.advance(by: .seconds(2))
            var written = flushes.makeAsyncIterator()
            #expect(await written.next() == 1)
            let rows = try await fixture.catalog.localDemand().sorted { $0.id < $1.id }
            // Stored as of the flush (once the interval passed), decayed from when they were counted.
            let at = try #require(rows.first?.at)
            #expect(at >= DemandTime.start + 120 && rows.allSatisfy { $0.at == at })
            let decay = exp2(-(at - DemandTime.start) / DemandTime.week.secondsValue)
            let close = { (values: [Double], expected: [Double]) in
                values.count == expected.count && zip(values, expected).allSatisfy { abs($0 - $1 * decay) < 1e-9 }
            }
            #expect(close(rows.map(\.plays), [3, 1]) && close(rows.map(\.fetches), [1, 0]), "\(rows)")
        }
    }

    @Test func anIdleLedgerHasNoTimerAndWritesNothing() async throws {
        let flushes = await ledger.flushesWritten()
        try await running {
            #expect(await !ledger.isFlushArmed)
            await ledger.record(.play, of: titleID(1))
            #expect(await ledger.isFlushArmed)
            await clock.advance(by: .seconds(121))
            var written = flushes.makeAsyncIterator()
            #expect(await written.next() == 1)
            #expect(await !ledger.isFlushArmed)
            await clock.advance(by: .seconds(86_400))
            #expect(await ledger.flushCount == 1)
        }
    }

    @Test func aGracefulShutdownWritesWhatWaits() async throws {
        try await running {
            await ledger.record(.play, of: titleID(1))
        }
        #expect(try await fixture.catalog.localDemand().map(\.plays) == [1])
    }

    @Test func countsHalveEveryHalfLifeAndAddUpAcrossFlushes() async throws {
        await ledger.record(.play, of: titleID(1))
        await ledger.flush()
        await clock.advance(by: DemandTime.week)
        #expect(abs(try await ledger.homeDemand()[titleID(1)]!.plays - 0.5) < 1e-9)
        await ledger.record(.play, of: titleID(1))
        await ledger.flush()
        let stored = try await fixture.catalog.localDemand()
        #expect(
            stored.count == 1 && abs(stored[0].plays - 1.5) < 1e-9
                && stored[0].at == DemandTime.start + DemandTime.week.secondsValue)
    }

    @Test func requestsServedCountOncePerAskingBoxAndTitleWithinTheWindow() async throws {
        for _ in 1...5 { await ledger.recordServed(titleID(1), to: "10.0.0.2") }
        await ledger.recordServed(titleID(1), to: "10.0.0.3")
        #expect(try await ledger.homeDemand()[titleID(1)]?.served == 2)
        await clock.advance(by: .seconds(3600))
        await ledger.recordServed(titleID(1), to: "10.0.0.2")
        let served = try await ledger.homeDemand()[titleID(1)]?.served ?? 0
        #expect(served > 2.99 && served < 3)
    }

    @Test func homeDemandAddsTheNeighboursLatestDigestsDecayedToNow() async throws {
        await ledger.record(.play, of: titleID(1))
        await ledger.recordServed(titleID(1), to: "10.0.0.2")
        let digest = try DemandDigestCheck.check(
            DemandDigest(
                generation: 5,
                entries: [
                    DemandDigestEntry(id: titleID(1), value: 4, at: DemandTime.start - DemandTime.week.secondsValue),
                    DemandDigestEntry(id: titleID(2), value: 2, at: DemandTime.start),
                ]))
        try await ledger.store(digest, from: "p1", name: "One")
        let demand = try await ledger.homeDemand()
        #expect(abs(demand[titleID(1)]!.home - 3) < 1e-9 && demand[titleID(1)]!.local == 1)
        #expect(demand[titleID(2)] == TitleDemand(plays: 0, fetches: 0, served: 0, home: 2))
        // A newer digest replaces the older one instead of adding to it.
        try await ledger.store(
            try DemandDigestCheck.check(DemandDigest(generation: 6, entries: [])), from: "p1", name: "One")
        #expect(try await ledger.homeDemand()[titleID(2)] == nil)
    }

    @Test func theDigestListsTheTopTitlesByPlaysAndFetchesHere() async throws {
        for number in 1...4 {
            for _ in 0..<number { await ledger.record(.play, of: titleID(number)) }
        }
        for box in 1...9 { await ledger.recordServed(titleID(5), to: "10.0.0.\(box)") }
        await ledger.record(.fetch, of: titleID(1))
        await ledger.flush()
        let digest = try await ledger.digest(limit: 3)
        #expect(digest.entries.map(\.id) == [titleID(4), titleID(3), titleID(1)])
        #expect(digest.entries.map(\.value) == [4, 3, 2])
        #expect(digest.generation == Int64(DemandTime.start * 1000))
    }

    @Test func aNeighboursAvailabilityIsTheDecayedShareOfTheTimeItWasOnline() async throws {
        #expect(try await ledger.availability(of: "p1") == nil)
        await ledger.neighbourArrived("p1", name: "One")
        #expect(try await ledger.availability(of: "p1") == 1)
        await clock.advance(by: .seconds(3600))
        await ledger.neighbourLeft("p1", name: "One")
        await clock.advance(by: .seconds(3600))
        let share = try #require(try await ledger.availability(of: "p1"))
        #expect(abs(share - 0.5) < 0.005, "\(share)")
        await clock.advance(by: .seconds(2 * 3600))
        #expect(abs(try await ledger.availability(of: "p1")! - 0.25) < 0.005)
    }

    @Test func theTimeThisBoxWasNotRunningIsNotCountedAgainstANeighbour() async throws {
        await ledger.neighbourArrived("p1", name: "One")
        await clock.advance(by: .seconds(3600))
        await ledger.stop()
        await clock.advance(by: .seconds(10 * 3600))
        await ledger.start()
        #expect(abs(try await ledger.availability(of: "p1")! - 1) < 1e-9)
    }
}

@Suite struct DemandDigestCheckTests {
    private func entry(_ number: Int, value: Double = 1, at: Double = DemandTime.start) -> DemandDigestEntry {
        DemandDigestEntry(id: titleID(number), value: value, at: at)
    }

    @Test func aDigestOverTheEntryBoundIsRefused() {
        let entries = (0...PeerLimits.maxDemandDigestEntries).map { entry($0) }
        #expect(throws: DemandDigestProblem.tooManyEntries(entries.count)) {
            try DemandDigestCheck.check(DemandDigest(generation: 1, entries: entries))
        }
    }

    @Test func negativeOrNonFiniteValuesRefuseTheDigest() {
        for value in [-1, Double.nan, Double.infinity] {
            #expect(throws: DemandDigestProblem.badValue(position: 1)) {
                try DemandDigestCheck.check(DemandDigest(generation: 1, entries: [entry(1), entry(2, value: value)]))
            }
        }
    }

    @Test func instantsThatAreNotUnixTimesRefuseTheDigest() {
        for at in [-5, Double.nan, 1e300] {
            #expect(throws: DemandDigestProblem.badInstant(position: 0)) {
                try DemandDigestCheck.check(DemandDigest(generation: 1, entries: [entry(1, at: at)]))
            }
        }
    }

    @Test func aTitleListedTwiceOrANegativeGenerationRefuseTheDigest() {
        #expect(throws: DemandDigestProblem.duplicate(position: 1)) {
            try DemandDigestCheck.check(DemandDigest(generation: 1, entries: [entry(1), entry(1)]))
        }
        #expect(throws: DemandDigestProblem.negativeGeneration) {
            try DemandDigestCheck.check(DemandDigest(generation: -1, entries: []))
        }
    }

    @Test func hugeValuesAreCapped() throws {
        let checked = try DemandDigestCheck.check(DemandDigest(generation: 1, entries: [entry(1, value: 1e30)]))
        #expect(checked.entries.map(\.value) == [PeerLimits.maxDemandValue])
    }
}
