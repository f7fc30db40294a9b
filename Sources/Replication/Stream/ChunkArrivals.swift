import NIOConcurrencyHelpers
import WireVocabulary

/// What the players of one fetch wait for: each chunk verified and written, or the fetch's end. The fetch job
/// tells it; readers wait on it, each wait ended at once when its task is cancelled.
final class ChunkArrivals: @unchecked Sendable {
    /// What a wait for a chunk came to.
    enum Arrival: Sendable, Equatable {
        /// The chunk is verified and written (or lies past the object's end); `fileSize` is the object's size.
        case ready(fileSize: Int64)
        /// The fetch ended without the chunk; the reason is for the player.
        case failed(String)
        case cancelled
    }

    private struct Waiter {
        let chunk: Int
        let continuation: CheckedContinuation<Arrival, Never>
    }

    // Every field below is guarded by `lock` (cancellation handlers run on any thread).
    private let lock = NIOLock()
    private var have: ChunkBitmap?
    private var fileSize: Int64 = 0
    private var failure: String?
    private var waiters: [Int: Waiter] = [:]
    private var nextWaiter = 0

    /// The manifest is known: `have` is what the partial file holds already.
    func known(_ have: ChunkBitmap, fileSize: Int64) {
        let ready = lock.withLock {
            self.have = have
            self.fileSize = fileSize
            return takeWaiters { have.contains($0) || $0 >= have.chunkCount }
        }
        for waiter in ready { waiter.resume(returning: .ready(fileSize: fileSize)) }
    }

    /// A chunk was verified and written.
    func verified(_ chunk: Int) {
        let (ready, size) = lock.withLock {
            have?.insert(chunk)
            return (takeWaiters { $0 == chunk }, fileSize)
        }
        for waiter in ready { waiter.resume(returning: .ready(fileSize: size)) }
    }

    /// The object is complete: every chunk is ready (in the published file).
    func completed() {
        let (all, size) = lock.withLock {
            if let count = have?.chunkCount { have = ChunkBitmap(chunkCount: count, full: true) }
            return (takeWaiters { _ in true }, fileSize)
        }
        for waiter in all { waiter.resume(returning: .ready(fileSize: size)) }
    }

    /// The fetch ended without completing (failed, cancelled, or the daemon stopping): waits, now and later,
    /// fail with `reason`.
    func failed(_ reason: String) {
        let all = lock.withLock {
            failure = reason
            return takeWaiters { _ in true }
        }
        for waiter in all { waiter.resume(returning: .failed(reason)) }
    }

    /// Waits until `chunk` is verified and written or the fetch ends; returns `.cancelled` at once when the task
    /// is cancelled.
    func arrival(of chunk: Int) async -> Arrival {
        let id = lock.withLock {
            nextWaiter += 1
            return nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now: Arrival? = lock.withLock {
                    // Cancelled before this point: the handler found no waiter to end.
                    if Task.isCancelled { return .cancelled }
                    if let have, have.contains(chunk) || chunk >= have.chunkCount { return .ready(fileSize: fileSize) }
                    if let failure { return .failed(failure) }
                    waiters[id] = Waiter(chunk: chunk, continuation: continuation)
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            lock.withLock { waiters.removeValue(forKey: id) }?.continuation.resume(returning: .cancelled)
        }
    }

    /// Removes the waiters whose chunk matches; call with the lock held.
    private func takeWaiters(_ matches: (Int) -> Bool) -> [CheckedContinuation<Arrival, Never>] {
        let ids = waiters.filter { matches($0.value.chunk) }.map(\.key)
        return ids.compactMap { waiters.removeValue(forKey: $0)?.continuation }
    }
}
