import Testing

@testable import PeerProtocol

/// The memory budget every fetch shares: grants in arrival order, waits, and cancellation.
@Suite(.timeLimit(.minutes(1))) struct FetchBufferBudgetTests {
    /// Returns once `count` reservations wait (they queue synchronously once their task runs).
    private func waitUntil(_ budget: FetchBufferBudget, hasWaiting count: Int) async {
        while budget.waiting < count { await Task.yield() }
    }

    @Test func aReservationThatFitsIsGrantedAtOnce() async throws {
        let budget = FetchBufferBudget(bytes: 10)
        #expect(try await budget.reserve(6) == 6)
        #expect(budget.available == 4 && budget.waiting == 0)
        budget.release(6)
        #expect(budget.available == 10)
    }

    @Test func aReservationThatDoesNotFitWaitsUntilEnoughIsReleased() async throws {
        let budget = FetchBufferBudget(bytes: 10)
        let held = try await budget.reserve(8)
        let waiter = Task { try await budget.reserve(5) }
        await waitUntil(budget, hasWaiting: 1)
        #expect(budget.available == 2)
        budget.release(held)
        #expect(try await waiter.value == 5)
        #expect(budget.available == 5 && budget.waiting == 0)
    }

    @Test func aCancelledWaiterLeavesTheQueueAndTheOneBehindItIsGranted() async throws {
        let budget = FetchBufferBudget(bytes: 10)
        let held = try await budget.reserve(7)
        let first = Task { try await budget.reserve(8) }
        await waitUntil(budget, hasWaiting: 1)
        let second = Task { try await budget.reserve(3) }
        await waitUntil(budget, hasWaiting: 2)
        // The second fits, but waits behind the first: arrival order.
        #expect(budget.available == 3)
        first.cancel()
        await #expect(throws: CancellationError.self) { try await first.value }
        #expect(try await second.value == 3)
        #expect(budget.available == 0 && budget.waiting == 0)
        budget.release(held)
        budget.release(3)
        #expect(budget.available == 10)
    }

    @Test func waitersAreGrantedInArrivalOrderAsReleasesMakeRoom() async throws {
        let budget = FetchBufferBudget(bytes: 10)
        let held = try await budget.reserve(10)
        let large = Task { try await budget.reserve(8) }
        await waitUntil(budget, hasWaiting: 1)
        let small = Task { try await budget.reserve(2) }
        await waitUntil(budget, hasWaiting: 2)
        budget.release(2)
        // Room for the small one, but the large one came first.
        #expect(budget.waiting == 2 && budget.available == 2)
        budget.release(held - 2)
        #expect(try await large.value == 8)
        #expect(try await small.value == 2)
        #expect(budget.available == 0)
    }

    @Test func aReservationLargerThanTheBudgetTakesTheWholeBudget() async throws {
        let budget = FetchBufferBudget(bytes: 10)
        #expect(try await budget.reserve(64) == 10)
        #expect(budget.available == 0)
    }

    @Test func aTaskCancelledBeforeItWaitsReservesNothing() async throws {
        let budget = FetchBufferBudget(bytes: 10)
        let held = try await budget.reserve(10)
        let waiter = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await budget.reserve(1)
        }
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(budget.waiting == 0)
        budget.release(held)
        #expect(budget.available == 10)
    }
}
