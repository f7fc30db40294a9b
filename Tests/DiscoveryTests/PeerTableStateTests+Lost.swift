import ControlWire
import Testing

@testable import Discovery

/// Peers dropped as unreachable while mDNS still announces them: checked again, less and less often, and listed
/// again once they answer.
extension PeerTableStateTests {
    /// `state` (2 failures drop a peer) with Alice announced at zero and dropped by the rounds at 10 s and 20 s.
    static func lostAlice() throws -> PeerTableState {
        var state = Self.state(failuresBeforeDrop: 2)
        _ = state.apply(Self.resolved(Self.alice), at: .zero)
        for second in [10, 20] {
            let round = try #require(Self.checks(in: state.timerFired(at: .seconds(second))))
            _ = state.healthChecked(.id(Self.alice), round: round.round, .unhealthy("x"), at: .seconds(second))
        }
        return state
    }

    /// Runs the round due at `second`, answering every check with `result`; the keys checked.
    static func round(
        _ state: inout PeerTableState, at second: Int, answering result: HealthResult
    ) throws -> [PeerTableState.Key] {
        let actions = state.timerFired(at: .seconds(second))
        guard let round = Self.checks(in: actions) else { return [] }
        for key in round.keys { _ = state.healthChecked(key, round: round.round, result, at: .seconds(second)) }
        return round.keys
    }

    @Test func aLostPeerIsNotListedButIsCheckedInTheNextRound() throws {
        var state = try Self.lostAlice()
        #expect(state.snapshot.isEmpty)
        #expect(try Self.round(&state, at: 30, answering: .unhealthy("x")) == [.id(Self.alice)])
    }

    @Test func aLostPeerThatAnswersIsListedAgainReachable() throws {
        var state = try Self.lostAlice()
        let round = try #require(Self.checks(in: state.timerFired(at: .seconds(30))))
        let actions = state.healthChecked(
            .id(Self.alice), round: round.round, .healthy(id: Self.alice), at: .seconds(31))
        #expect(actions.contains(.note(.answersAgain(peer: "Alice"))))
        #expect(
            Self.changes(in: actions).contains {
                if case .added(let peer) = $0 { peer.id == Self.alice } else { false }
            })
        let peer = try #require(state.peer(id: Self.alice))
        #expect(peer.reachable && peer.consecutiveFailures == 0 && peer.addresses == ["10.77.0.2"])
    }

    @Test func aLostPeerIsCheckedHalfAsOftenAfterEachFailureUpToAMinute() throws {
        var state = try Self.lostAlice()
        var checkedAt: [Int] = []
        for second in stride(from: 30, through: 300, by: 10)
        where try Self.round(&state, at: second, answering: .unhealthy("x")).contains(.id(Self.alice)) {
            checkedAt.append(second)
        }
        #expect(checkedAt == [30, 50, 90, 150, 210, 270])
    }

    @Test func aLostPeerAnsweringWithAnotherIDStaysLost() throws {
        var state = try Self.lostAlice()
        _ = try Self.round(&state, at: 30, answering: .healthy(id: Self.bob))
        #expect(state.snapshot.isEmpty)
        #expect(try Self.round(&state, at: 40, answering: .unhealthy("x")).isEmpty)
    }

    @Test func aLostPeerWhoseInstanceGoesIsForgottenAndTheTimerCancelled() throws {
        var state = try Self.lostAlice()
        #expect(state.apply(Self.removed(), at: .seconds(25)).contains(.cancelHealthCheck))
        #expect(state.nextCheck == nil)
    }

    @Test func aLostPeerAnnouncedAnewIsListedAtOnceAndNoLongerRetried() throws {
        var state = try Self.lostAlice()
        let actions = state.apply(Self.resolved(Self.alice, address: "10.77.0.20"), at: .seconds(25))
        #expect(
            Self.changes(in: actions).contains {
                if case .added(let peer) = $0 { peer.id == Self.alice } else { false }
            })
        #expect(state.peer(id: Self.alice)?.addresses == ["10.77.0.20"])
        #expect(try Self.round(&state, at: 30, answering: .unhealthy("x")) == [.id(Self.alice)])
        #expect(state.peer(id: Self.alice)?.consecutiveFailures == 1)
    }

    @Test func theLostPeersAreForgottenWhenAvahiGoesAway() throws {
        var state = try Self.lostAlice()
        #expect(state.apply(.daemonDown, at: .seconds(25)).contains(.cancelHealthCheck))
    }
}
