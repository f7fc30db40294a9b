import ControlWire
import Foundation
import PeerWire
import Testing

@testable import Discovery

/// The peer table's rules on hand-built instants: events in, actions out, no clock and no tasks.
@Suite struct PeerTableStateTests {
    typealias Action = PeerTableState.Action
    static let me = String(repeating: "0", count: 31) + "1"
    static let alice = "a11ce000000000000000000000000001"
    static let bob = "b0b00000000000000000000000000002"
    static let origin = Date(timeIntervalSince1970: 1_700_000_000)
    static let nas = StaticPeer(host: "10.77.0.9", port: 8737)

    static func state(
        checksHealth: Bool = true, staticPeers: [StaticPeer] = [],
        failuresBeforeDrop: Int = 3
    ) -> PeerTableState {
        PeerTableState(
            settings: .init(
                ownID: me, healthInterval: .seconds(10), healthTimeout: .seconds(5),
                failuresBeforeDrop: failuresBeforeDrop, checksHealth: checksHealth),
            staticPeers: staticPeers, origin: origin)
    }

    static func resolved(
        _ id: String, name: String = "Alice", address: String = "10.77.0.2", port: UInt16 = 8737,
        txtName: String? = nil, hostName: String? = nil, family: IPFamily = .ipv4, version: String? = nil
    ) -> DiscoveryEvent {
        var txt = ["id": id, "name": txtName ?? name]
        txt[MediapeerTXT.protocolVersion] = version
        return .resolved(
            ResolvedService(
                instance: ServiceInstance(name: name, interfaceIndex: 2, family: family),
                hostName: hostName ?? name.lowercased() + ".local",
                address: address, port: port, txt: txt))
    }

    /// `state` with Alice announced and confirmed by a check at 10 s.
    static func confirmedAlice() throws -> PeerTableState {
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        let round = try #require(Self.checks(in: state.timerFired(at: .seconds(10))))
        _ = state.healthChecked(.id(Self.alice), round: round.round, .healthy(id: Self.alice), at: .seconds(11))
        return state
    }

    static func removed(name: String = "Alice") -> DiscoveryEvent {
        .removed(ServiceInstance(name: name, interfaceIndex: 2, family: .ipv4))
    }

    /// The round and the keys of the checks among `actions`, if any.
    static func checks(in actions: [Action]) -> (round: UInt64, keys: [PeerTableState.Key], deadline: Duration)? {
        for case .checkHealth(let round, let targets, let deadline) in actions {
            return (round, targets.map(\.key), deadline)
        }
        return nil
    }

    static func changes(in actions: [Action]) -> [PeerChange] {
        actions.compactMap { if case .emit(let change) = $0 { change } else { nil } }
    }

    // MARK: - The timer

    @Test func theFirstPeerArmsTheTimerOneIntervalAfterItArrives() {
        var state = Self.state()
        let actions = state.apply(Self.resolved(Self.alice), at: .seconds(3))
        #expect(actions.contains(.scheduleHealthCheck(at: .seconds(13))))
        #expect(state.nextCheck == .seconds(13))
    }

    @Test func aSecondPeerLeavesTheTimerAsItIs() {
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice), at: .seconds(3))
        let actions = state.apply(Self.resolved(Self.bob, name: "Bob"), at: .seconds(5))
        #expect(!actions.contains { if case .scheduleHealthCheck = $0 { true } else { false } })
        #expect(state.nextCheck == .seconds(13))
    }

    @Test func theLastPeerLeavingCancelsTheTimer() {
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        let actions = state.apply(Self.removed(), at: .seconds(1))
        #expect(actions.contains(.cancelHealthCheck))
        #expect(state.nextCheck == nil)
    }

    @Test func withoutAHealthCheckNoTimerIsArmed() {
        var state = Self.state(checksHealth: false)
        let actions = state.apply(Self.resolved(Self.alice), at: .zero)
        #expect(actions.allSatisfy { if case .emit = $0 { true } else { false } })
    }

    @Test func theTimerChecksEveryPeerWithADeadlineOneTimeoutLater() throws {
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        _ = state.apply(Self.resolved(Self.bob, name: "Bob", address: "10.77.0.3"), at: .zero)
        let round = try #require(Self.checks(in: state.timerFired(at: .seconds(10))))
        #expect(round.keys == [.id(Self.alice), .id(Self.bob)])
        #expect(round.deadline == .seconds(15))
        #expect(state.nextCheck == nil)
    }

    @Test func aTimerGoingOffBeforeItIsDueDoesNothing() {
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        #expect(state.timerFired(at: .seconds(9)).isEmpty)
    }

    @Test func aCancelledTimerGoingOffAnywayDoesNothing() {
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        _ = state.apply(Self.removed(), at: .seconds(1))
        #expect(state.timerFired(at: .seconds(10)).isEmpty)
    }

    @Test func theNextRoundIsDueAnIntervalAfterThisOneStartedOnceAllHaveAnswered() throws {
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        _ = state.apply(Self.resolved(Self.bob, name: "Bob", address: "10.77.0.3"), at: .zero)
        let round = try #require(Self.checks(in: state.timerFired(at: .seconds(10))))
        let first = state.healthChecked(.id(Self.alice), round: round.round, .healthy(), at: .seconds(11))
        #expect(!first.contains { if case .scheduleHealthCheck = $0 { true } else { false } })
        let last = state.healthChecked(.id(Self.bob), round: round.round, .healthy(), at: .seconds(12))
        #expect(last.contains(.scheduleHealthCheck(at: .seconds(20))))
    }

    @Test func aRoundLongerThanTheIntervalIsFollowedAtOnce() throws {
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        let round = try #require(Self.checks(in: state.timerFired(at: .seconds(10))))
        let actions = state.healthChecked(.id(Self.alice), round: round.round, .unhealthy("slow"), at: .seconds(25))
        #expect(actions.contains(.scheduleHealthCheck(at: .seconds(20))))
        #expect(Self.checks(in: state.timerFired(at: .seconds(25))) != nil)
    }

    @Test func aPeerArrivingInAnEmptiedTableWaitsAWholeInterval() throws {
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        let round = try #require(Self.checks(in: state.timerFired(at: .seconds(10))))
        _ = state.apply(Self.removed(), at: .seconds(11))
        _ = state.healthChecked(.id(Self.alice), round: round.round, .healthy(), at: .seconds(12))
        let actions = state.apply(Self.resolved(Self.bob, name: "Bob"), at: .seconds(40))
        #expect(actions.contains(.scheduleHealthCheck(at: .seconds(50))))
    }

    // MARK: - Answers

    @Test func onlyTheFirstReportOfACheckCounts() throws {
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        let round = try #require(Self.checks(in: state.timerFired(at: .seconds(10))))
        _ = state.healthChecked(.id(Self.alice), round: round.round, .healthy(), at: .seconds(11))
        // The deadline's report, after the answer.
        #expect(state.healthChecked(.id(Self.alice), round: round.round, .unhealthy("late"), at: .seconds(15)).isEmpty)
        #expect(state.peer(id: Self.alice)?.reachable == true)
    }

    @Test func anAnswerToAnEarlierRoundIsIgnored() throws {
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        let first = try #require(Self.checks(in: state.timerFired(at: .seconds(10))))
        _ = state.healthChecked(.id(Self.alice), round: first.round, .healthy(), at: .seconds(11))
        let second = try #require(Self.checks(in: state.timerFired(at: .seconds(20))))
        #expect(second.round != first.round)
        #expect(state.healthChecked(.id(Self.alice), round: first.round, .unhealthy("old"), at: .seconds(21)).isEmpty)
        #expect(state.peer(id: Self.alice)?.consecutiveFailures == 0)
    }

    @Test func theFirstFailureMarksThePeerUnreachableAndIsNoted() throws {
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        let round = try #require(Self.checks(in: state.timerFired(at: .seconds(10))))
        let actions = state.healthChecked(.id(Self.alice), round: round.round, .unhealthy("refused"), at: .seconds(11))
        #expect(actions.contains(.note(.stoppedAnswering(peer: "Alice", reason: "refused"))))
        guard case .updated(let peer)? = Self.changes(in: actions).first else {
            Issue.record("no update")
            return
        }
        #expect(!peer.reachable && peer.consecutiveFailures == 1)
    }

    @Test func failuresBeforeDropFailuresInARowDropThePeer() throws {
        var state = Self.state(failuresBeforeDrop: 2)
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        var actions: [Action] = []
        for second in [10, 20] {
            let round = try #require(Self.checks(in: state.timerFired(at: .seconds(second))))
            actions = state.healthChecked(.id(Self.alice), round: round.round, .unhealthy("x"), at: .seconds(second))
        }
        guard case .removed(let peer, let reason)? = Self.changes(in: actions).last else {
            Issue.record("no removal in \(actions)")
            return
        }
        #expect(peer.id == Self.alice && reason == .unreachable)
        // Its instance still announces it, so it is checked again in a later round.
        #expect(!actions.contains(.cancelHealthCheck) && state.nextCheck == .seconds(30))
    }

    @Test func aHealthyAnswerSetsLastSeenToItsInstant() throws {
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        let round = try #require(Self.checks(in: state.timerFired(at: .seconds(10))))
        _ = state.healthChecked(.id(Self.alice), round: round.round, .healthy(), at: .milliseconds(10_500))
        let peer = try #require(state.peer(id: Self.alice))
        #expect(peer.firstSeen == Self.origin)
        #expect(peer.lastSeen == Self.origin.addingTimeInterval(10.5))
    }

    // MARK: - Static peers

    @Test func staticPeersAreCheckedAtStart() throws {
        var state = Self.state(staticPeers: [Self.nas])
        let round = try #require(Self.checks(in: state.start(at: .zero)))
        #expect(round.keys == [.unidentified(Self.nas)])
        #expect(round.deadline == .seconds(5))
    }

    @Test func withoutStaticPeersStartDoesNothing() {
        var state = Self.state()
        #expect(state.start(at: .zero).isEmpty)
    }

    @Test func aStaticPeerAnsweringWithAnIDIsAddedUnderIt() throws {
        var state = Self.state(staticPeers: [Self.nas])
        let round = try #require(Self.checks(in: state.start(at: .zero)))
        let actions = state.healthChecked(
            .unidentified(Self.nas), round: round.round,
            .healthy(id: Self.bob, name: "NAS", generation: 4), at: .seconds(1))
        #expect(actions.contains(.note(.identified(entries: [Self.nas], id: Self.bob))))
        guard case .added(let peer)? = Self.changes(in: actions).first else {
            Issue.record("no arrival")
            return
        }
        #expect(peer.id == Self.bob && peer.name == "NAS" && peer.generation == 4 && peer.staticEntries == [Self.nas])
        #expect(actions.contains(.scheduleHealthCheck(at: .seconds(10))))
    }

    @Test func aStaticPeerIsNeverDroppedForFailing() throws {
        var state = Self.state(staticPeers: [Self.nas], failuresBeforeDrop: 1)
        let round = try #require(Self.checks(in: state.start(at: .zero)))
        _ = state.healthChecked(.unidentified(Self.nas), round: round.round, .unhealthy("x"), at: .seconds(1))
        #expect(state.snapshot.map(\.consecutiveFailures) == [1])
    }

    @Test func aStaticEntryAnsweringWithOurOwnIDIsDropped() throws {
        var state = Self.state(staticPeers: [Self.nas])
        let round = try #require(Self.checks(in: state.start(at: .zero)))
        let actions = state.healthChecked(
            .unidentified(Self.nas), round: round.round, .healthy(id: Self.me),
            at: .seconds(1))
        #expect(actions == [.note(.ownStaticEntry(peer: Self.nas.description))])
        #expect(state.snapshot.isEmpty && state.nextCheck == nil)
    }

    @Test func aGoodbyeOverHTTPMarksAStaticPeerUnreachableWithoutDroppingIt() throws {
        var state = Self.state(staticPeers: [Self.nas])
        let round = try #require(Self.checks(in: state.start(at: .zero)))
        _ = state.healthChecked(.unidentified(Self.nas), round: round.round, .healthy(id: Self.bob), at: .seconds(1))
        let (dropped, actions) = state.departed(id: Self.bob, from: "10.77.0.9", at: .seconds(2))
        #expect(!dropped)
        guard case .updated(let peer)? = Self.changes(in: actions).first else {
            Issue.record("no update")
            return
        }
        #expect(!peer.reachable)
    }

    // MARK: - Goodbyes and daemon restarts

    @Test func aGoodbyeFromAnAddressThePeerIsNotKnownAtIsIgnoredAndNoted() {
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        let (dropped, actions) = state.departed(id: Self.alice, from: "10.77.0.66", at: .seconds(1))
        #expect(!dropped)
        #expect(actions == [.note(.ignoredGoodbye(id: Self.alice, address: "10.77.0.66"))])
    }

    @Test func aGoodbyeFromThePeersAddressDropsItAndItsMDNSGoodbyeCancelsTheTimer() {
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        let (dropped, _) = state.departed(id: Self.alice, from: "10.77.0.2", at: .seconds(1))
        #expect(dropped)
        #expect(state.apply(Self.removed(), at: .seconds(2)).last == .cancelHealthCheck)
    }

    @Test func aPeerWhoseInstanceOutlivesItsGoodbyeIsTakenBackAtTheNextTimer() throws {
        // It restarted and announced again before the neighbours' caches let the old record expire: avahi reports
        // neither a removal nor a new instance.
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        _ = state.departed(id: Self.alice, from: "10.77.0.2", at: .seconds(1))
        let actions = state.timerFired(at: .seconds(10))
        #expect(
            Self.changes(in: actions).contains {
                if case .added(let peer) = $0 { peer.id == Self.alice } else { false }
            })
        let round = try #require(Self.checks(in: actions))
        #expect(round.keys == [.id(Self.alice)])
    }

    @Test func aPeerWhoseInstanceSaidGoodbyeOnMDNSTooIsNotTakenBack() {
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        _ = state.apply(Self.resolved(Self.bob, name: "Bob", address: "10.77.0.3"), at: .zero)
        _ = state.departed(id: Self.alice, from: "10.77.0.2", at: .seconds(1))
        _ = state.apply(Self.removed(), at: .seconds(2))
        _ = state.timerFired(at: .seconds(10))
        #expect(state.snapshot.map(\.id) == [Self.bob])
    }

    @Test func withAHealthCheckTheRebrowseAfterADaemonRestartDropsNobody() {
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        _ = state.apply(.daemonDown, at: .seconds(1))
        _ = state.apply(.daemonUp, at: .seconds(2))
        _ = state.apply(.browseSettled, at: .seconds(3))
        #expect(state.peer(id: Self.alice)?.addresses == ["10.77.0.2"])
    }

    @Test func withoutAHealthCheckTheRebrowseDropsThePeersNotSeenAgain() {
        var state = Self.state(checksHealth: false)
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        _ = state.apply(.daemonDown, at: .seconds(1))
        _ = state.apply(.daemonUp, at: .seconds(2))
        let actions = state.apply(.browseSettled, at: .seconds(3))
        guard case .removed(_, let reason)? = Self.changes(in: actions).first else {
            Issue.record("no removal")
            return
        }
        #expect(reason == .notRediscovered)
    }

    @Test func anInstanceWithoutAValidIDIsNoted() {
        var state = Self.state()
        let actions = state.apply(Self.resolved("nope"), at: .zero)
        #expect(actions == [.note(.ignoredInstance(name: "Alice"))])
    }

    @Test func aBoxOfAnotherProtocolVersionIsIgnoredWithoutACheckAndNotedOnce() {
        var state = Self.state()
        let first = state.apply(Self.resolved(Self.alice, version: "1"), at: .zero)
        #expect(first == [.note(.otherProtocolVersion(name: "Alice", version: "1"))])
        // Its next TXT update (a new catalog generation) is not noted again.
        #expect(state.apply(Self.resolved(Self.alice, version: "1"), at: .seconds(5)).isEmpty)
        #expect(state.snapshot.isEmpty)
    }

    @Test func aBoxUpdatedToThisProtocolVersionIsAddedOnItsNextAnnouncement() {
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice, version: "1"), at: .zero)
        _ = state.apply(Self.resolved(Self.alice, version: MediapeerTXT.currentProtocolVersion), at: .seconds(5))
        #expect(state.snapshot.map(\.id) == [Self.alice])
    }

    // MARK: - Claims, identities and bounds

    @Test func aStaticAddressAnsweringWithAnotherIDReplacesThePeer() throws {
        var state = Self.state(staticPeers: [Self.nas])
        let first = try #require(Self.checks(in: state.start(at: .zero)))
        _ = state.healthChecked(.unidentified(Self.nas), round: first.round, .healthy(id: Self.alice), at: .seconds(1))
        let second = try #require(Self.checks(in: state.timerFired(at: .seconds(10))))
        let actions = state.healthChecked(
            .id(Self.alice), round: second.round, .healthy(id: Self.bob), at: .seconds(11))
        let changes = Self.changes(in: actions)
        #expect(
            changes.contains { if case .removed(let peer, .replaced) = $0 { peer.id == Self.alice } else { false } })
        #expect(changes.contains { if case .added(let peer) = $0 { peer.id == Self.bob } else { false } })
        #expect(state.snapshot.map(\.id) == [Self.bob])
    }

    @Test func anAnnouncedPeerAnsweringItsCheckWithAnotherIDFailsTheCheck() throws {
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        let round = try #require(Self.checks(in: state.timerFired(at: .seconds(10))))
        let actions = state.healthChecked(
            .id(Self.alice), round: round.round, .healthy(id: Self.bob), at: .seconds(11))
        #expect(!Self.changes(in: actions).contains { if case .added = $0 { true } else { false } })
        #expect(state.snapshot.map(\.id) == [Self.alice])
        #expect(state.peer(id: Self.alice)?.consecutiveFailures == 1)
    }

    @Test func aClaimOfAConfirmedPeersIDFromAnotherEndpointIsNotedAndChangesNothing() throws {
        var state = try Self.confirmedAlice()
        let before = try #require(state.peer(id: Self.alice))
        let actions = state.apply(
            Self.resolved(Self.alice, name: "Mallory", address: "10.77.0.1", port: 9999), at: .seconds(12))
        #expect(actions == [.note(.ignoredClaim(id: Self.alice, peer: "Alice", address: "10.77.0.1", port: 9999))])
        #expect(state.peer(id: Self.alice) == before)
    }

    @Test func aConfirmedPeerResolvedFromItsOwnHostAtAnotherAddressIsUpdatedNotSetAside() throws {
        // avahi resolves a box's instance on IPv6 after IPv4 (and a TXT update at either): the box's own.
        var state = try Self.confirmedAlice()
        let actions = state.apply(
            .resolved(
                ResolvedService(
                    instance: ServiceInstance(name: "Alice", interfaceIndex: 2, family: .ipv6), hostName: "alice.local",
                    address: "fe80::2%2", port: 8737, txt: ["id": Self.alice, "name": "Alice", "gen": "9"])),
            at: .seconds(12))
        #expect(!actions.contains { if case .note(.ignoredClaim) = $0 { true } else { false } })
        #expect(state.peer(id: Self.alice)?.addresses.contains("fe80::2%2") == true)
        #expect(state.peer(id: Self.alice)?.generation == 9)
    }

    @Test func theSameClaimAnnouncedAgainIsNotNotedAgain() throws {
        var state = try Self.confirmedAlice()
        let claim = Self.resolved(Self.alice, name: "Mallory", address: "10.77.0.1", port: 9999)
        _ = state.apply(claim, at: .seconds(12))
        #expect(state.apply(claim, at: .seconds(13)).isEmpty)
    }

    @Test func aClaimFromAnotherHostOfAPeerNotCheckedYetIsSetAsideNotMerged() {
        // Until a check proved the key somewhere, neither announcement is believed over the other: the first keeps
        // the id, and the other waits until the first leaves (a wrong port must not move the real box).
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        let actions = state.apply(
            Self.resolved(Self.alice, name: "Mallory", address: "10.77.0.3", port: 9999), at: .seconds(1))
        #expect(actions == [.note(.ignoredClaim(id: Self.alice, peer: "Alice", address: "10.77.0.3", port: 9999))])
        #expect(state.peer(id: Self.alice)?.addresses == ["10.77.0.2"])
        #expect(state.peer(id: Self.alice)?.port == 8737)
    }

    @Test func theSameHostsOtherAddressOfAPeerNotCheckedYetIsMerged() {
        var state = Self.state()
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        _ = state.apply(
            Self.resolved(Self.alice, name: "Alice v6", address: "fd00::2", hostName: "alice.local", family: .ipv6),
            at: .seconds(1))
        #expect(state.peer(id: Self.alice)?.addresses == ["10.77.0.2", "fd00::2"])
    }

    @Test func aConfirmedPeerThatMissedACheckStillKeepsItsEndpointAgainstAClaim() throws {
        var state = try Self.confirmedAlice()
        let round = try #require(Self.checks(in: state.timerFired(at: .seconds(20))))
        _ = state.healthChecked(.id(Self.alice), round: round.round, .unhealthy("timeout"), at: .seconds(21))
        _ = state.apply(Self.resolved(Self.alice, name: "Mallory", address: "10.77.0.3", port: 9999), at: .seconds(22))
        #expect(state.peer(id: Self.alice)?.port == 8737)
        #expect(state.peer(id: Self.alice)?.addresses == ["10.77.0.2"])
    }

    @Test func aClaimSetAsideIsResolvedOnceTheConfirmedPeerLeaves() throws {
        var state = try Self.confirmedAlice()
        _ = state.apply(Self.resolved(Self.alice, name: "Alice moved", address: "10.77.0.7"), at: .seconds(12))
        let actions = state.apply(Self.removed(), at: .seconds(13))
        let changes = Self.changes(in: actions)
        #expect(changes.contains { if case .removed(_, .goodbye) = $0 { true } else { false } })
        guard case .added(let peer)? = changes.last else {
            Issue.record("the claim was not resolved again: \(actions)")
            return
        }
        #expect(peer.id == Self.alice && peer.addresses == ["10.77.0.7"] && peer.name == "Alice moved")
    }

    @Test func aClaimWhoseInstanceSaidGoodbyeIsForgotten() throws {
        var state = try Self.confirmedAlice()
        _ = state.apply(Self.resolved(Self.alice, name: "Mallory", address: "10.77.0.1"), at: .seconds(12))
        _ = state.apply(Self.removed(name: "Mallory"), at: .seconds(13))
        _ = state.apply(Self.removed(), at: .seconds(14))
        #expect(state.snapshot.isEmpty)
    }

    @Test func aStaticEntryClaimingAConfirmedPeersIDFailsItsCheckAndChangesNothing() throws {
        var state = Self.state(staticPeers: [Self.nas])
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        let round = try #require(Self.checks(in: state.timerFired(at: .seconds(10))))
        _ = state.healthChecked(.id(Self.alice), round: round.round, .healthy(id: Self.alice), at: .seconds(11))
        let before = try #require(state.peer(id: Self.alice))
        let actions = state.healthChecked(
            .unidentified(Self.nas), round: round.round, .healthy(id: Self.alice), at: .seconds(11))
        #expect(
            actions.contains(.note(.ignoredClaim(id: Self.alice, peer: "Alice", address: "10.77.0.9", port: 8737))))
        #expect(state.peer(id: Self.alice) == before)
        #expect(state.snapshot.last?.id == nil && state.snapshot.last?.consecutiveFailures == 1)
    }

    @Test func theTableHoldsAtMostMaxPeersIdentifiedPeersAndNotesTheFirstIgnored() {
        var state = Self.state()
        func id(_ number: Int) -> String {
            let hex = String(0xa000 + number, radix: 16)
            return String(repeating: "0", count: 32 - hex.count) + hex
        }
        for number in 0..<PeerLimits.maxPeers {
            _ = state.apply(Self.resolved(id(number), name: "Box \(number)", address: "10.77.1.\(number)"), at: .zero)
        }
        let first = state.apply(Self.resolved(id(100), name: "Box 100", address: "10.77.2.1"), at: .seconds(1))
        let second = state.apply(Self.resolved(id(101), name: "Box 101", address: "10.77.2.2"), at: .seconds(1))
        #expect(first == [.note(.tableFull(ignored: id(100), limit: PeerLimits.maxPeers))])
        #expect(second.isEmpty)
        #expect(state.snapshot.count == PeerLimits.maxPeers)
    }

    @Test func anAnnouncedNameIsCutAt255BytesWithControlCharactersReplaced() throws {
        var state = Self.state()
        let name = "\u{1B}]0;pwned\u{07}" + String(repeating: "é", count: 200)
        _ = state.apply(Self.resolved(Self.alice, txtName: name), at: .zero)
        let shown = try #require(state.peer(id: Self.alice)?.name)
        #expect(shown.hasPrefix("\u{FFFD}]0;pwned\u{FFFD}"))
        #expect(shown.utf8.count <= 255 && shown.utf8.count >= 254)
        #expect(!shown.unicodeScalars.contains { $0.value < 0x20 })
    }

    @Test func aNameFromInfoIsCutAndCleanedToo() throws {
        var state = Self.state(staticPeers: [Self.nas])
        let round = try #require(Self.checks(in: state.start(at: .zero)))
        let name = "NAS\r\u{202E}" + String(repeating: "x", count: 300)
        _ = state.healthChecked(
            .unidentified(Self.nas), round: round.round, .healthy(id: Self.bob, name: name), at: .zero)
        let shown = try #require(state.peer(id: Self.bob)?.name)
        #expect(shown.hasPrefix("NAS\u{FFFD}\u{FFFD}xxx") && shown.utf8.count == 255)
    }
}
