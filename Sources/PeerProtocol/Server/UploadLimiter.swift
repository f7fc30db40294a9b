import Synchronization

/// How many object transfers the box serves at once.
public struct UploadLimits: Sendable, Equatable {
    /// Across every client.
    public var total: Int
    /// Per client address: one box fetching with deep pipelining cannot take every slot.
    public var perClient: Int
    /// How long a request may wait for a slot before it is answered 503.
    public var maximumWait: Duration
    /// Requests waiting at once; more are answered 503 at once.
    public var maximumWaiting: Int

    public init(total: Int = 16, perClient: Int = 6, maximumWait: Duration = .seconds(5), maximumWaiting: Int = 256) {
        self.total = total
        self.perClient = perClient
        self.maximumWait = maximumWait
        self.maximumWaiting = maximumWaiting
    }
}

/// Counts the object transfers in progress. A request over the limits waits, in arrival order, for a slot; one
/// that waits too long (or finds too many waiting) gets 503 and `Retry-After`. So one misbehaving box cannot starve
/// the others or grow the daemon's memory, and a burst of small requests is served rather than refused.
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
            total < limits.total && perClient[client, default: 0] < limits.perClient
        }

        mutating func take(_ client: String) {
            total += 1
            perClient[client, default: 0] += 1
        }
    }

    private let limits: UploadLimits
    private let state = Mutex(State())

    init(limits: UploadLimits) {
        self.limits = limits
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
            guard state.waiters.isEmpty, state.admits(client, limits: limits) else { return false }
            state.take(client)
            return true
        }
        return granted ? Slot(limiter: self, client: client) : nil
    }

    /// A slot, waiting up to ``UploadLimits/maximumWait`` for one; nil when none came in time.
    func acquire(client: String) async -> Slot? {
        if let slot = tryAcquire(client: client) { return slot }
        let limits = self.limits
        let granted = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let id: UInt64? = state.withLock { state in
                guard state.waiters.count < limits.maximumWaiting else { return nil }
                state.nextWaiterID += 1
                state.waiters.append(Waiter(id: state.nextWaiterID, client: client, continuation: continuation))
                return state.nextWaiterID
            }
            guard let id else { return continuation.resume(returning: false) }
            Task { [self] in
                try? await Task.sleep(for: limits.maximumWait)
                let expired = state.withLock { state -> Waiter? in
                    guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return state.waiters.remove(at: index)
                }
                expired?.continuation.resume(returning: false)
            }
        }
        return granted ? Slot(limiter: self, client: client) : nil
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
