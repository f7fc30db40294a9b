import Synchronization

/// How many object transfers the box serves at once.
public struct UploadLimits: Sendable, Equatable {
    /// Across every client.
    public var total: Int
    /// Per client address: one box fetching with deep pipelining cannot take every slot.
    public var perClient: Int

    public init(total: Int = 16, perClient: Int = 6) {
        self.total = total
        self.perClient = perClient
    }
}

/// Counts the object transfers in progress; a client over its share gets 503 and `Retry-After`, so one
/// misbehaving box cannot starve the others or grow the daemon's memory.
final class UploadLimiter: Sendable {
    private struct Counts {
        var total = 0
        var perClient: [String: Int] = [:]
    }

    private let limits: UploadLimits
    private let counts = Mutex(Counts())

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

    func acquire(client: String) -> Slot? {
        let granted = counts.withLock { counts -> Bool in
            guard counts.total < limits.total, counts.perClient[client, default: 0] < limits.perClient else { return false }
            counts.total += 1
            counts.perClient[client, default: 0] += 1
            return true
        }
        return granted ? Slot(limiter: self, client: client) : nil
    }

    private func release(client: String) {
        counts.withLock { counts in
            counts.total -= 1
            let remaining = counts.perClient[client, default: 1] - 1
            counts.perClient[client] = remaining > 0 ? remaining : nil
        }
    }

    var inUse: Int { counts.withLock { $0.total } }
}
