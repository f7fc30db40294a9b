import Foundation
import Testing

@testable import ReplicationPolicy

@Suite struct DecayedCountTests {
    private let halfLife = Duration.seconds(7 * 86_400)
    private let day = 86_400.0

    @Test func aCountHalvesEveryHalfLife() {
        let count = DecayedCount.zero.adding(8, at: 1000, halfLife: halfLife)
        #expect(count.value(at: 1000, halfLife: halfLife) == 8)
        #expect(count.value(at: 1000 + 7 * day, halfLife: halfLife) == 4)
        #expect(count.value(at: 1000 + 21 * day, halfLife: halfLife) == 1)
    }

    @Test func anEventAddsToTheDecayedValue() {
        let count = DecayedCount.zero.adding(4, at: 0, halfLife: halfLife).adding(1, at: 7 * day, halfLife: halfLife)
        #expect(count.value == 3)
        #expect(count.updatedAt == 7 * day)
    }

    @Test func eventsAtTheSameInstantAddUp() {
        let count = DecayedCount.zero.adding(1, at: 50, halfLife: halfLife).adding(2, at: 50, halfLife: halfLife)
        #expect(count.value(at: 50, halfLife: halfLife) == 3)
    }

    @Test func anEventOlderThanTheLastUpdateIsAddedWithItsOwnDecay() {
        let count = DecayedCount.zero.adding(1, at: 14 * day, halfLife: halfLife).adding(4, at: 0, halfLife: halfLife)
        #expect(count.value == 2)
        #expect(count.updatedAt == 14 * day)
    }

    @Test func theOrderOfEventsDoesNotChangeTheCount() {
        let events: [(Double, Double)] = [(1, 0), (2, 3 * day), (5, 10 * day), (1, 11 * day)]
        let inOrder = events.reduce(DecayedCount.zero) { $0.adding($1.0, at: $1.1, halfLife: halfLife) }
        let reversed = events.reversed().reduce(DecayedCount.zero) { $0.adding($1.0, at: $1.1, halfLife: halfLife) }
        let at = 20 * day
        #expect(abs(inOrder.value(at: at, halfLife: halfLife) - reversed.value(at: at, halfLife: halfLife)) < 1e-12)
    }

    @Test func aCountReadBeforeItsLastUpdateIsNotRunBackwards() {
        let count = DecayedCount.zero.adding(3, at: 10 * day, halfLife: halfLife)
        #expect(count.value(at: 0, halfLife: halfLife) == 3)
    }

    @Test func decayOverCenturiesReachesZeroWithoutOverflow() {
        let count = DecayedCount(value: .greatestFiniteMagnitude, updatedAt: 0)
        let later = count.value(at: 300 * 365 * day, halfLife: halfLife)
        #expect(later == 0)
        #expect(count.adding(1, at: 300 * 365 * day, halfLife: halfLife).value == 1)
    }

    @Test func badWeightsAndInstantsAreIgnored() {
        let count = DecayedCount.zero.adding(2, at: 100, halfLife: halfLife)
        #expect(count.adding(.nan, at: 200, halfLife: halfLife) == count)
        #expect(count.adding(-1, at: 200, halfLife: halfLife) == count)
        #expect(count.adding(.infinity, at: 200, halfLife: halfLife) == count)
        #expect(count.adding(1, at: .nan, halfLife: halfLife) == count)
        #expect(count.value(at: .infinity, halfLife: halfLife) == 2)
        #expect(DecayedCount(value: .nan, updatedAt: .infinity) == .zero)
    }

    @Test func aHalfLifeThatIsNotPositiveForgetsAtOnce() {
        let count = DecayedCount.zero.adding(5, at: 0, halfLife: .zero)
        #expect(count.value(at: 0, halfLife: .zero) == 5)
        #expect(count.value(at: 1, halfLife: .zero) == 0)
    }

    @Test func twoCountsSumAsOfTheLaterInstant() {
        let mine = DecayedCount.zero.adding(4, at: 0, halfLife: halfLife)
        let theirs = DecayedCount.zero.adding(1, at: 7 * day, halfLife: halfLife)
        let home = mine.adding(theirs, halfLife: halfLife)
        #expect(home == DecayedCount(value: 3, updatedAt: 7 * day))
    }

    @Test func aDecodedCountIsSanitisedLikeAConstructedOne() throws {
        let json = Data(#"{"value": -4, "updatedAt": 120}"#.utf8)
        #expect(try JSONDecoder().decode(DecayedCount.self, from: json) == DecayedCount(value: 0, updatedAt: 120))
    }
}
