import Clocks
import Testing

@testable import PeerProtocol

/// How many transfers the box serves at once, and how long a request waits for a slot (on a test clock).
@Suite(.timeLimit(.minutes(1))) struct UploadLimiterTests {
    /// Returns once a timer sleeps on `clock`, so advancing it fires that timer rather than passing it by.
    private func untilSomethingSleeps(on clock: TestClock<Duration>) async {
        while (try? await clock.checkSuspension()) != nil {}
    }

    @Test func eachClientGetsAtMostItsShare() {
        let limiter = UploadLimiter(limits: UploadLimits(total: 10, perClient: 2))
        let first = limiter.tryAcquire(client: "a")
        let second = limiter.tryAcquire(client: "a")
        #expect(first != nil && second != nil)
        #expect(limiter.tryAcquire(client: "a") == nil)
        #expect(limiter.tryAcquire(client: "b") != nil)
    }

    @Test func allClientsTogetherGetAtMostTheTotal() {
        let limiter = UploadLimiter(limits: UploadLimits(total: 3, perClient: 5))
        let held = ["a", "b", "c"].compactMap { limiter.tryAcquire(client: $0) }
        #expect(held.count == 3)
        #expect(limiter.tryAcquire(client: "d") == nil)
        #expect(limiter.tryAcquire(client: "a") == nil)
        #expect(limiter.inUse == 3)
    }

    @Test func droppingASlotReleasesIt() {
        let limiter = UploadLimiter(limits: UploadLimits(total: 1, perClient: 1))
        var slot = limiter.tryAcquire(client: "a")
        #expect(slot != nil)
        #expect(limiter.tryAcquire(client: "b") == nil)
        slot = nil
        #expect(limiter.inUse == 0)
        #expect(limiter.tryAcquire(client: "b") != nil)
    }

    @Test func releasingRestoresTheClientsShareOnly() {
        let limiter = UploadLimiter(limits: UploadLimits(total: 10, perClient: 2))
        var slots = [limiter.tryAcquire(client: "a"), limiter.tryAcquire(client: "a")]
        let other = limiter.tryAcquire(client: "b")
        slots.removeLast()
        #expect(limiter.inUse == 2)
        #expect(limiter.tryAcquire(client: "a") != nil)
        #expect(other != nil)
        withExtendedLifetime(slots) {}
    }

    @Test func aRequestOverTheLimitWaitsForTheNextFreeSlot() async {
        let limiter = UploadLimiter(
            limits: UploadLimits(total: 1, perClient: 1, maximumWait: .seconds(30)), clock: TestClock())
        var held = limiter.tryAcquire(client: "a")
        let waiter = Task { await limiter.acquire(client: "a") != nil }
        while limiter.waiting == 0 { await Task.yield() }
        held = nil
        #expect(await waiter.value)
        withExtendedLifetime(held) {}
    }

    @Test func aRequestThatWaitsTooLongGetsNoSlot() async {
        let clock = TestClock()
        let limiter = UploadLimiter(
            limits: UploadLimits(total: 1, perClient: 1, maximumWait: .seconds(5)), clock: clock)
        let held = limiter.tryAcquire(client: "a")
        let waiter = Task { await limiter.acquire(client: "b") != nil }
        await untilSomethingSleeps(on: clock)
        await clock.advance(by: .seconds(4))
        #expect(limiter.waiting == 1)
        await clock.advance(by: .seconds(1))
        #expect(await waiter.value == false)
        #expect(limiter.waiting == 0)
        withExtendedLifetime(held) {}
    }

    @Test func aGrantedRequestKeepsItsSlotPastTheWaitingTime() async {
        let clock = TestClock()
        let limiter = UploadLimiter(
            limits: UploadLimits(total: 1, perClient: 1, maximumWait: .seconds(5)), clock: clock)
        var held = limiter.tryAcquire(client: "a")
        let waiter = Task { await limiter.acquire(client: "b") }
        while limiter.waiting == 0 { await Task.yield() }
        held = nil
        let slot = await waiter.value
        #expect(slot != nil)
        await clock.advance(by: .seconds(10))
        #expect(limiter.inUse == 1)
        withExtendedLifetime((held, slot)) {}
    }

    @Test func aCancelledRequestLeavesTheQueue() async {
        let limiter = UploadLimiter(
            limits: UploadLimits(total: 1, perClient: 1, maximumWait: .seconds(30)), clock: TestClock())
        let held = limiter.tryAcquire(client: "a")
        let waiter = Task { await limiter.acquire(client: "b") != nil }
        while limiter.waiting == 0 { await Task.yield() }
        waiter.cancel()
        #expect(await waiter.value == false)
        #expect(limiter.waiting == 0)
        withExtendedLifetime(held) {}
    }

    @Test func tooManyWaitingAreRefusedAtOnce() async {
        let limiter = UploadLimiter(
            limits: UploadLimits(total: 1, perClient: 1, maximumWait: .seconds(30), maximumWaiting: 0))
        let held = limiter.tryAcquire(client: "a")
        #expect(await limiter.acquire(client: "b") == nil)
        withExtendedLifetime(held) {}
    }

    @Test func aFreedSlotGoesToAWaiterOfAnotherClientWhenTheFirstIsStillOverItsShare() async {
        // "a" holds its one slot; "a" waits first, "b" second. A slot freed by "c" cannot go to "a" (still at its
        // share), so it goes to "b".
        let limiter = UploadLimiter(
            limits: UploadLimits(total: 2, perClient: 1, maximumWait: .seconds(30)), clock: TestClock())
        let heldA = limiter.tryAcquire(client: "a")
        var heldC = limiter.tryAcquire(client: "c")
        let waitingA = Task { await limiter.acquire(client: "a") }
        while limiter.waiting < 1 { await Task.yield() }
        let waitingB = Task { await limiter.acquire(client: "b") != nil }
        while limiter.waiting < 2 { await Task.yield() }
        heldC = nil
        #expect(await waitingB.value)
        #expect(limiter.waiting == 1)
        withExtendedLifetime((heldA, heldC)) {}
        waitingA.cancel()
        #expect(await waitingA.value == nil)
    }

    @Test func slotsAreKeptForClientsThatHoldNone() {
        let limiter = UploadLimiter(limits: UploadLimits(total: 16, perClient: 6, reservedForNewClients: 4))
        var held: [UploadLimiter.Slot] = []
        for client in ["a", "b"] {
            for _ in 0..<6 { held += [limiter.tryAcquire(client: client)].compactMap { $0 } }
        }
        #expect(held.count == 12)
        // Four free: only clients holding none may take them, one each.
        #expect(limiter.tryAcquire(client: "a") == nil)
        for client in ["c", "d", "e", "f"] {
            let slot = limiter.tryAcquire(client: client)
            #expect(slot != nil)
            held += [slot].compactMap { $0 }
            #expect(limiter.tryAcquire(client: client) == nil)
        }
        #expect(limiter.inUse == 16)
    }

    @Test func slowReadersFromThreeAddressesLeaveASlotForAFourth() async {
        // The hostile LAN's case: 18 transfers asked by 3 addresses that read slowly, then a box's 1 MiB range.
        let limiter = UploadLimiter(limits: UploadLimits(maximumWait: .seconds(30)), clock: TestClock())
        var held: [UploadLimiter.Slot] = []
        var waiting: [Task<UploadLimiter.Slot?, Never>] = []
        for client in ["a", "b", "c"] {
            for _ in 0..<6 {
                if let slot = limiter.tryAcquire(client: client) {
                    held.append(slot)
                } else {
                    let expected = limiter.waiting + 1
                    waiting.append(Task { await limiter.acquire(client: client) })
                    while limiter.waiting < expected { await Task.yield() }
                }
            }
        }
        #expect(limiter.inUse < 16)
        #expect(limiter.tryAcquire(client: "d") != nil)
        for waiter in waiting { waiter.cancel() }
        for waiter in waiting { #expect(await waiter.value == nil) }
        withExtendedLifetime(held) {}
    }

    @Test func aClientHoldingNoneIsServedAtOnceWhileAnotherWaitsForItsShare() async {
        let limiter = UploadLimiter(
            limits: UploadLimits(total: 4, perClient: 1, reservedForNewClients: 0, maximumWait: .seconds(30)),
            clock: TestClock())
        let held = limiter.tryAcquire(client: "a")
        let waiter = Task { await limiter.acquire(client: "a") }
        while limiter.waiting == 0 { await Task.yield() }
        #expect(limiter.tryAcquire(client: "b") != nil)
        waiter.cancel()
        #expect(await waiter.value == nil)
        withExtendedLifetime(held) {}
    }

    @Test func aWaiterBeyondItsFirstSlotIsGrantedOnceFreedSlotsExceedTheReserve() async {
        let limiter = UploadLimiter(
            limits: UploadLimits(total: 3, perClient: 3, reservedForNewClients: 1, maximumWait: .seconds(30)),
            clock: TestClock())
        let first = limiter.tryAcquire(client: "a")
        var other = limiter.tryAcquire(client: "b")
        #expect(first != nil && other != nil)
        // One slot free, and it is the reserve: "a", holding one, waits.
        let waiter = Task { await limiter.acquire(client: "a") != nil }
        while limiter.waiting == 0 { await Task.yield() }
        other = nil
        #expect(await waiter.value)
        withExtendedLifetime((first, other)) {}
    }
}
