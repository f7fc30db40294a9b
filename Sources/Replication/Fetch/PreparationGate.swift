import ContentID
import NIOConcurrencyHelpers

/// The verified manifest and open partial file of a fetch, for a request sent before they were ready (a player's
/// first chunk, asked for together with the manifest): its chunk waits here until the fetch has them.
final class PreparationGate: @unchecked Sendable {
    typealias Prepared = (verifier: ChunkVerifier, file: PartialFile)

    // Every field below is guarded by `lock` (cancellation handlers run on any thread).
    private let lock = NIOLock()
    private var prepared: Prepared?
    /// The fetch could not prepare (no manifest) or ended: waits end with nil.
    private var closed = false
    private var waiters: [Int: CheckedContinuation<Prepared?, Never>] = [:]
    private var nextWaiter = 0

    /// The manifest is verified and the partial file open.
    func open(_ verifier: ChunkVerifier, _ file: PartialFile) {
        let waiting = lock.withLock {
            prepared = (verifier, file)
            closed = false
            return takeWaiters()
        }
        for waiter in waiting { waiter.resume(returning: (verifier, file)) }
    }

    /// No manifest came, or the fetch is ending: the waits now end with nil (a later ``open(_:_:)`` serves later
    /// waits).
    func close() {
        let waiting = lock.withLock {
            closed = true
            return takeWaiters()
        }
        for waiter in waiting { waiter.resume(returning: nil) }
    }

    /// Waits until the fetch is prepared (its manifest and file) or cannot be; nil at once when the task is
    /// cancelled.
    func wait() async -> Prepared? {
        let id = lock.withLock {
            nextWaiter += 1
            return nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now: Prepared?? = lock.withLock {
                    if Task.isCancelled || closed { return .some(nil) }
                    if let prepared { return .some(prepared) }
                    waiters[id] = continuation
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            lock.withLock { waiters.removeValue(forKey: id) }?.resume(returning: nil)
        }
    }

    /// Removes every waiter; call with the lock held.
    private func takeWaiters() -> [CheckedContinuation<Prepared?, Never>] {
        defer { waiters.removeAll() }
        return Array(waiters.values)
    }
}
