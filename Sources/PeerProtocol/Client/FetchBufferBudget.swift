import Synchronization

/// The memory every fetch of the daemon together may hold in pieces received and not yet written
/// (``PeerClient/pieces(_:id:range:pieceLength:pieceTimeout:buffers:deliver:)`` reserves each piece's bytes before
/// it allocates the piece's buffer, and releases them once the piece is delivered).
///
/// A reservation that does not fit waits, in arrival order, until enough is released: a request waiting for room
/// reads nothing more from its connection, so the peer's sending stalls on TCP back-pressure rather than in this
/// box's memory. A waiter whose task is cancelled leaves the queue at once; a release wakes the waiters that now
/// fit. Waiting is strictly first come, first served, so a large reservation is not starved by small ones.
///
/// ```swift
/// let buffers = FetchBufferBudget(bytes: PeerLimits.fetchBufferBudget)
/// let granted = try await buffers.reserve(1 << 20)
/// defer { buffers.release(granted) }
/// ```
public final class FetchBufferBudget: Sendable {
    private struct Waiter {
        var id: UInt64
        var bytes: Int
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var available: Int
        var waiters: [Waiter] = []
        var nextWaiterID: UInt64 = 0
    }

    /// The size of the whole budget.
    public let capacity: Int
    private let state: Mutex<State>

    /// - Parameter bytes: the whole budget (at least 1).
    public init(bytes: Int) {
        capacity = max(1, bytes)
        state = Mutex(State(available: max(1, bytes)))
    }

    /// The bytes not reserved now.
    public var available: Int { state.withLock { $0.available } }

    /// Waiting reservations.
    public var waiting: Int { state.withLock { $0.waiters.count } }

    /// Reserves `bytes`, waiting until they fit; returns the bytes reserved, to be given back to ``release(_:)``.
    /// A reservation larger than the whole budget takes the whole budget (so it waits for every other to end, but
    /// is never refused).
    ///
    /// - Throws: `CancellationError` when the task is cancelled before the bytes are granted; nothing is then
    ///   reserved.
    public func reserve(_ bytes: Int) async throws -> Int {
        let wanted = min(max(0, bytes), capacity)
        let id: UInt64? = state.withLock { state in
            // Arrival order: nobody overtakes a waiter, even with a reservation that would fit.
            if state.waiters.isEmpty, state.available >= wanted {
                state.available -= wanted
                return nil
            }
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        guard let id else { return wanted }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Outcome { case queued, granted, cancelled }
                let outcome = state.withLock { state -> Outcome in
                    // Checked under the lock the cancellation handler takes too: a task cancelled before it is
                    // queued is never queued, one cancelled after is taken out by the handler.
                    guard !Task.isCancelled else { return .cancelled }
                    // Room given back since the first look was handed to nobody (this waiter was not queued
                    // yet): take it now, or it would wait for a release that may never come.
                    if state.waiters.isEmpty, state.available >= wanted {
                        state.available -= wanted
                        return .granted
                    }
                    state.waiters.append(Waiter(id: id, bytes: wanted, continuation: continuation))
                    return .queued
                }
                switch outcome {
                case .queued: break
                case .granted: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let removed = state.withLock { state in
                state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0) }
            }
            guard let removed else { return }
            removed.continuation.resume(throwing: CancellationError())
            // The waiter that left may have held back smaller ones behind it.
            release(0)
        }
        return wanted
    }

    /// Gives back bytes ``reserve(_:)`` returned, and grants the waiters, in order, that now fit.
    public func release(_ bytes: Int) {
        let granted = state.withLock { state -> [Waiter] in
            state.available = min(capacity, state.available + max(0, bytes))
            var granted: [Waiter] = []
            while let first = state.waiters.first, first.bytes <= state.available {
                state.available -= first.bytes
                granted.append(state.waiters.removeFirst())
            }
            return granted
        }
        for waiter in granted { waiter.continuation.resume() }
    }
}
