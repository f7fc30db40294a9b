import ContentID
import Dispatch
import GRDB
import Logging
import Synchronization

/// Computes content ids after the metadata scan, on a thread at nice 19 in the idle I/O class, so a box that is
/// playing a film never stutters because of it.
///
/// Its work list is the index itself (rows whose `content_id` is NULL), so a restart resumes where it stopped and
/// only files whose size, mtime or inode changed (which the scanner resets to NULL) are hashed again. It sleeps on
/// a semaphore when there is nothing to do.
final class BackgroundHasher: Sendable {
    private let pool: DatabasePool
    private let logger: Logger
    private let wake = DispatchSemaphore(value: 0)
    private let running = Atomic<Bool>(true)
    private let done = DispatchSemaphore(value: 0)
    private let statistics = Mutex(Statistics())

    struct Statistics: Sendable {
        var filesHashed = 0
        var bytesHashed: Int64 = 0
        var nanoseconds: UInt64 = 0
    }

    /// Told of a file found changed since the scan recorded it, so the index records it again (inotify reports
    /// no truncate(2) and no write whose writer has not closed the file yet).
    private let staleFile: @Sendable (_ root: String, _ relativePath: String) -> Void

    init(pool: DatabasePool, logger: Logger, staleFile: @escaping @Sendable (String, String) -> Void = { _, _ in }) {
        self.pool = pool
        self.logger = logger
        self.staleFile = staleFile
    }

    var hashed: Statistics { statistics.withLock { $0 } }

    func start() {
        startThread(name: "hasher", lowPriority: true) { [self] in
            run()
            done.signal()
        }
    }

    /// Tells the hasher that rows may be waiting.
    func poke() { wake.signal() }

    func stop() {
        running.store(false, ordering: .relaxed)
        wake.signal()
        done.wait()
    }

    private func run() {
        var lastID: Int64 = 0
        // Content ids that could not be stored (the state disk full) are hashed again later, not only at the next
        // change of the media folders.
        var retry = ScanRetry()
        var storeFailed = false
        while running.load(ordering: .relaxed) {
            let batch: [Row]
            do {
                batch = try pool.read { db in
                    try Row.fetchAll(
                        db,
                        sql: """
                            SELECT m.id, r.path AS root, m.rel_path, m.size, m.mtime_ns, m.inode FROM media m
                            JOIN root r ON r.id = m.root_id
                            WHERE m.content_id IS NULL AND m.metadata_state = 1 AND m.id > ? ORDER BY m.id LIMIT 64
                            """, arguments: [lastID])
                }
            } catch {
                logger.error("hasher cannot read the index", metadata: ["error": "\(error)"])
                batch = []
            }
            guard let last = batch.last else {
                // Everything up to the end was tried; sleep until the scanner or watcher records changes.
                if lastID != 0 { IndexDatabase.compactWAL(pool, logger: logger) }
                lastID = 0
                if storeFailed {
                    storeFailed = false
                    // Each pass over the list is this hasher's one retry: the wait before the next doubles.
                    retry.retryStarted()
                    let delay = retry.failed() ?? ScanRetry.longestDelay
                    _ = wake.wait(timeout: MediaLibrary.deadline(after: delay, from: .now()))
                } else {
                    retry.succeeded()
                    wake.wait()
                }
                continue
            }
            lastID = last["id"]
            // One transaction per batch: a transaction per small file would write ~8 KiB of WAL each to the SD card.
            var results: [IndexWriter.HashResult] = []
            var bytes: Int64 = 0
            for row in batch where running.load(ordering: .relaxed) {
                guard let result = hash(row) else { continue }
                results.append(result)
                bytes += result.manifest.fileSize
                if bytes >= 256 << 20 {
                    storeFailed = !store(results) || storeFailed
                    results.removeAll()
                    bytes = 0
                }
            }
            storeFailed = !store(results) || storeFailed
        }
    }

    /// - returns: false when the index could not store them.
    private func store(_ results: [IndexWriter.HashResult]) -> Bool {
        guard !results.isEmpty else { return true }
        do {
            try pool.write { db in try IndexWriter.storeContentIDs(db, results) }
            return true
        } catch {
            logger.error("cannot store content ids", metadata: ["error": "\(error)"])
            return false
        }
    }

    private func hash(_ row: Row) -> IndexWriter.HashResult? {
        let root: String = row["root"]
        let relativePath: String = row["rel_path"]
        let path = root + "/" + relativePath
        let recorded = FileFacts(size: row["size"], mtimeNanoseconds: row["mtime_ns"], inode: row["inode"])
        // A file that changed since the scan recorded it is recorded again, and hashed then.
        guard TreeWalker.facts(ofFileAt: path)?.facts == recorded else {
            staleFile(root, relativePath)
            return nil
        }
        let started = DispatchTime.now().uptimeNanoseconds
        let manifest: ChunkManifest
        do {
            manifest = try FileHasher.manifest(ofFileAt: path, shouldContinue: { running.load(ordering: .relaxed) })
        } catch .cancelled {
            return nil
        } catch {
            logger.warning("cannot hash file", metadata: ["path": "\(path)", "error": "\(error)"])
            return nil
        }
        // Written while we read: the bytes hashed may be a mix of old and new, so the result is not trusted.
        guard manifest.fileSize == recorded.size, TreeWalker.facts(ofFileAt: path)?.facts == recorded else {
            staleFile(root, relativePath)
            return nil
        }
        let elapsed = DispatchTime.now().uptimeNanoseconds - started
        statistics.withLock {
            $0.filesHashed += 1
            $0.bytesHashed += manifest.fileSize
            $0.nanoseconds += elapsed
        }
        return IndexWriter.HashResult(id: row["id"], facts: recorded, manifest: manifest)
    }
}
