import Clocks
import ControlWire
import Discovery
import Foundation
import Synchronization
import Testing

@testable import Discovery

/// PeerTable fed by hand-made discovery events, with a scripted health check and a test clock: no Avahi involved,
/// and time passes only when a test advances it.
@Suite(.timeLimit(.minutes(1))) struct PeerTableTests {
    static let me = String(repeating: "0", count: 31) + "1"
    static let alice = "a11ce000000000000000000000000001"
    static let bob = "b0b00000000000000000000000000002"
    static let interval = Duration.seconds(10)
    static let timeout = Duration.seconds(5)

    static func resolved(
        _ id: String, name: String = "Alice", interface: Int32 = 2, family: IPFamily = .ipv4,
        address: String = "10.77.0.2", port: UInt16 = 8737, gen: UInt64 = 1
    ) -> DiscoveryEvent {
        .resolved(
            ResolvedService(
                instance: ServiceInstance(name: name, interfaceIndex: interface, family: family),
                hostName: "alice.local", address: address, port: port,
                txt: [
                    "id": id, "v": MediapeerTXT.currentProtocolVersion, "port": String(port), "gen": String(gen),
                    "name": name,
                ]))
    }

    static func removed(name: String = "Alice", interface: Int32 = 2, family: IPFamily = .ipv4) -> DiscoveryEvent {
        .removed(ServiceInstance(name: name, interfaceIndex: interface, family: family))
    }

    /// A health check that answers what the test says, and tells the test each time it is asked.
    final class ScriptedCheck: Sendable {
        let asked: AsyncStream<PeerSnapshot>
        private let continuation: AsyncStream<PeerSnapshot>.Continuation
        private let answer: Mutex<HealthResult?>

        /// `answer` nil: the check never answers (until it is cancelled).
        init(_ answer: HealthResult?) {
            (asked, continuation) = AsyncStream.makeStream()
            self.answer = Mutex(answer)
        }

        func answer(with result: HealthResult?) {
            answer.withLock { $0 = result }
        }

        var check: PeerTable.HealthCheck {
            { [self] peer in
                // Read before telling the test, so that a new answer it then gives is for the next check.
                let result = answer.withLock { $0 }
                continuation.yield(peer)
                if let result { return result }
                // Hangs like a peer that accepted the connection and went silent; ends when the table cancels it.
                let (silence, _) = AsyncStream<Never>.makeStream()
                for await _ in silence {}
                return .healthy()
            }
        }
    }

    static func table(
        _ clock: TestClock<Duration>, _ check: ScriptedCheck? = nil, staticPeers: [StaticPeer] = [],
        failuresBeforeDrop: Int = 3
    ) throws -> PeerTable {
        try PeerTable(
            configuration: .init(
                ownID: me, staticPeers: staticPeers, healthInterval: interval, healthTimeout: timeout,
                failuresBeforeDrop: failuresBeforeDrop, healthCheck: check?.check),
            clock: clock)
    }

    /// Lets `duration` and a moment more pass, so that a timer due exactly at its end goes off whether it started
    /// sleeping before the clock moved or after.
    static func pass(_ duration: Duration, on clock: TestClock<Duration>) async {
        await clock.advance(by: duration + .milliseconds(1))
    }

    // MARK: - Merging

    @Test func instancesWithTheSameIDOnTwoInterfacesAndBothIPVersionsMergeIntoOnePeer() async throws {
        let table = try Self.table(TestClock())
        await table.apply(Self.resolved(Self.alice, interface: 2, family: .ipv4, address: "10.77.0.2"))
        await table.apply(Self.resolved(Self.alice, interface: 2, family: .ipv6, address: "fe80::2%2"))
        await table.apply(Self.resolved(Self.alice, interface: 3, family: .ipv6, address: "fd00::2"))
        await table.apply(Self.resolved(Self.alice, interface: 3, family: .ipv4, address: "192.168.1.2"))

        let peers = await table.snapshot()
        #expect(peers.count == 1)
        let peer = try #require(peers.first)
        #expect(peer.id == Self.alice)
        #expect(peer.addresses == ["10.77.0.2", "192.168.1.2", "fd00::2", "fe80::2%2"])
        #expect(peer.instances.count == 4)
        #expect(peer.name == "Alice" && peer.port == 8737 && peer.hostName == "alice.local")
        #expect(peer.reachable)
    }

    @Test func ourOwnIDIsIgnored() async throws {
        let table = try Self.table(TestClock())
        await table.apply(Self.resolved(Self.me, name: "Me"))
        await table.apply(Self.resolved(Self.alice))
        #expect(await table.snapshot().map(\.id) == [Self.alice])
        #expect(await table.peer(id: Self.me) == nil)
    }

    @Test func instancesWithoutAValidIDAreIgnored() async throws {
        let table = try Self.table(TestClock())
        await table.apply(Self.resolved("not-an-id"))
        await table.apply(
            .resolved(
                ResolvedService(
                    instance: ServiceInstance(name: "Printer", interfaceIndex: 2, family: .ipv4),
                    hostName: "printer.local", address: "10.77.0.9", port: 631, txt: [:])))
        #expect(await table.snapshot().isEmpty)
    }

    @Test func aPeerLeavesOnlyWhenItsLastInstanceSaysGoodbye() async throws {
        let table = try Self.table(TestClock())
        var changes = table.changes.makeAsyncIterator()
        await table.apply(Self.resolved(Self.alice, family: .ipv4, address: "10.77.0.2"))
        await table.apply(Self.resolved(Self.alice, family: .ipv6, address: "fe80::2%2"))
        await table.apply(Self.resolved(Self.alice, name: "Alice #2", family: .ipv4, address: "10.77.0.2"))
        await table.apply(Self.removed(family: .ipv4))
        await table.apply(Self.removed(family: .ipv6))
        let afterTwo = try #require(await table.peer(id: Self.alice))
        #expect(afterTwo.instances.map(\.name) == ["Alice #2"])
        #expect(afterTwo.addresses == ["10.77.0.2"])

        await table.apply(Self.removed(name: "Alice #2", family: .ipv4))
        #expect(await table.snapshot().isEmpty)
        guard case .added = await changes.next() else {
            Issue.record("the first change is not the arrival")
            return
        }
        for _ in 0..<4 {
            guard case .updated = await changes.next() else {
                Issue.record("an instance coming or going is not an update")
                return
            }
        }
        guard case .removed(let peer, let reason)? = await changes.next() else {
            Issue.record("no removal")
            return
        }
        #expect(peer.id == Self.alice && reason == .goodbye)
    }

    @Test func aGoodbyeForAnUnknownInstanceChangesNothing() async throws {
        let table = try Self.table(TestClock())
        await table.apply(Self.resolved(Self.alice))
        await table.apply(Self.removed(name: "Someone Else"))
        #expect(await table.snapshot().count == 1)
    }

    @Test func aGenerationChangeInTheTXTRecordUpdatesThePeerAndTheSameRecordAgainDoesNot() async throws {
        let table = try Self.table(TestClock())
        var changes = table.changes.makeAsyncIterator()
        await table.apply(Self.resolved(Self.alice, gen: 7))
        await table.apply(Self.resolved(Self.alice, gen: 7))
        await table.apply(Self.resolved(Self.alice, gen: 8))
        let peer = try #require(await table.peer(id: Self.alice))
        #expect(peer.generation == 8 && peer.txt["gen"] == "8")
        guard case .added(let added)? = await changes.next(), case .updated(let updated)? = await changes.next() else {
            Issue.record("expected an arrival then an update")
            return
        }
        #expect(added.generation == 7 && updated.generation == 8)
    }

    // MARK: - Goodbyes over HTTP

    @Test func aGoodbyeOverHTTPIsAcceptedOnlyFromThePeersOwnAddresses() async throws {
        let table = try Self.table(TestClock())
        await table.apply(Self.resolved(Self.alice, family: .ipv4, address: "10.77.0.2"))
        await table.apply(Self.resolved(Self.alice, family: .ipv6, address: "fe80::2%2"))
        #expect(await table.departed(id: Self.alice, from: "10.77.0.9") == false)
        #expect(await table.snapshot().count == 1)
        #expect(await table.departed(id: Self.bob, from: "10.77.0.2") == false)
        #expect(await table.departed(id: Self.alice, from: "fe80::2") == true)
        #expect(await table.snapshot().isEmpty)
    }

    @Test func aGoodbyeOverHTTPLeavesAStaticPeerListedAsUnreachable() async throws {
        let check = ScriptedCheck(.healthy(id: Self.alice))
        let table = try Self.table(TestClock(), check, staticPeers: [StaticPeer(host: "10.77.0.2", port: 8737)])
        var changes = table.changes.makeAsyncIterator()
        guard case .added = await changes.next() else {
            Issue.record("the static peer was not identified")
            return
        }
        #expect(await table.departed(id: Self.alice, from: "10.77.0.2") == false)
        let peer = try #require(await table.peer(id: Self.alice))
        #expect(!peer.reachable)
    }

    // MARK: - Health checks

    @Test func anEmptyTableArmsNoTimer() async throws {
        let clock = TestClock()
        let table = try Self.table(clock, ScriptedCheck(.healthy()))
        #expect(await table.awaitsNextRound == false)
        try await clock.checkSuspension()
    }

    @Test func theFirstPeerIsCheckedOneIntervalAfterItArrives() async throws {
        let clock = TestClock()
        let check = ScriptedCheck(.healthy())
        var asked = check.asked.makeAsyncIterator()
        let table = try Self.table(clock, check)
        await table.apply(Self.resolved(Self.alice))
        #expect(await table.awaitsNextRound)
        await Self.pass(Self.interval, on: clock)
        #expect(await asked.next()?.id == Self.alice)
    }

    @Test func theLastPeerLeavingDisarmsTheTimer() async throws {
        let table = try Self.table(TestClock(), ScriptedCheck(.healthy()))
        await table.apply(Self.resolved(Self.alice))
        await table.apply(Self.removed())
        #expect(await table.awaitsNextRound == false)
    }

    @Test func checksGoOnEveryIntervalWhilePeersRemain() async throws {
        let clock = TestClock()
        let check = ScriptedCheck(.healthy())
        var asked = check.asked.makeAsyncIterator()
        let table = try Self.table(clock, check)
        await table.apply(Self.resolved(Self.alice))
        for _ in 0..<3 {
            await Self.pass(Self.interval, on: clock)
            #expect(await asked.next()?.id == Self.alice)
        }
    }

    @Test func aPeerIsMarkedUnreachableAtItsFirstFailedCheck() async throws {
        let clock = TestClock()
        let table = try Self.table(clock, ScriptedCheck(.unhealthy("connection refused")))
        var changes = table.changes.makeAsyncIterator()
        await table.apply(Self.resolved(Self.alice))
        _ = await changes.next()
        await Self.pass(Self.interval, on: clock)
        guard case .updated(let peer)? = await changes.next() else {
            Issue.record("no update")
            return
        }
        #expect(!peer.reachable && peer.consecutiveFailures == 1)
    }

    @Test func aPeerFailingFailuresBeforeDropChecksInARowIsDropped() async throws {
        let clock = TestClock()
        let table = try Self.table(clock, ScriptedCheck(.unhealthy("connection refused")), failuresBeforeDrop: 3)
        var changes = table.changes.makeAsyncIterator()
        await table.apply(Self.resolved(Self.alice))
        _ = await changes.next()
        for failures in 1...2 {
            await Self.pass(Self.interval, on: clock)
            guard case .updated(let peer)? = await changes.next() else {
                Issue.record("no update")
                return
            }
            #expect(peer.consecutiveFailures == failures)
        }
        await Self.pass(Self.interval, on: clock)
        guard case .removed(let peer, let reason)? = await changes.next() else {
            Issue.record("no removal")
            return
        }
        #expect(peer.id == Self.alice && reason == .unreachable)
        #expect(await table.snapshot().isEmpty)
    }

    @Test func aCheckWithoutAnAnswerWithinTheTimeoutCountsAsAFailure() async throws {
        let clock = TestClock()
        let check = ScriptedCheck(nil)
        var asked = check.asked.makeAsyncIterator()
        let table = try Self.table(clock, check)
        var changes = table.changes.makeAsyncIterator()
        await table.apply(Self.resolved(Self.alice))
        _ = await changes.next()
        await Self.pass(Self.interval, on: clock)
        _ = await asked.next()
        await Self.pass(Self.timeout, on: clock)
        guard case .updated(let peer)? = await changes.next() else {
            Issue.record("no update")
            return
        }
        #expect(!peer.reachable && peer.consecutiveFailures == 1)
    }

    @Test func aPeerThatAnswersAgainIsReachableAgain() async throws {
        let clock = TestClock()
        let check = ScriptedCheck(.unhealthy("timeout"))
        let table = try Self.table(clock, check, failuresBeforeDrop: 100)
        var changes = table.changes.makeAsyncIterator()
        await table.apply(Self.resolved(Self.alice))
        _ = await changes.next()
        await Self.pass(Self.interval, on: clock)
        guard case .updated(let down)? = await changes.next(), !down.reachable else {
            Issue.record("not down")
            return
        }
        check.answer(with: .healthy())
        await Self.pass(Self.interval, on: clock)
        guard case .updated(let up)? = await changes.next() else {
            Issue.record("no update")
            return
        }
        #expect(up.reachable && up.consecutiveFailures == 0)
    }

    // MARK: - Static peers

    @Test func aStaticPeerIsCheckedAtOnceAndLearnsItsID() async throws {
        let nas = StaticPeer(host: "10.77.0.9", port: 8737)
        let check = ScriptedCheck(.healthy(id: Self.bob, name: "NAS", generation: 4))
        var asked = check.asked.makeAsyncIterator()
        let table = try Self.table(TestClock(), check, staticPeers: [nas])
        var changes = table.changes.makeAsyncIterator()
        // No time passes: the first check does not wait for the interval.
        let checked = try #require(await asked.next())
        #expect(checked.id == nil && checked.addresses == ["10.77.0.9"])
        guard case .added(let peer)? = await changes.next() else {
            Issue.record("no arrival")
            return
        }
        #expect(peer.id == Self.bob && peer.name == "NAS" && peer.generation == 4)
        #expect(peer.addresses == ["10.77.0.9"] && peer.port == 8737 && peer.staticEntries == [nas])
    }

    @Test func aStaticPeerIsListedBeforeItAnswers() async throws {
        let check = ScriptedCheck(nil)
        var asked = check.asked.makeAsyncIterator()
        let table = try Self.table(TestClock(), check, staticPeers: [StaticPeer(host: "nas.local", port: 8737)])
        _ = await asked.next()
        let peers = await table.snapshot()
        #expect(peers.count == 1 && peers.first?.id == nil && peers.first?.reachable == false)
        #expect(peers.first?.addresses == ["nas.local"] && peers.first?.port == 8737)
    }

    @Test func aStaticPeerIsKeptHoweverManyChecksItFails() async throws {
        let clock = TestClock()
        let check = ScriptedCheck(.unhealthy("no route to host"))
        var asked = check.asked.makeAsyncIterator()
        let table = try Self.table(
            clock, check, staticPeers: [StaticPeer(host: "nas.local", port: 8737)],
            failuresBeforeDrop: 1)
        for _ in 0..<2 {
            _ = await asked.next()
            await Self.pass(Self.interval, on: clock)
        }
        _ = await asked.next()
        // The fourth round starts only once the third has been recorded; it never answers.
        check.answer(with: nil)
        await Self.pass(Self.interval, on: clock)
        _ = await asked.next()
        let peers = await table.snapshot()
        #expect(peers.count == 1 && peers.first?.id == nil && peers.first?.reachable == false)
        #expect(peers.first?.consecutiveFailures == 3)
    }

    @Test func aStaticPeerAndTheSamePeerFoundOverMDNSAreOnePeer() async throws {
        let check = ScriptedCheck(.healthy(id: Self.alice))
        let table = try Self.table(TestClock(), check, staticPeers: [StaticPeer(host: "10.77.0.2", port: 8737)])
        var changes = table.changes.makeAsyncIterator()
        _ = await changes.next()
        // Announced where the static entry answers: the same endpoint, so not a claim from elsewhere.
        await table.apply(Self.resolved(Self.alice, address: "10.77.0.2"))
        let peers = await table.snapshot()
        #expect(peers.count == 1)
        #expect(peers.first?.addresses == ["10.77.0.2"] && peers.first?.instances.count == 1)
    }

    @Test func theGoodbyeOfAStaticPeersLastInstanceDoesNotRemoveIt() async throws {
        let check = ScriptedCheck(.healthy(id: Self.alice))
        let table = try Self.table(TestClock(), check, staticPeers: [StaticPeer(host: "10.77.0.2", port: 8737)])
        var changes = table.changes.makeAsyncIterator()
        _ = await changes.next()
        await table.apply(Self.resolved(Self.alice, address: "10.77.0.2"))
        #expect(await table.snapshot().first?.instances.count == 1)
        await table.apply(Self.removed())
        #expect(await table.snapshot().map(\.id) == [Self.alice])
    }

    // MARK: - avahi-daemon restarts

    @Test func peersLostWithTheDaemonStayUntilTheRebrowseShowsWhoIsGone() async throws {
        let table = try Self.table(TestClock())
        await table.apply(.daemonUp)
        await table.apply(Self.resolved(Self.alice, address: "10.77.0.2"))
        await table.apply(Self.resolved(Self.bob, name: "Bob", address: "10.77.0.3"))
        await table.apply(.browseSettled)

        await table.apply(.daemonDown)
        let during = await table.snapshot()
        #expect(during.count == 2 && during.allSatisfy { $0.instances.isEmpty && $0.addresses.count == 1 })

        await table.apply(.daemonUp)
        await table.apply(Self.resolved(Self.bob, name: "Bob", address: "10.77.0.3"))
        await table.apply(.browseSettled)
        #expect(await table.snapshot().map(\.id) == [Self.bob])
    }

    @Test func aGoodbyeAfterADaemonRestartStillRemovesThePeer() async throws {
        let table = try Self.table(TestClock())
        await table.apply(Self.resolved(Self.alice))
        await table.apply(.daemonDown)
        await table.apply(.daemonUp)
        await table.apply(Self.resolved(Self.alice))
        await table.apply(Self.removed())
        #expect(await table.snapshot().isEmpty)
    }
}
