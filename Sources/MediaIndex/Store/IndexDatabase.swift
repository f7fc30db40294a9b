import CSystemShims
import GRDB
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Opens the index database, making sure that what is opened is healthy and of a schema this version knows.
///
/// The index is a cache of what the media folders hold, so a database that is corrupt, or that a newer mediapeer
/// wrote, is moved aside (never deleted, in case someone wants to look at it) and rebuilt from the folders.
enum IndexDatabase {
    static let fileName = "index.sqlite"

    struct Opened {
        var pool: DatabasePool
        /// Set when the previous database was unusable and moved to this path.
        var movedAsideTo: String?
    }

    static func open(stateDirectory: String, logger: Logger) throws(IndexError) -> Opened {
        let path = stateDirectory + "/" + fileName
        do {
            return Opened(pool: try openVerified(path: path), movedAsideTo: nil)
        } catch let problem as UnusableDatabase {
            let aside = path + ".unusable-" + String(Int(time(nil)))
            logger.error(
                "index database unusable, moving it aside and rebuilding from the media folders",
                metadata: ["path": "\(path)", "reason": "\(problem.reason)", "moved_to": "\(aside)"])
            for suffix in ["", "-wal", "-shm"] where access(path + suffix, F_OK) == 0 {
                guard rename(path + suffix, aside + suffix) == 0 else {
                    throw .cannotOpenDatabase(
                        path: path,
                        reason: "cannot move the unusable database aside: \(String(cString: strerror(errno)))")
                }
            }
            do {
                return Opened(pool: try openVerified(path: path), movedAsideTo: aside)
            } catch {
                throw .cannotOpenDatabase(path: path, reason: "\(error)")
            }
        } catch {
            throw .cannotOpenDatabase(path: path, reason: "\(error)")
        }
    }

    private struct UnusableDatabase: Error { var reason: String }

    private static func openVerified(path: String) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // Readers for the control API; writes are serialized by SQLite and by the index's own worker anyway.
        configuration.maximumReaderCount = 2
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // WAL with synchronous=NORMAL never corrupts on power loss (it may lose the last transactions, which a
            // rescan brings back), and spares the SD card an fsync per transaction.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // A cache of 2 MiB is plenty for an index this size; SQLite's default would be fine too, but make it
            // explicit for the RSS budget.
            try db.execute(sql: "PRAGMA cache_size = -2048")
            // After a checkpoint, SQLite truncates the WAL back to this size instead of leaving it at its peak.
            try db.execute(sql: "PRAGMA journal_size_limit = 1048576")
        }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch let error as DatabaseError where isCorruption(error) {
            throw UnusableDatabase(reason: error.message ?? "\(error)")
        }
        do {
            let check = try pool.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
            guard check == ["ok"] else {
                throw UnusableDatabase(reason: "integrity check failed: " + check.prefix(3).joined(separator: "; "))
            }
            let migrator = Schema.migrator
            if try pool.read({ db in try migrator.hasBeenSuperseded(db) }) {
                throw UnusableDatabase(reason: "it was written by a newer version of mediapeer")
            }
            try migrator.migrate(pool)
        } catch let error as DatabaseError where isCorruption(error) {
            try? pool.close()
            throw UnusableDatabase(reason: error.message ?? "\(error)")
        } catch let error as UnusableDatabase {
            try? pool.close()
            throw error
        }
        return pool
    }

    /// Folds the WAL into the main file and truncates it, so an index at rest is one file and its size is honest.
    /// Called when a burst of writes (a scan, a hashing backlog) is over, never on a hot path.
    static func compactWAL(_ pool: DatabasePool, logger: Logger) {
        do {
            _ = try pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        } catch {
            logger.debug("WAL checkpoint postponed", metadata: ["error": "\(error)"])
        }
        // The burst is over: drop SQLite's page caches and idle reader connections, and hand the freed heap back to
        // the kernel, so the idle daemon's memory is what it needs at rest rather than its peak.
        pool.releaseMemory()
        _ = mediapeer_release_free_heap()
    }

    /// Checkpoints the WAL into the main file and closes every connection, so a clean stop leaves one
    /// self-contained database file.
    static func close(_ pool: DatabasePool) throws {
        _ = try pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        try pool.close()
    }

    private static func isCorruption(_ error: DatabaseError) -> Bool {
        [.SQLITE_CORRUPT, .SQLITE_NOTADB].contains(error.resultCode)
    }
}
