import NIOConcurrencyHelpers
import NIOCore

/// A deadline that moves each time the work it guards makes progress: a transfer of any length is cut off only
/// when nothing has arrived for `timeout`. AsyncHTTPClient's own deadline covers the response head, not the body.
final class ProgressDeadline: Sendable {
    struct Exceeded: Error, CustomStringConvertible {
        var description: String { "no progress within the deadline" }
    }

    private let timeout: TimeAmount
    private let due: NIOLockedValueBox<NIODeadline>

    init(timeout: TimeAmount) {
        self.timeout = timeout
        due = NIOLockedValueBox(.now() + timeout)
    }

    /// Progress was made: the deadline is `timeout` from now.
    func extend() {
        due.withLockedValue { $0 = .now() + timeout }
    }

    /// Runs `body`, cancelling it and throwing ``Exceeded`` once the deadline passes before it returns.
    func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                while true {
                    let remaining = self.due.withLockedValue { $0 } - .now()
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
