import Dispatch
import GRDB
import Logging
import MediaProbe
import WireVocabulary

/// Brings the index in line with the media folders: a fast walk that records new and changed files by name
/// (stat and a magic-byte check only), then a metadata pass over what the walk found.
///
/// An unchanged tree costs one `readdir` per folder and one `fstatat` per file, and writes nothing.
final class Scanner: @unchecked Sendable {  // used from the index worker thread only
    private let pool: DatabasePool
    private let logger: Logger
    private let progress: ProgressBox
    private let batchSize = 512

    init(pool: DatabasePool, logger: Logger, progress: ProgressBox) {
        self.pool = pool
        self.logger = logger
        self.progress = progress
    }

    struct WalkOutcome {
        var recorded = 0
        var deleted = 0
        var unchanged = 0
    }

    /// Walks `root/subtree` and records what changed. Rows below the subtree whose files are gone are deleted,
    /// unless the media folder itself is missing (an unmounted drive must not empty the library).
    func walk(root: String, rootID: Int64, subtree: String = "", onDirectory: (String, String) -> Void) throws
        -> WalkOutcome
    {
        var outcome = WalkOutcome()
        guard TreeWalker.facts(ofFileAt: root)?.isDirectory == true else {
            logger.warning(
                "media folder is missing or not a folder; keeping its files in the index until it is back",
                metadata: ["folder": "\(root)"])
            return outcome
        }
        var existing = try pool.read { db in try IndexWriter.existingFacts(db, rootID: rootID) }
        let device = TreeWalker.device(ofFolderAt: root)
        if subtree.isEmpty {
            let recorded = try pool.read { db in try IndexWriter.rootDevice(db, rootID: rootID) }
            if Self.isUnmountedDrive(
                indexedFiles: existing.count, device: device, recordedDevice: recorded,
                isEmpty: TreeWalker.isEmptyFolder(root))
            {
                logger.warning(
                    "media folder is empty and on another file system than when its files were indexed: a drive not mounted (yet); keeping its files in the index until it is back",
                    metadata: ["folder": "\(root)", "files": "\(existing.count)"])
                return outcome
            }
            if let device, device != recorded {
                try pool.write { db in try IndexWriter.recordRootDevice(db, rootID: rootID, device: device) }
            }
        }
        try setAsideDrivesNotMounted(below: root, rootID: rootID, existing: &existing)
        if !subtree.isEmpty {
            let prefix = Array((subtree + "/").utf8)
            existing = existing.filter { $0.key.starts(with: prefix) }
        }
        var batch: [IndexWriter.Found] = []
        batch.reserveCapacity(batchSize)
        var firstError: (any Error)?

        func flush() {
            guard !batch.isEmpty, firstError == nil else { return }
            let files = batch
            batch.removeAll(keepingCapacity: true)
            do {
                try pool.write { db in try IndexWriter.upsert(db, rootID: rootID, files: files) }
                outcome.recorded += files.count
            } catch {
                firstError = error
            }
        }

        TreeWalker(root: root).walk(
            from: subtree, directory: onDirectory,
            file: { file in
                progress.update { $0.filesSeen += 1 }
                let key = Array(file.relativePath.utf8)
                let known = existing.removeValue(forKey: key)
                if let known, known.facts == file.facts {
                    outcome.unchanged += 1
                    return
                }
                // A known file that changed into something unplayable (emptied, cut before its header, overwritten
                // with other content, no longer readable) loses its row with the gone files below: its old row
                // would offer players a title that is no longer there.
                let sniffed: SniffResult?
                do {
                    sniffed = try MediaSniffer.sniff(path: file.absolutePath)
                } catch {
                    existing[key] = known
                    progress.skip(.unreadable)
                    logger.debug("skipped", metadata: ["path": "\(file.absolutePath)", "reason": "\(error)"])
                    return
                }
                guard let sniffed else {
                    existing[key] = known
                    if MediaSniffer.hasMediaExtension(file.relativePath) {
                        progress.skip(.contentMismatch)
                        logger.debug(
                            "skipped",
                            metadata: [
                                "path": "\(file.absolutePath)", "reason": "\(SkipReason.contentMismatch.rawValue)",
                            ])
                    }
                    return
                }
                batch.append(.init(relativePath: file.relativePath, sniffed: sniffed, facts: file.facts))
                if batch.count >= batchSize { flush() }
            },
            skip: { reason, path in
                progress.skip(reason)
                logger.debug("skipped", metadata: ["path": "\(root)/\(path)", "reason": "\(reason.rawValue)"])
            })
        flush()
        if let firstError { throw firstError }

        if !existing.isEmpty {
            let ids = existing.values.map(\.id)
            try pool.write { db in try IndexWriter.delete(db, ids: ids) }
            outcome.deleted = ids.count
        }
        return outcome
    }

    /// Takes out of `existing` (so the walk keeps them) the files of every drive that was mounted below the media
    /// folder when they were indexed and is not now, its mount point an empty (or missing) folder: a drive pulled out
    /// of `Films/usb` keeps its titles, as a media folder that is itself a drive's mount point does. The mount points
    /// found are recorded, and one is forgotten once it holds no indexed file or has files of its own while not
    /// mounted (a folder used as a plain folder again). Writes only when the set changes: no idle writes.
    private func setAsideDrivesNotMounted(
        below root: String, rootID: Int64, existing: inout [[UInt8]: (id: Int64, facts: FileFacts)]
    ) throws {
        let mounted = MountPoints.current(below: root)
        let recorded = try pool.read { db in try IndexWriter.mountPointsBelow(db, rootID: rootID) }
        var forgotten: Set<String> = []
        for mountPoint in recorded.subtracting(mounted) {
            let prefix = Array((mountPoint + "/").utf8)
            let files = existing.keys.filter { $0.starts(with: prefix) }
            let folder = root + "/" + mountPoint
            let looksUnmounted = TreeWalker.facts(ofFileAt: folder) == nil || TreeWalker.isEmptyFolder(folder)
            guard !files.isEmpty, looksUnmounted else {
                forgotten.insert(mountPoint)
                continue
            }
            for file in files { existing.removeValue(forKey: file) }
            logger.warning(
                "a drive mounted in a media folder is not mounted now; keeping its files in the index until it is back",
                metadata: ["folder": "\(folder)", "files": "\(files.count)"])
        }
        let added = mounted.subtracting(recorded)
        guard !added.isEmpty || !forgotten.isEmpty else { return }
        try pool.write { db in
            try IndexWriter.recordMountPointsBelow(db, rootID: rootID, adding: added, forgetting: forgotten)
        }
    }

    /// Whether a media folder looks like the mount point of a drive that is not mounted: empty, on another file system
    /// than when its indexed files were found. A folder emptied on purpose stays on its file system, and its files go.
    static func isUnmountedDrive(indexedFiles: Int, device: UInt64?, recordedDevice: UInt64?, isEmpty: Bool) -> Bool {
        guard indexedFiles > 0, isEmpty, let device, let recordedDevice else { return false }
        return device != recordedDevice
    }

    /// Reads metadata for every file the walk recorded, two files at a time (the boxes have two to four cores and
    /// the player needs one).
    func readPendingMetadata() throws -> Int {
        var total = 0
        let pending = try pool.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM media WHERE metadata_state = 0") ?? 0
        }
        progress.update {
            $0.filesToRead = pending
            $0.filesRead = 0
        }
        var lastID: Int64 = 0
        while true {
            let rows = try pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT m.id, r.path || '/' || m.rel_path AS path, m.kind, m.mime FROM media m
                        JOIN root r ON r.id = m.root_id WHERE m.metadata_state = 0 AND m.id > ? ORDER BY m.id LIMIT 256
                        """, arguments: [lastID])
            }
            guard let last = rows.last else { break }
            lastID = last["id"]
            let jobs: [(id: Int64, path: String, sniffed: SniffResult)] = rows.compactMap { row in
                guard let kind = MediaKind(rawValue: row["kind"]) else { return nil }
                return (row["id"], row["path"], SniffResult(kind: kind, mimeType: row["mime"]))
            }
            let results = Self.readMetadata(jobs)
            try pool.write { db in try IndexWriter.storeMetadata(db, results: results) }
            total += results.count
            progress.update { $0.filesRead += results.count }
        }
        return total
    }

    static func readMetadata(_ jobs: [(id: Int64, path: String, sniffed: SniffResult)]) -> [IndexWriter.MetadataResult]
    {
        let lanes = 2
        let results = ResultSlots<IndexWriter.MetadataResult>(count: jobs.count)
        DispatchQueue.concurrentPerform(iterations: lanes) { lane in
            var index = lane
            while index < jobs.count {
                let job = jobs[index]
                results.set(
                    index, .init(id: job.id, metadata: MediaProbe.metadata(path: job.path, sniffed: job.sniffed)))
                index += lanes
            }
        }
        return results.values
    }
}

/// Fixed slots written by concurrent lanes, each slot by exactly one lane, read after all lanes finished.
private final class ResultSlots<Value>: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<Value?>
    init(count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil)
    }
    deinit {
        storage.deinitialize()
        storage.deallocate()
    }
    func set(_ index: Int, _ value: Value) { storage[index] = value }
    var values: [Value] { storage.compactMap { $0 } }
}
