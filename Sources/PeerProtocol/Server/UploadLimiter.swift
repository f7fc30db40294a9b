import Synchronization

/// How many object transfers the box serves at once. Every transfer of object bytes counts, however short.
public struct UploadLimits: Sendable, Equatable {
    /// Across every client.
    public var total: Int
    /// Per client address: one box fetching with deep pipelining cannot take every slot.
    public var perClient: Int
    /// Slots that only a client holding none may take: however few addresses hold the others (slow readers from
    /// three devices once took all 16), a box asking for its first transfer finds one free, as long as fewer boxes
    /// than this are in that case at once.
    public var reservedForNewClients: Int
    /// How long a request may wait for a slot before it is answered 503.
    public var maximumWait: Duration
    /// Requests waiting at once; more are answered 503 at once.
    public var maximumWaiting: Int

    public init(
        total: Int = 16, perClient: Int = 6, reservedForNewClients: Int = 4, maximumWait: Duration = .seconds(5),
        maximumWaiting: Int = 256
    ) {
        self.total = total
        self.perClient = perClient
        self.reservedForNewClients = reservedForNewClients
        self.maximumWait = maximumWait
        self.maximumWaiting = maximumWaiting
    }
}

/// Counts the object transfers in progress. A request over the limits waits, in arrival order, for a slot; one
/// that waits too long (or finds too many waiting) gets 503 and `Retry-After`. So a few misbehaving boxes cannot
/// starve the others or grow the daemon's memory, and a burst of small requests is served rather than refused.
///
/// Every waiter is one the limits refuse now: a freed slot goes at once to the first waiters it admits. So a
/// request the limits admit takes a slot at once, even with others waiting (they wait for something else: their
/// own client's share, or a slot outside the reserve).
final class UploadLimiter: Sendable {
    private struct Waiter {
        var id: UInt64
        var client: String
        var continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var total = 0
        var perClient: [String: Int] = [:]
        var waiters: [Waiter] = []
        var nextWaiterID: UInt64 = 0

        func admits(_ client: String, limits: UploadLimits) -> Bool {
            let held = perClient[client, default: 0]
            return total < limits.total && held < limits.perClient
                && (held == 0 || limits.total - total > limits.reservedForNewClients)
        }

        mutating func take(_ client: String) {
            total += 1
            perClient[client, default: 0] += 1
        }

        /// Takes a waiter out of the queue, if it is still in it (granted, expired and cancelled race for it).
        mutating func removeWaiter(_ id: UInt64) -> Waiter? {
            guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return waiters.remove(at: index)
        }
    }

    private let limits: UploadLimits
    private let clock: any Clock<Duration>
    private let state = Mutex(State())

    /// - parameter clock: Times how long a request waits for a slot (tests pass a clock they advance).
    init(limits: UploadLimits, clock: any Clock<Duration> = ContinuousClock()) {
        self.limits = limits
        self.clock = clock
    }

    /// One transfer in progress; it ends when the slot is released (the response body finished or was dropped).
    final class Slot: Sendable {
        let limiter: UploadLimiter
        let client: String

        init(limiter: UploadLimiter, client: String) {
            self.limiter = limiter
            self.client = client
        }

        deinit { limiter.release(client: client) }
    }

    /// A slot now, or nil when none is free.
    func tryAcquire(client: String) -> Slot? {
        let granted = state.withLock { state -> Bool in
            guard state.admits(client, limits: limits) else { return false }
            state.take(client)
            return true
        }
        return granted ? Slot(limiter: self, client: client) : nil
    }

    /// A slot, waiting up to ``UploadLimits/maximumWait`` for one; nil when none came in time, when too many are
    /// waiting already, or when the request is cancelled (its client went away) while it waits.
    func acquire(client: String) async -> Slot? {
        if let slot = tryAcquire(client: client) { return slot }
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        // The wait's timer is a child of this request's task: it ends with the wait, granted or not, and leaves
        // nothing running behind it.
        let granted = await withTaskGroup(of: Void.self) { timer in
            timer.addTask {
                guard (try? await self.clock.sleep(for: self.limits.maximumWait)) != nil else { return }
                self.dequeue(id)
            }
            let granted = await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                    let outcome = state.withLock { state -> Bool? in
                        // Checked under the lock that the cancellation handler takes too: a request cancelled
                        // before it is queued is never queued, one cancelled after is taken out by the handler.
                        guard !Task.isCancelled else { return false }
                        // A slot freed since `tryAcquire`: no waiter may be one the limits admit.
                        if state.admits(client, limits: limits) {
                            state.take(client)
                            return true
                        }
                        guard state.waiters.count < limits.maximumWaiting else { return false }
                        state.waiters.append(Waiter(id: id, client: client, continuation: continuation))
                        return nil
                    }
                    if let outcome { continuation.resume(returning: outcome) }
                }
            } onCancel: {
                dequeue(id)
            }
            timer.cancelAll()
            return granted
        }
        return granted ? Slot(limiter: self, client: client) : nil
    }

    /// Takes a waiter out of the queue, refusing it, unless it was granted a slot already.
    private func dequeue(_ id: UInt64) {
        state.withLock { $0.removeWaiter(id) }?.continuation.resume(returning: false)
    }

    private func release(client: String) {
        let admitted = state.withLock { state -> [Waiter] in
            state.total -= 1
            let remaining = state.perClient[client, default: 1] - 1
            state.perClient[client] = remaining > 0 ? remaining : nil
            // Wake the waiters, in arrival order, that the freed capacity admits.
            var admitted: [Waiter] = []
            var index = 0
            while index < state.waiters.count, state.total < limits.total {
                if state.admits(state.waiters[index].client, limits: limits) {
                    let waiter = state.waiters.remove(at: index)
                    state.take(waiter.client)
                    admitted.append(waiter)
                } else {
                    index += 1
                }
            }
            return admitted
        }
        for waiter in admitted { waiter.continuation.resume(returning: true) }
    }

    var inUse: Int { state.withLock { $0.total } }
    var waiting: Int { state.withLock { $0.waiters.count } }
}
