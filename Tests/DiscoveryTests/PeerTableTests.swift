import ControlWire
import Discovery
import Foundation
import Synchronization
import Testing

/// PeerTable fed by hand-made discovery events and a fake health check: no Avahi involved.
@Suite struct PeerTableTests {
    static let me = String(repeating: "0", count: 31) + "1"
    static let alice = "a11ce000000000000000000000000001"
    static let bob = "b0b00000000000000000000000000002"

    static func resolved(_ id: String, name: String = "Alice", interface: Int32 = 2, family: IPFamily = .ipv4,
                         address: String = "10.77.0.2", port: UInt16 = 8737, gen: UInt64 = 1) -> DiscoveryEvent {
        .resolved(ResolvedService(
            instance: ServiceInstance(name: name, interfaceIndex: interface, family: family),
            hostName: "alice.local", address: address, port: port,
            txt: ["id": id, "v": "1", "port": String(port), "gen": String(gen), "name": name]))
    }

    static func removed(name: String = "Alice", interface: Int32 = 2, family: IPFamily = .ipv4) -> DiscoveryEvent {
        .removed(ServiceInstance(name: name, interfaceIndex: interface, family: family))
    }

    /// Polls the table until `condition` holds (health checks run on their own schedule).
    static func eventually(_ table: PeerTable, within seconds: Double = 5,
                           _ condition: ([PeerSnapshot]) -> Bool) async throws -> [PeerSnapshot] {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let peers = await table.snapshot()
            if condition(peers) { return peers }
            if Date() > deadline {
                Issue.record("condition not met within \(seconds) s; table: \(peers)")
                return peers
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Collects the changes stream into an array readable at any time.
    final class ChangeLog: Sendable {
        let changes = Mutex<[PeerChange]>([])
        init(_ table: PeerTable) {
            Task { for await change in table.changes { self.changes.withLock { $0.append(change) } } }
        }
        var all: [PeerChange] { changes.withLock { $0 } }
    }

    @Test func instancesWithTheSameIDOnTwoInterfacesAndBothIPVersionsMergeIntoOnePeer() async throws {
        let table = try PeerTable(configuration: .init(ownID: Self.me))
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

    @Test func aGoodbyeOverHTTPIsAcceptedOnlyFromThePeersOwnAddresses() async throws {
        let table = try PeerTable(configuration: .init(ownID: Self.me))
        await table.apply(Self.resolved(Self.alice, family: .ipv4, address: "10.77.0.2"))
        await table.apply(Self.resolved(Self.alice, family: .ipv6, address: "fe80::2%2"))
        #expect(await table.departed(id: Self.alice, from: "10.77.0.9") == false)
        #expect(await table.snapshot().count == 1)
        #expect(await table.departed(id: Self.bob, from: "10.77.0.2") == false)
        #expect(await table.departed(id: Self.alice, from: "fe80::2") == true)
        #expect(await table.snapshot().isEmpty)
    }

    @Test func ourOwnIDIsIgnored() async throws {
        let table = try PeerTable(configuration: .init(ownID: Self.me))
        await table.apply(Self.resolved(Self.me, name: "Me"))
        await table.apply(Self.resolved(Self.alice))
        #expect(await table.snapshot().map(\.id) == [Self.alice])
        #expect(await table.peer(id: Self.me) == nil)
    }

    @Test func instancesWithoutAValidIDAreIgnored() async throws {
        let table = try PeerTable(configuration: .init(ownID: Self.me))
        await table.apply(Self.resolved("not-an-id"))
        await table.apply(.resolved(ResolvedService(
            instance: ServiceInstance(name: "Printer", interfaceIndex: 2, family: .ipv4),
            hostName: "printer.local", address: "10.77.0.9", port: 631, txt: [:])))
        #expect(await table.snapshot().isEmpty)
    }

    @Test func aPeerLeavesOnlyWhenItsLastInstanceSaysGoodbye() async throws {
        let table = try PeerTable(configuration: .init(ownID: Self.me))
        let log = ChangeLog(table)
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
        try await Task.sleep(for: .milliseconds(50))
        guard case .removed(let peer, let reason)? = log.all.last else {
            Issue.record("no removal in \(log.all)")
            return
        }
        #expect(peer.id == Self.alice && reason == .goodbye)
        #expect(log.all.filter { if case .added = $0 { true } else { false } }.count == 1)
    }

    @Test func aGoodbyeForAnUnknownInstanceChangesNothing() async throws {
        let table = try PeerTable(configuration: .init(ownID: Self.me))
        await table.apply(Self.resolved(Self.alice))
        await table.apply(Self.removed(name: "Someone Else"))
        #expect(await table.snapshot().count == 1)
    }

    @Test func aGenerationChangeInTheTXTRecordUpdatesThePeer() async throws {
        let table = try PeerTable(configuration: .init(ownID: Self.me))
        let log = ChangeLog(table)
        await table.apply(Self.resolved(Self.alice, gen: 7))
        #expect(await table.peer(id: Self.alice)?.generation == 7)
        await table.apply(Self.resolved(Self.alice, gen: 7))   // the same record again: no change reported
        await table.apply(Self.resolved(Self.alice, gen: 8))
        let peer = try #require(await table.peer(id: Self.alice))
        #expect(peer.generation == 8 && peer.txt["gen"] == "8")
        try await Task.sleep(for: .milliseconds(50))
        let generations = log.all.map { change -> UInt64? in
            switch change {
            case .added(let peer), .updated(let peer): peer.generation
            case .removed: nil
            }
        }
        #expect(generations == [7, 8])
    }

    @Test func aPeerThatStopsAnsweringIsMarkedUnreachableThenDropped() async throws {
        let answers = Mutex(0)
        let table = try PeerTable(configuration: .init(
            ownID: Self.me, healthInterval: .milliseconds(50), failuresBeforeDrop: 3,
            healthCheck: { _ in
                answers.withLock { $0 += 1 }
                return .unhealthy("connection refused")
            }))
        let log = ChangeLog(table)
        await table.apply(Self.resolved(Self.alice))
        _ = try await Self.eventually(table) { $0.first?.reachable == false }
        _ = try await Self.eventually(table) { $0.isEmpty }
        try await Task.sleep(for: .milliseconds(50))
        let reasons = log.all.compactMap { change -> PeerRemovalReason? in
            if case .removed(_, let reason) = change { return reason }
            return nil
        }
        #expect(reasons == [.unreachable])
        #expect(answers.withLock { $0 } == 3)
    }

    @Test func aHealthCheckThatHangsCountsAsAFailure() async throws {
        let table = try PeerTable(configuration: .init(
            ownID: Self.me, healthInterval: .milliseconds(50), healthTimeout: .milliseconds(100),
            failuresBeforeDrop: 5,
            healthCheck: { _ in
                try? await Task.sleep(for: .seconds(30))
                return .healthy()
            }))
        await table.apply(Self.resolved(Self.alice))
        let peers = try await Self.eventually(table) { $0.first?.reachable == false }
        #expect(peers.first?.consecutiveFailures ?? 0 >= 1)
    }

    @Test func aPeerThatAnswersAgainIsReachableAgain() async throws {
        let healthy = Mutex(false)
        let table = try PeerTable(configuration: .init(
            ownID: Self.me, healthInterval: .milliseconds(50), failuresBeforeDrop: 100,
            healthCheck: { _ in healthy.withLock { $0 } ? .healthy() : .unhealthy("timeout") }))
        await table.apply(Self.resolved(Self.alice))
        _ = try await Self.eventually(table) { $0.first?.reachable == false }
        healthy.withLock { $0 = true }
        let peers = try await Self.eventually(table) { $0.first?.reachable == true }
        #expect(peers.first?.consecutiveFailures == 0)
    }

    @Test func healthChecksRunOnlyWhileThereArePeers() async throws {
        let calls = Mutex(0)
        let table = try PeerTable(configuration: .init(
            ownID: Self.me, healthInterval: .milliseconds(30),
            healthCheck: { _ in
                calls.withLock { $0 += 1 }
                return .healthy()
            }))
        try await Task.sleep(for: .milliseconds(200))
        #expect(calls.withLock { $0 } == 0)

        await table.apply(Self.resolved(Self.alice))
        try await Task.sleep(for: .milliseconds(200))
        #expect(calls.withLock { $0 } >= 2)

        await table.apply(Self.removed())
        try await Task.sleep(for: .milliseconds(100))   // a round in flight may still finish
        let settled = calls.withLock { $0 }
        try await Task.sleep(for: .milliseconds(200))
        #expect(calls.withLock { $0 } == settled)
    }

    @Test func aStaticPeerLearnsItsIDFromTheHealthCheck() async throws {
        let nas = try #require(StaticPeer("10.77.0.9:8737"))
        let checked = Mutex<[PeerSnapshot]>([])
        let table = try PeerTable(configuration: .init(
            ownID: Self.me, staticPeers: [nas], healthInterval: .seconds(60),
            healthCheck: { peer in
                checked.withLock { $0.append(peer) }
                return .healthy(PeerInfo(id: Self.bob, name: "NAS", generation: 4))
            }))
        let log = ChangeLog(table)
        // The first check runs at once, not after the (long) interval.
        let peers = try await Self.eventually(table, within: 2) { $0.first?.id != nil }
        let peer = try #require(peers.first)
        #expect(peer.id == Self.bob && peer.name == "NAS" && peer.generation == 4)
        #expect(peer.addresses == ["10.77.0.9"] && peer.port == 8737 && peer.staticEntries == [nas])
        #expect(checked.withLock { $0.first?.id } == nil)
        #expect(checked.withLock { $0.first?.addresses } == ["10.77.0.9"])
        try await Task.sleep(for: .milliseconds(50))
        guard case .added(let added)? = log.all.first else {
            Issue.record("expected an added change, got \(log.all)")
            return
        }
        #expect(added.id == Self.bob)
    }

    @Test func aStaticPeerIsListedBeforeItAnswersAndKeptWhenItDoesNot() async throws {
        let nas = try #require(StaticPeer("nas.local:8737"))
        let table = try PeerTable(configuration: .init(
            ownID: Self.me, staticPeers: [nas], healthInterval: .milliseconds(30), failuresBeforeDrop: 1,
            healthCheck: { _ in .unhealthy("no route to host") }))
        let peers = try await Self.eventually(table) { ($0.first?.consecutiveFailures ?? 0) >= 3 }
        #expect(peers.count == 1 && peers.first?.id == nil && peers.first?.reachable == false)
        #expect(peers.first?.addresses == ["nas.local"])
    }

    @Test func aStaticPeerAndTheSamePeerFoundOverMDNSAreOnePeer() async throws {
        let nas = try #require(StaticPeer("10.77.0.2:8737"))
        let table = try PeerTable(configuration: .init(
            ownID: Self.me, staticPeers: [nas], healthInterval: .seconds(60),
            healthCheck: { _ in .healthy(PeerInfo(id: Self.alice)) }))
        _ = try await Self.eventually(table) { $0.first?.id == Self.alice }
        await table.apply(Self.resolved(Self.alice, family: .ipv6, address: "fe80::2%2"))
        let peers = await table.snapshot()
        #expect(peers.count == 1)
        #expect(peers.first?.addresses == ["10.77.0.2", "fe80::2%2"])
        // The goodbye of its only instance does not remove a configured peer.
        await table.apply(Self.removed(family: .ipv6))
        #expect(await table.snapshot().map(\.id) == [Self.alice])
    }

    @Test func aStaticEntryPointingAtOurselvesIsDropped() async throws {
        let table = try PeerTable(configuration: .init(
            ownID: Self.me, staticPeers: [StaticPeer(host: "127.0.0.1", port: 8737)],
            healthCheck: { _ in .healthy(PeerInfo(id: Self.me)) }))
        _ = try await Self.eventually(table) { $0.isEmpty }
    }

    @Test func peersLostWithTheDaemonStayUntilTheRebrowseShowsWhoIsGone() async throws {
        let table = try PeerTable(configuration: .init(ownID: Self.me))
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
        let table = try PeerTable(configuration: .init(ownID: Self.me))
        await table.apply(Self.resolved(Self.alice))
        await table.apply(.daemonDown)
        await table.apply(.daemonUp)
        await table.apply(Self.resolved(Self.alice))
        await table.apply(Self.removed())
        #expect(await table.snapshot().isEmpty)
    }
}
