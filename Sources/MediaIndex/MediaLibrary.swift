import ControlWire
import Dispatch
import Foundation
import GRDB
import Logging
import MediaProbe
import Synchronization
import WireVocabulary

/// What the index needs to know of the configuration.
public struct LibraryConfiguration: Sendable {
    /// Absolute paths of the media folders.
    public var mediaFolders: [String]
    /// Where `index.sqlite` lives.
    public var stateDirectory: String
    /// Periodic full rescans, for file systems where inotify sees nothing (SMB, FUSE). Nil: none.
    public var rescanInterval: Duration?
    /// Caps inotify watches below the kernel limit (tests of the fallback use it).
    public var maxWatches: Int?

    public init(mediaFolders: [String], stateDirectory: String, rescanInterval: Duration? = nil, maxWatches: Int? = nil)
    {
        self.mediaFolders = Self.normalized(mediaFolders)
        self.stateDirectory = stateDirectory
        self.rescanInterval = rescanInterval
        self.maxWatches = maxWatches
    }

    /// Without a trailing slash, so one folder is one root however it was written.
    static func normalized(_ folders: [String]) -> [String] {
        folders.map { $0.count > 1 && $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }
}

/// The box's own media: an SQLite index of the media folders, kept current by scans, inotify and a background
/// hasher.
///
/// ```swift
/// let library = try MediaLibrary(configuration: config, logger: logger)
/// library.start()              // initial (incremental) scan, live updates, hashing
/// library.reconfigure(mediaFolders: ["/srv/media", "/mnt/usb"])   // a configuration reload
/// let hits = try await library.search("holiday", kind: .image, limit: 20)
/// library.shutdown()           // stops the threads and closes the database
/// ```
///
/// All writes happen on one worker thread, in order, so a scan and live updates never race each other; reads
/// (the query methods) run concurrently on SQLite's WAL snapshots and never wait for a scan.
public final class MediaLibrary: Sendable {
    private let configuration: LibraryConfiguration
    private let logger: Logger
    private let pool: DatabasePool
    private let progress = ProgressBox()
    private let mailbox = Mailbox()
    private let workerDone = DispatchSemaphore(value: 0)
    private let hasher: BackgroundHasher
    private let watcher: InotifyWatcher
    private let mounts: MountWatcher
    private let started = Atomic<Bool>(false)
    /// The media folders in force; a reload replaces them while the worker runs.
    private let folders: Mutex<[String]>
    private let databasePath: String
    /// Set when the database found at start was unusable and moved to this path before rebuilding.
    public let unusableDatabaseMovedTo: String?
    /// The shareable side of the index: catalog deltas, manifests, replicas and the neighbours' catalogs.
    public let catalog: Catalog

    /// Work for the worker thread, and the semaphore it sleeps on.
    private final class Mailbox: Sendable {
        struct Inbox {
            var changes: [FileSystemChange] = []
            var scanRequested = false
            var foldersChanged = false
            /// A file system was mounted or unmounted: a media folder may be on another one now.
            var mountsChanged = false
            var stopping = false
        }
        let inbox = Mutex(Inbox())
        let wake = DispatchSemaphore(value: 0)
    }

    private var wake: DispatchSemaphore { mailbox.wake }

    /// Opens (or creates, or rebuilds) the index. Nothing is scanned until ``start()``.
    public init(configuration: LibraryConfiguration, logger: Logger) throws(IndexError) {
        self.configuration = configuration
        self.logger = logger
        folders = Mutex(configuration.mediaFolders)
        if mkdir(configuration.stateDirectory, 0o755) != 0, errno != EEXIST {
            throw .cannotCreateDirectory(path: configuration.stateDirectory, reason: String(cString: strerror(errno)))
        }
        // Told apart before SQLite tries: it says only "unable to open database file" or "readonly database".
        if access(configuration.stateDirectory, W_OK) != 0 {
            throw .stateFolderNotWritable(path: configuration.stateDirectory, reason: String(cString: strerror(errno)))
        }
        let opened = try IndexDatabase.open(stateDirectory: configuration.stateDirectory, logger: logger)
        pool = opened.pool
        unusableDatabaseMovedTo = opened.movedAsideTo
        databasePath = configuration.stateDirectory + "/" + IndexDatabase.fileName
        let progress = self.progress
        let mailbox = self.mailbox
        let staleFile: @Sendable (String, String) -> Void = { root, path in
            mailbox.inbox.withLock { $0.changes.append(.fileChanged(root: root, path: path)) }
            mailbox.wake.signal()
        }
        hasher = BackgroundHasher(pool: pool, logger: logger, staleFile: staleFile)
        catalog = Catalog(pool: pool, staleFile: staleFile)
        watcher = InotifyWatcher(
            maxWatches: configuration.maxWatches, logger: logger,
            deliver: { changes in
                mailbox.inbox.withLock { $0.changes.append(contentsOf: changes) }
                mailbox.wake.signal()
            },
            onLimitReached: { progress.update { $0.liveUpdatesDegraded = true } })
        mounts = MountWatcher(onChange: {
            mailbox.inbox.withLock { $0.mountsChanged = true }
            mailbox.wake.signal()
        })
    }

    /// Starts the initial scan (incremental when the index already has the tree), live updates and hashing.
    public func start() {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        _ = requestScan()
        watcher.start()
        mounts.start()
        hasher.start()
        startThread(name: "index") { [self] in
            runWorker()
            workerDone.signal()
        }
    }

    /// Stops scanning, watching and hashing (each at its next step, never mid-transaction) and closes the database.
    public func shutdown() {
        if started.load(ordering: .relaxed) {
            mailbox.inbox.withLock { $0.stopping = true }
            wake.signal()
            workerDone.wait()
            mounts.stop()
            watcher.stop()
            hasher.stop()
        }
        do {
            try IndexDatabase.close(pool)
        } catch {
            logger.error("cannot close the index database cleanly", metadata: ["error": "\(error)"])
        }
    }

    /// Queues a full scan and returns its number: the scan is done when ``scanProgress``'s `completedScans`
    /// reaches it. Requests made while one is queued share it.
    @discardableResult
    public func requestScan() -> Int {
        let number = mailbox.inbox.withLock { inbox -> Int in
            if inbox.scanRequested { return progress.value.requestedScans }
            inbox.scanRequested = true
            return progress.update {
                $0.requestedScans += 1
                return $0.requestedScans
            }
        }
        wake.signal()
        return number
    }

    public var scanProgress: ScanProgress { progress.value }

    /// The media folders in force.
    public var mediaFolders: [String] { folders.withLock { $0 } }

    /// Replaces the media folders without a restart (SIGHUP): the worker drops the rows of folders no longer listed
    /// (and their inotify watches) and scans, which indexes the new folders and only `stat`s the unchanged ones.
    ///
    /// - returns: the number of that scan (see ``requestScan()``), or nil when the folders are the same as before.
    @discardableResult
    public func reconfigure(mediaFolders newFolders: [String]) -> Int? {
        let newFolders = LibraryConfiguration.normalized(newFolders)
        let changed = folders.withLock { folders -> Bool in
            guard folders != newFolders else { return false }
            folders = newFolders
            return true
        }
        guard changed else { return nil }
        mailbox.inbox.withLock { $0.foldersChanged = true }
        return requestScan()
    }

    /// Files and bytes hashed since start, and the time spent.
    public var hashingStatistics: (filesHashed: Int, bytesHashed: Int64, nanoseconds: UInt64) {
        let hashed = hasher.hashed
        return (hashed.filesHashed, hashed.bytesHashed, hashed.nanoseconds)
    }

    // MARK: Queries

    public func list(kind: MediaKind? = nil, limit: Int = 100, offset: Int = 0) async throws(IndexError) -> [MediaItem]
    {
        try await read { db in try LibraryQueries.list(db, kind: kind, limit: limit, offset: offset) }
    }

    public func count(kind: MediaKind? = nil) async throws(IndexError) -> Int {
        try await read { db in try LibraryQueries.count(db, kind: kind) }
    }

    /// Matches every word of `text` against the start of words in titles, artists, albums and paths.
    public func search(_ text: String, kind: MediaKind? = nil, limit: Int = 100) async throws(IndexError) -> [MediaItem]
    {
        try await read { db in try LibraryQueries.search(db, text: text, kind: kind, limit: limit) }
    }

    /// Finds an item by its local id, its content id, or a content-id prefix of at least 8 hex digits.
    public func item(_ reference: String) async throws(IndexError) -> MediaItem? {
        try await read { db in try LibraryQueries.item(db, reference: reference) }
    }

    public func statistics() async throws(IndexError) -> LibraryStatistics {
        let bytes = [databasePath, databasePath + "-wal"].reduce(Int64(0)) {
            $0 + (TreeWalker.facts(ofFileAt: $1)?.facts.size ?? 0)
        }
        return try await read { db in try LibraryQueries.statistics(db, databaseBytes: bytes) }
    }

    /// The catalog generation: it changes whenever the index changes.
    public func generation() throws(IndexError) -> Int64 {
        try read { db in try LibraryQueries.generation(db) }
    }

    /// The catalog generation: it changes whenever the index changes.
    public func generation() async throws(IndexError) -> Int64 {
        try await read { db in try LibraryQueries.generation(db) }
    }

    /// The catalog generation now and after every change (GRDB `ValueObservation`, which wakes only on commits
    /// that touch `meta`): what the daemon puts in its mDNS TXT record so neighbours know when to re-sync.
    public func generationUpdates() -> AsyncStream<Int64> {
        let observation = ValueObservation.tracking { db in try LibraryQueries.generation(db) }.removeDuplicates()
        let pool = self.pool
        let logger = self.logger
        return AsyncStream { continuation in
            let task = Task {
                do {
                    for try await generation in observation.values(in: pool) { continuation.yield(generation) }
                } catch is CancellationError {
                } catch {
                    logger.error("generation observation stopped", metadata: ["error": "\(error)"])
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private func read<T>(_ body: (Database) throws -> T) throws(IndexError) -> T {
        do {
            return try pool.read(body)
        } catch {
            throw IndexError(error)
        }
    }

    /// GRDB's async access: the task waits for a connection without holding a cooperative thread.
    private func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws(IndexError) -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw IndexError(error)
        }
    }

    // MARK: Worker

    private func runWorker() {
        var activeFolders = mediaFolders
        var rootIDs = prepareRoots(activeFolders)
        var devices = Self.devices(of: activeFolders)
        var mountsBelow = MountPoints.current(below: activeFolders)
        var retry = ScanRetry()
        var retryAt: DispatchTime?
        while true {
            let periodic = periodicRescanInterval.map { Self.deadline(after: $0, from: .now()) } ?? .distantFuture
            if wake.wait(timeout: min(periodic, retryAt ?? .distantFuture)) == .timedOut {
                if let due = retryAt, due <= .now() {
                    logger.info("scanning again: the index could not record every change last time")
                    retryAt = nil
                    retry.retryStarted()
                } else {
                    logger.info("periodic rescan")
                }
                _ = requestScan()
            }
            let (changes, scanRequested, foldersChanged, mountsChanged, stopping) = mailbox.inbox.withLock { inbox in
                defer {
                    inbox.changes = []
                    inbox.scanRequested = false
                    inbox.foldersChanged = false
                    inbox.mountsChanged = false
                }
                return (
                    inbox.changes, inbox.scanRequested, inbox.foldersChanged, inbox.mountsChanged, inbox.stopping
                )
            }
            if stopping { return }
            var scan = scanRequested
            if foldersChanged {
                let newFolders = mediaFolders
                // Changes already queued for a dropped folder find no root id below and are ignored.
                for folder in activeFolders where !newFolders.contains(folder) {
                    watcher.unwatch(root: folder, folder: "")
                }
                activeFolders = newFolders
                rootIDs = prepareRoots(activeFolders)
                devices = Self.devices(of: activeFolders)
                mountsBelow = MountPoints.current(below: activeFolders)
            }
            if mountsChanged {
                let now = Self.devices(of: activeFolders)
                let moved = activeFolders.filter { now[$0] != devices[$0] }
                devices = now
                let mountsNow = MountPoints.current(below: activeFolders)
                let remounted = activeFolders.filter { !moved.contains($0) && mountsNow[$0] != mountsBelow[$0] }
                for folder in remounted {
                    let changed = (mountsNow[folder] ?? []).symmetricDifference(mountsBelow[folder] ?? [])
                    for mountPoint in changed { watcher.unwatch(root: folder, folder: mountPoint) }
                }
                mountsBelow = mountsNow
                if !moved.isEmpty || !remounted.isEmpty {
                    // The watches are on the folder the drive now covers (or on the drive that left): watch anew.
                    for folder in moved { watcher.unwatch(root: folder, folder: "") }
                    logger.info(
                        "a drive was mounted or unmounted in or as a media folder; rescanning",
                        metadata: ["folders": "\((moved + remounted).joined(separator: ","))"])
                    // Counted as a requested scan (for `completedScans`), and run in this pass.
                    _ = requestScan()
                    mailbox.inbox.withLock { $0.scanRequested = false }
                    scan = true
                }
            }
            var recordedEverything = true
            if scan || changes.contains(.overflow) {
                recordedEverything = runScan(rootIDs: rootIDs)
                if recordedEverything {
                    retry.succeeded()
                    retryAt = nil
                }
            } else if !changes.isEmpty {
                recordedEverything = apply(changes, rootIDs: rootIDs)
            }
            if !recordedEverything, let delay = retry.failed() {
                retryAt = Self.deadline(after: delay, from: .now())
                logger.warning("the index could not record every change; scanning again in \(delay)")
            }
            hasher.poke()
        }
    }

    /// The device of each folder's file system (nil for a folder missing now).
    private static func devices(of folders: [String]) -> [String: UInt64] {
        var devices: [String: UInt64] = [:]
        for folder in folders { devices[folder] = TreeWalker.device(ofFolderAt: folder) }
        return devices
    }

    /// `interval` after `now`, computed in 64-bit nanoseconds on every architecture: `DispatchTimeInterval` takes an
    /// `Int`, 32 bits on armhf, where `.seconds(Int(...))` of a long `rescan_interval` would trap. An interval
    /// past what `DispatchTime` counts (about 584 years of uptime) is never.
    static func deadline(after interval: Duration, from now: DispatchTime) -> DispatchTime {
        let (seconds, attoseconds) = interval.components
        guard seconds >= 0, attoseconds >= 0 else { return now }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        let (nanoseconds, overflow2) = whole.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000))
        let (uptime, overflow3) = now.uptimeNanoseconds.addingReportingOverflow(nanoseconds)
        return overflow || overflow2 || overflow3 ? .distantFuture : DispatchTime(uptimeNanoseconds: uptime)
    }

    private var periodicRescanInterval: Duration? {
        if let interval = configuration.rescanInterval { return interval }
        return progress.value.liveUpdatesDegraded ? .seconds(15 * 60) : nil
    }

    private func prepareRoots(_ mediaFolders: [String]) -> [String: Int64] {
        do {
            return try pool.write { db in
                let removed = try IndexWriter.removeRoots(db, notIn: mediaFolders)
                if removed > 0 {
                    logger.info("dropped media folders no longer configured", metadata: ["folders": "\(removed)"])
                }
                var ids: [String: Int64] = [:]
                for folder in mediaFolders { ids[folder] = try IndexWriter.rootID(db, path: folder) }
                return ids
            }
        } catch {
            logger.critical("cannot record the media folders in the index", metadata: ["error": "\(error)"])
            return [:]
        }
    }

    /// Walks the folders in force that have a root id (one added by a reload after this iteration began waits for
    /// the next).
    /// - returns: whether the index recorded everything the scan found (false when a write failed).
    @discardableResult
    private func runScan(rootIDs: [String: Int64]) -> Bool {
        var recordedEverything = true
        let target = progress.value.requestedScans
        let started = ContinuousClock.now
        progress.update {
            $0.phase = .walking
            $0.filesSeen = 0
            $0.filesToRead = 0
            $0.filesRead = 0
            $0.skipped = [:]
        }
        let scanner = Scanner(pool: pool, logger: logger, progress: progress)
        var totals = Scanner.WalkOutcome()
        for folder in mediaFolders {
            guard let rootID = rootIDs[folder] else { continue }
            do {
                let outcome = try scanner.walk(root: folder, rootID: rootID) { absolute, relative in
                    watcher.watch(root: folder, path: relative, absolutePath: absolute)
                }
                totals.recorded += outcome.recorded
                totals.deleted += outcome.deleted
                totals.unchanged += outcome.unchanged
            } catch {
                recordedEverything = false
                logger.error("scan of a media folder failed", metadata: ["folder": "\(folder)", "error": "\(error)"])
            }
        }
        let walkMilliseconds = (ContinuousClock.now - started).wholeMilliseconds
        progress.update { $0.phase = .readingMetadata }
        logger.info(
            "scan walked the media folders; every file is listed",
            metadata: [
                "files": "\(progress.value.filesSeen)", "new_or_changed": "\(totals.recorded)",
                "walk_ms": "\(walkMilliseconds)",
            ])
        var metadataRead = 0
        do {
            metadataRead = try scanner.readPendingMetadata()
        } catch {
            recordedEverything = false
            logger.error("reading metadata failed", metadata: ["error": "\(error)"])
        }
        IndexDatabase.compactWAL(pool, logger: logger)
        let totalMilliseconds = (ContinuousClock.now - started).wholeMilliseconds
        let snapshot = progress.update { progress -> ScanProgress in
            progress.phase = .idle
            progress.completedScans = max(progress.completedScans, target)
            progress.lastScanMilliseconds = Int(clamping: totalMilliseconds)
            return progress
        }
        var metadata: Logger.Metadata = [
            "files": "\(snapshot.filesSeen)", "new_or_changed": "\(totals.recorded)", "removed": "\(totals.deleted)",
            "unchanged": "\(totals.unchanged)", "metadata_read": "\(metadataRead)",
            "walk_ms": "\(walkMilliseconds)", "total_ms": "\(totalMilliseconds)", "watches": "\(watcher.watchCount)",
        ]
        for (reason, count) in snapshot.skipped { metadata["skipped." + reason] = "\(count)" }
        logger.info("scan finished", metadata: metadata)
        return recordedEverything
    }

    /// - returns: whether the index recorded every change.
    private func apply(_ changes: [FileSystemChange], rootIDs: [String: Int64]) -> Bool {
        var recordedEverything = true
        for change in changes {
            do {
                try apply(change, rootIDs: rootIDs)
            } catch {
                recordedEverything = false
                logger.error("cannot apply a file change", metadata: ["change": "\(change)", "error": "\(error)"])
            }
        }
        return recordedEverything
    }

    private func apply(_ change: FileSystemChange, rootIDs: [String: Int64]) throws {
        switch change {
        case .overflow:
            guard runScan(rootIDs: rootIDs) else {
                throw IndexError.database("the rescan after an inotify overflow could not record every change")
            }
        case .fileChanged(let root, let path):
            guard let rootID = rootIDs[root] else { return }
            try indexOneFile(root: root, rootID: rootID, path: path)
        case .fileRemoved(let root, let path):
            guard let rootID = rootIDs[root] else { return }
            try pool.write { db in try IndexWriter.delete(db, rootID: rootID, relativePath: path) }
        case .folderRemoved(let root, let path):
            guard let rootID = rootIDs[root] else { return }
            watcher.unwatch(root: root, folder: path)
            try pool.write { db in try IndexWriter.delete(db, rootID: rootID, folder: path) }
        case .folderAppeared(let root, let path):
            guard let rootID = rootIDs[root] else { return }
            let scanner = Scanner(pool: pool, logger: logger, progress: progress)
            _ = try scanner.walk(root: root, rootID: rootID, subtree: path) { absolute, relative in
                watcher.watch(root: root, path: relative, absolutePath: absolute)
            }
            _ = try scanner.readPendingMetadata()
        case .renamed(let root, let from, let to, let isFolder):
            guard let rootID = rootIDs[root] else { return }
            if isFolder {
                _ = try pool.write { db in try IndexWriter.renameFolder(db, rootID: rootID, from: from, to: to) }
            } else if try !pool.write({ db in try IndexWriter.rename(db, rootID: rootID, from: from, to: to) }) {
                // The old name was never indexed (for example it was not a media name): index the new one.
                try indexOneFile(root: root, rootID: rootID, path: to)
            }
        }
    }

    /// Indexes one file completely (record, metadata) in one transaction: what a live update needs to show a new
    /// file with its metadata within milliseconds of its writer closing it.
    ///
    /// A file whose size, mtime and inode match its row is left alone. Besides sparing writes, this ends the echo
    /// of readers that open files read-write without writing (TagLib's C API does, which makes inotify report a
    /// close-after-write for every tag read).
    private func indexOneFile(root: String, rootID: Int64, path: String) throws {
        let absolute = root + "/" + path
        guard let (facts, isRegular, _) = TreeWalker.facts(ofFileAt: absolute), isRegular,
            TreeWalker.staysInside(absolute, root: root),
            let sniffed = try? MediaSniffer.sniff(path: absolute)
        else {
            try pool.write { db in try IndexWriter.delete(db, rootID: rootID, relativePath: path) }
            return
        }
        let known = try pool.read { db in try IndexWriter.facts(db, rootID: rootID, relativePath: path) }
        if let known, known.facts == facts, known.metadataRead { return }
        let metadata = MediaProbe.metadata(path: absolute, sniffed: sniffed)
        try pool.write { db in
            try IndexWriter.upsert(
                db, rootID: rootID, files: [.init(relativePath: path, sniffed: sniffed, facts: facts)])
            guard
                let id = try Int64.fetchOne(
                    db, sql: "SELECT id FROM media WHERE root_id = ? AND rel_path = ? AND metadata_state = 0",
                    arguments: [rootID, path])
            else { return }
            try IndexWriter.storeMetadata(db, results: [.init(id: id, metadata: metadata)])
        }
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var wholeMilliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}

/// The scan progress, shared between the worker and the query side.
final class ProgressBox: Sendable {
    private let state = Mutex(
        ScanProgress(
            phase: .idle, completedScans: 0, requestedScans: 0, filesSeen: 0,
            filesToRead: 0, filesRead: 0, skipped: [:], lastScanMilliseconds: nil,
            liveUpdatesDegraded: false))

    var value: ScanProgress { state.withLock { $0 } }

    @discardableResult
    func update<T>(_ body: (inout ScanProgress) -> T) -> T { state.withLock { body(&$0) } }

    func skip(_ reason: SkipReason) { state.withLock { $0.skipped[reason.key, default: 0] += 1 } }
}
