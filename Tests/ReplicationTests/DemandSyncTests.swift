import Clocks
import Foundation
import Logging
import PeerProtocol
import PeerWire
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing
import WireVocabulary

@testable import MediaIndex
@testable import Replication

/// A neighbour's `/v1/demand`, answering from a script and counting the requests.
private final class ScriptedDemandSource: DemandSource {
    private let answer: @Sendable () throws -> DemandDigest
    private let count = Mutex(0)

    init(_ answer: @escaping @Sendable () throws -> DemandDigest) {
        self.answer = answer
    }

    var requests: Int { count.withLock { $0 } }

    func demand(_ peer: PeerEndpoint) async throws -> DemandDigest {
        count.withLock { $0 += 1 }
        return try answer()
    }
}

private let one = PeerEndpoint(peerID: "p1", name: "One", host: "127.0.0.1", port: 8737)!
private let film = ContentID(bytes: [UInt8](repeating: 0xF1, count: 32))!

/// Pulling the neighbours' digests, on the ledger's fixture.
extension DemandLedgerTests {
    /// Runs a sync from `source` for the length of `body`, which gets the announcements' outcomes.
    private func syncing(
        _ source: ScriptedDemandSource,
        _ body: (DemandSync, inout AsyncStream<(String, DemandSync.PullOutcome)>.Iterator) async throws -> Void
    ) async throws {
        let sync = DemandSync(
            ledger: ledger, catalog: fixture.catalog, source: source, clock: clock, logger: Logger(label: "test"))
        var outcomes = await sync.outcomes().makeAsyncIterator()
        try await testGracefulShutdown { shutdown in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await sync.run() }
                try await body(sync, &outcomes)
                shutdown.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
    }

    @Test func aDigestIsPulledWhenTheGenerationMovesAndNotAgainWhileItStays() async throws {
        let source = ScriptedDemandSource {
            DemandDigest(generation: 5, entries: [DemandDigestEntry(id: film, value: 3, at: DemandTime.start)])
        }
        try await syncing(source) { sync, outcomes in
            sync.announced(one, demandGeneration: 5)
            try #expect(#require(await outcomes.next()) == ("p1", .stored))
            sync.announced(one, demandGeneration: 5)
            try #expect(#require(await outcomes.next()) == ("p1", .unchanged))
            #expect(source.requests == 1)
            let demand = try await ledger.homeDemand()
            #expect(demand[film]?.home == 3)
        }
    }

    @Test func aBoxWithoutTheRouteHasNoFiguresAndIsNotAskedAgainForTheSameGeneration() async throws {
        let source = ScriptedDemandSource { throw PeerClientError.notFound(peer: "One") }
        try await syncing(source) { sync, outcomes in
            sync.announced(one, demandGeneration: 2)
            try #expect(#require(await outcomes.next()) == ("p1", .noRoute))
            sync.announced(one, demandGeneration: 2)
            try #expect(#require(await outcomes.next()) == ("p1", .unchanged))
            #expect(source.requests == 1)
            let demand = try await ledger.homeDemand()
            #expect(demand.isEmpty)
        }
    }

    @Test func aGarbageDigestIsNotStoredAndNotAskedForAgainBeforeTheRetryDelay() async throws {
        let source = ScriptedDemandSource {
            DemandDigest(generation: 5, entries: [DemandDigestEntry(id: film, value: -3, at: DemandTime.start)])
        }
        try await syncing(source) { sync, outcomes in
            sync.announced(one, demandGeneration: 5)
            try #expect(#require(await outcomes.next()) == ("p1", .failed))
            sync.announced(one, demandGeneration: 6)
            try #expect(#require(await outcomes.next()) == ("p1", .skipped))
            await clock.advance(by: PeerLimits.demandRetryDelay)
            sync.announced(one, demandGeneration: 6)
            try #expect(#require(await outcomes.next()) == ("p1", .failed))
            #expect(source.requests == 2)
            let stored = try await fixture.catalog.remoteDemand()
            #expect(stored.isEmpty)
        }
    }

    @Test func aNeighbourWithoutADemandGenerationIsNeverAsked() async throws {
        let source = ScriptedDemandSource { DemandDigest(generation: 1, entries: []) }
        try await syncing(source) { sync, outcomes in
            sync.announced(one, demandGeneration: nil)
            sync.announced(one, demandGeneration: 1)
            // The first announcement to have an outcome is the one with a generation.
            try #expect(#require(await outcomes.next()) == ("p1", .stored))
            #expect(source.requests == 1)
        }
    }
}
