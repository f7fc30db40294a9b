import Logging
import Synchronization

/// Counts a server's open connections, overall and per client address, and refuses those over the limits.
struct ConnectionCounter: Sendable {
    enum Refusal: Equatable, Sendable {
        /// The server holds its maximum of connections.
        case total(Int)
        /// The client's address holds its maximum of connections.
        case perAddress(Int)
    }

    let limits: HTTPServiceLimits
    private(set) var total = 0
    private var perAddress: [String: Int] = [:]

    init(limits: HTTPServiceLimits) {
        self.limits = limits
    }

    /// Counts a new connection from `address` (nil for a Unix-socket client), or says why it is refused.
    mutating func open(from address: String?) -> Refusal? {
        if let maximum = limits.maxConnections, total >= maximum { return .total(maximum) }
        if let address, let maximum = limits.maxConnectionsPerAddress {
            let held = perAddress[address, default: 0]
            guard held < maximum else { return .perAddress(maximum) }
            perAddress[address] = held + 1
        }
        total += 1
        return nil
    }

    /// Forgets a connection that ``open(from:)`` counted.
    mutating func close(from address: String?) {
        total -= 1
        if let address, limits.maxConnectionsPerAddress != nil {
            let remaining = perAddress[address, default: 1] - 1
            perAddress[address] = remaining > 0 ? remaining : nil
        }
    }

    func connections(from address: String) -> Int { perAddress[address, default: 0] }
}

/// Which warnings to log: each kind of warning at most once a minute per client address, so a flood of refused
/// connections writes a line a minute, not a line per connection.
///
/// Two generations of keys, swapped every minute: a key warned about stays in the current or the previous
/// generation for at least a minute, and the memory held is bounded by ``capacity`` keys per generation (beyond
/// it, in a flood from that many addresses, the rest are not logged until the next minute).
struct WarningThrottle: Sendable {
    static let interval: Duration = .seconds(60)
    static let capacity = 1024

    private var current: Set<String> = []
    private var previous: Set<String> = []
    private var generationStart: ContinuousClock.Instant?

    /// True when a warning about `key` should be logged `now` (and then not again for at least a minute).
    mutating func shouldWarn(about key: String, now: ContinuousClock.Instant) -> Bool {
        if let start = generationStart, now - start >= Self.interval {
            // A generation older than two intervals is over too: nothing in it was warned about within a minute.
            previous = now - start >= Self.interval * 2 ? [] : current
            current = []
            generationStart = now
        } else if generationStart == nil {
            generationStart = now
        }
        guard !current.contains(key), !previous.contains(key), current.count < Self.capacity else { return false }
        current.insert(key)
        return true
    }
}

/// The counter and the throttle behind a lock, shared by a server's event loops.
final class ConnectionAdmission: Sendable {
    private struct State {
        var counter: ConnectionCounter
        var throttle = WarningThrottle()
    }

    private let state: Mutex<State>
    private let logger: Logger

    init(limits: HTTPServiceLimits, logger: Logger) {
        state = Mutex(State(counter: ConnectionCounter(limits: limits)))
        self.logger = logger
    }

    /// True when a connection from `address` is admitted (and counted until ``close(from:)``); a refusal is logged,
    /// at most once a minute per address.
    func open(from address: String?) -> Bool {
        let (refusal, warn) = state.withLock { state -> (ConnectionCounter.Refusal?, Bool) in
            guard let refusal = state.counter.open(from: address) else { return (nil, false) }
            return (refusal, state.throttle.shouldWarn(about: "connections " + (address ?? ""), now: .now))
        }
        guard let refusal else { return true }
        if warn {
            let message: Logger.Message
            let limit: Int
            switch refusal {
            case .total(let maximum):
                (message, limit) = ("refused a connection: the server holds the most connections it keeps", maximum)
            case .perAddress(let maximum):
                (message, limit) = ("refused a connection: its address holds the most connections one may", maximum)
            }
            logger.warning(
                message,
                metadata: [
                    "address": "\(address ?? "local")", "limit": "\(limit)",
                    "note": "not logged again for this address for a minute",
                ])
        }
        return false
    }

    func close(from address: String?) {
        state.withLock { $0.counter.close(from: address) }
    }

    /// Logs that a client was refused for its address, at most once a minute per address.
    func refused(_ address: String, reason: String) {
        let warn = state.withLock { $0.throttle.shouldWarn(about: "refused " + address, now: .now) }
        guard warn else { return }
        logger.notice(
            "refused a client: its address is not allowed here",
            metadata: [
                "address": "\(address)", "reason": "\(reason)",
                "note": "not logged again for this address for a minute",
            ])
    }

    /// Logs that a request from `address` was cut off for arriving too slowly, at most once a minute per address.
    func requestTooSlow(from address: String?, deadline: Duration) {
        let warn = state.withLock { $0.throttle.shouldWarn(about: "deadline " + (address ?? ""), now: .now) }
        guard warn else { return }
        logger.warning(
            "closed a connection: its request did not arrive in time",
            metadata: [
                "address": "\(address ?? "local")", "deadline": "\(deadline)",
                "note": "not logged again for this address for a minute",
            ])
    }
}
