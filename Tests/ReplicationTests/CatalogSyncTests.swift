import ContentID
import Logging
import MediaIndex
import PeerProtocol
import PeerWire
import ServiceLifecycleTestKit
import Testing
import WireVocabulary

@testable import Replication

/// A neighbour that takes every catalog request and never answers, reporting when a request arrives and when
/// its caller gives up waiting.
private final class SilentNeighbour: CatalogSource {
    enum Event: Equatable { case asked, cancelled }

    let events: AsyncStream<Event>
    private let report: AsyncStream<Event>.Continuation

    init() {
        (events, report) = AsyncStream.makeStream()
    }

    func catalog(_ peer: PeerEndpoint, since: Int64, after: ContentID?) async throws -> CatalogDelta {
        report.yield(.asked)
        // Nothing is ever sent on this stream: the loop ends only when the task is cancelled.
        let (never, open) = AsyncStream<Never>.makeStream()
        for await _ in never {}
        open.finish()
        report.yield(.cancelled)
        throw CancellationError()
    }
}

@Suite struct CatalogSyncTests {
    @Test(.timeLimit(.minutes(1)))
    func aGracefulShutdownCancelsARunningSyncAndWaitsForIt() async throws {
        let fixture = try IndexFixture()
        let neighbour = SilentNeighbour()
        let sync = CatalogSync(catalog: fixture.catalog, client: neighbour, logger: Logger(label: "test"))
        var events = neighbour.events.makeAsyncIterator()
        await testGracefulShutdown { shutdown in
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await sync.run() }
                await sync.neighbourChanged(
                    Neighbour(peerID: "p1", name: "One", addresses: ["127.0.0.1"], port: 1, generation: 3))
                #expect(await events.next() == .asked)
                shutdown.triggerGracefulShutdown()
                // run() returns only once the sync it started has ended.
                await group.waitForAll()
            }
        }
        #expect(await events.next() == .cancelled)
        #expect(try await fixture.catalog.remoteSyncState(peerID: "p1") == nil)
    }
}
