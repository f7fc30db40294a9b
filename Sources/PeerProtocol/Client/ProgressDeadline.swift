import NIOConcurrencyHelpers
import NIOCore

/// A deadline that moves each time the work it guards makes progress: a transfer of any length is cut off only
/// when nothing has arrived for `timeout`. AsyncHTTPClient's own deadline covers the response head, not the body.
final class ProgressDeadline: Sendable {
    struct Exceeded: Error, CustomStringConvertible {
        var description: String { "no progress within the deadline" }
    }

    private let timeout: TimeAmount
    /// When the deadline passes, and whether it is stopped (the work waits on something of its own, not on the
    /// party the deadline is for).
    private let state: NIOLockedValueBox<(due: NIODeadline, paused: Bool)>

    init(timeout: TimeAmount) {
        self.timeout = timeout
        state = NIOLockedValueBox((.now() + timeout, false))
    }

    /// Progress was made: the deadline is `timeout` from now (and runs again if it was paused).
    func extend() {
        state.withLockedValue { $0 = (.now() + timeout, false) }
    }

    /// Stops the deadline until the next ``extend()``: the time the work now spends waiting on itself (our own
    /// disk) is not held against the peer.
    func pause() {
        state.withLockedValue { $0.paused = true }
    }

    /// Runs `body`, cancelling it and throwing ``Exceeded`` once the deadline passes before it returns.
    func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                while true {
                    let (due, paused) = self.state.withLockedValue { $0 }
                    // While paused, look again a timeout later: a pause ends with an extension.
                    let remaining = paused ? self.timeout : due - .now()
                    guard remaining > .zero else { return nil }
                    try await Task.sleep(nanoseconds: UInt64(remaining.nanoseconds))
                }
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw Exceeded() }
            return value
        }
    }
}
