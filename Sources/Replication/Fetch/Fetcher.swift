import ContentID
import ControlWire
import ElapsedTime
import Foundation
import Logging
import MediaIndex
import MediapeerConfig
import PeerProtocol
import PeerWire
import WireVocabulary

/// Fetches objects from the other boxes into the cache, several at once, and resumes unfinished fetches when the
/// daemon starts, except those the daemon died during ``crashesBeforePause`` starts in a row: those stay paused
/// until started by hand.
///
/// ```swift
/// let fetcher = Fetcher(catalog: library.catalog, cacheDirectory: "/var/cache/mediapeer", cacheLimit: .percentOfFilesystem(20),
///                       directory: holders, logger: logger)
/// let progress = try await fetcher.fetch(id, title: "Holiday.mkv")
/// ```
public actor Fetcher {
    /// Starts in a row that found a fetch still running (the daemon died during it) before it is no longer resumed
    /// by itself: a fetch that makes the daemon die (out of memory, say) would otherwise do so after every restart.
    public static let crashesBeforePause = 2

    /// How long after a player or a neighbour last asked for a replica it counts as in use, and is not evicted: a
    /// paused film, a player seeking. A read already under way survives an eviction anyway (its file stays open).
    public static let inUseWindow: Duration = .seconds(300)

    let catalog: Catalog
    let layout: ReplicaLayout
    let space: CacheSpace
    /// `cache_max` and the replication settings, which SIGHUP reloads.
    public nonisolated let settings: ReplicationSettings
    /// Bytes fetches wrote into the cache today.
    public nonisolated let writes = CacheWriteCounter()
    /// What serves the cache's files to players and neighbours: told to forget a replica evicted, and asked
    /// whether one is being read.
    let serving: (any ObjectServing)?
    /// Replicas being evicted now: no fetch or play of them starts meanwhile.
    var evicting: Set<ContentID> = []
    private let directory: any HolderDirectory
    private let transport: any FetchTransport
    private let clock: any Clock<Duration>
    let logger: Logger
    private let tuning: FetchJob.Tuning
    /// How long a player's read waits for its chunk before it fails with the reason.
    private let playbackWait: Duration
    /// What the players' waits are measured on (`clock`).
    private let playbackClock: ElapsedClock
    private var nextStream = 0
    /// Shared by every fetch: the chunks in transit of all of them together.
    private let buffers = FetchBufferBudget(bytes: PeerLimits.fetchBufferBudget)
    var jobs: [ContentID: (job: FetchJob, task: Task<Void, Never>)] = [:]
    /// The fetches players read now: every other fetch yields to them (no new requests until they end).
    var played: Set<ContentID> = []
    /// The fetches the replicator started and nobody asked for since: they yield to every other fetch.
    private var background: Set<ContentID> = []
    private var endObservers: [@Sendable (ContentID) -> Void] = []
    private var finished: [ContentID: FetchProgress] = [:]
    /// Fetches not resumed at start because the daemon died during them too often.
    private var paused: [ContentID: FetchProgress] = [:]

    /// - parameter settings: `cache_max` and the replication settings, read at each space check.
    /// - parameter serving: what serves the cache's files (see ``evict(_:reason:overridingPin:evenIfInUse:)``).
    /// - parameter clock: what the fetches' timers (flushes, waits for holders, back-offs) sleep on.
    /// - parameter playbackWait: how long a player's read waits for its chunk before it fails (on `clock`).
    public init(
        catalog: Catalog, cacheDirectory: String, settings: ReplicationSettings, directory: any HolderDirectory,
        serving: (any ObjectServing)? = nil, client: PeerClient = PeerClient(), chunkTimeoutSeconds: Int64 = 20,
        playbackWait: Duration = .seconds(20), clock: any Clock<Duration> = ContinuousClock(), logger: Logger
    ) {
        var tuning = FetchJob.Tuning()
        tuning.chunkTimeout = .seconds(chunkTimeoutSeconds)
        self.init(
            catalog: catalog, cacheDirectory: cacheDirectory, settings: settings, directory: directory,
            serving: serving, transport: client, tuning: tuning, playbackWait: playbackWait, clock: clock,
            logger: logger)
    }

    /// A fetcher whose quota is fixed.
    public init(
        catalog: Catalog, cacheDirectory: String, cacheLimit: CacheLimit, directory: any HolderDirectory,
        client: PeerClient = PeerClient(), chunkTimeoutSeconds: Int64 = 20, playbackWait: Duration = .seconds(20),
        clock: any Clock<Duration> = ContinuousClock(), logger: Logger
    ) {
        self.init(
            catalog: catalog, cacheDirectory: cacheDirectory,
            settings: ReplicationSettings(.init(cacheLimit: cacheLimit)),
            directory: directory, client: client, chunkTimeoutSeconds: chunkTimeoutSeconds, playbackWait: playbackWait,
            clock: clock, logger: logger)
    }

    init(
        catalog: Catalog, cacheDirectory: String, cacheLimit: CacheLimit, directory: any HolderDirectory,
        serving: (any ObjectServing)? = nil, transport: any FetchTransport, tuning: FetchJob.Tuning,
        playbackWait: Duration = .seconds(20), clock: any Clock<Duration>, logger: Logger
    ) {
        self.init(
            catalog: catalog, cacheDirectory: cacheDirectory,
            settings: ReplicationSettings(.init(cacheLimit: cacheLimit)),
            directory: directory, serving: serving, transport: transport, tuning: tuning, playbackWait: playbackWait,
            clock: clock, logger: logger)
    }

    init(
        catalog: Catalog, cacheDirectory: String, settings: ReplicationSettings, directory: any HolderDirectory,
        serving: (any ObjectServing)? = nil, transport: any FetchTransport, tuning: FetchJob.Tuning,
        playbackWait: Duration = .seconds(20), clock: any Clock<Duration>, logger: Logger
    ) {
        self.playbackWait = playbackWait
        playbackClock = ElapsedClock(clock)
        self.catalog = catalog
        layout = ReplicaLayout(cacheDirectory: cacheDirectory)
        self.settings = settings
        self.serving = serving
        space = CacheSpace(folder: cacheDirectory, settings: settings)
        self.directory = directory
        self.transport = transport
        self.clock = clock
        self.logger = logger
        self.tuning = tuning
    }

    public nonisolated var replicaLayout: ReplicaLayout { layout }

    /// Starts fetching `id` (or returns the fetch already running). An object this box already holds completes at
    /// once. A paused fetch resumes, its count of crashes back at zero.
    ///
    /// - parameter pin: pins the replica once it is recorded (`mediapeerctl pin` on a title not held here yet).
    public func fetch(_ id: ContentID, title: String, pin: Bool = false) async throws(ReplicationError) -> FetchProgress
    {
        try await start(id, title: title, byHand: true, pin: pin)
    }

    /// Starts fetching `id` in the background, for the replicator: the fetch yields its links to every fetch a user
    /// or a player started, and becomes one of them if a user or a player asks for `id` too.
    public func replicate(_ id: ContentID, title: String) async throws(ReplicationError) -> FetchProgress {
        try await start(id, title: title, byHand: false, inBackground: true)
    }

    /// - parameter expectedFileSize: the object's size as the catalogs describe it, when a player waits: its first
    ///   chunk is then asked for together with the manifest.
    /// - parameter local: what the caller just read of the object in the index (`.some(nil)`: nothing), so it is
    ///   not read again; nil: read it here.
    private func start(
        _ id: ContentID, title: String, byHand: Bool, inBackground: Bool = false, pin: Bool = false,
        expectedFileSize: Int64? = nil, local: LocalObject?? = nil
    ) async throws(ReplicationError) -> FetchProgress {
        if let running = jobs[id] {
            if !inBackground, background.remove(id) != nil { precedenceChanged() }
            // A running fetch whose replica is recorded is pinned now; one started a moment ago that has not
            // recorded it yet is not (pinning again once it shows in `mediapeerctl cache` does it).
            if pin { _ = try? await catalog.setPinned(id, true) }
            return await running.job.progress
        }
        if evicting.contains(id) {
            throw .cache("\(title) is being evicted from this box's cache; try again in a moment")
        }
        let held: LocalObject?
        if let local {
            held = local
        } else {
            do {
                held = try await catalog.localObject(id)
            } catch {
                throw .index(error)
            }
        }
        switch held {
        case .mediaFile(_, let size, _)?:
            return Self.alreadyHeld(id, title: title, size: size, message: "already in this box's media folders")
        case .replica(let replica)? where replica.complete:
            return Self.alreadyHeld(id, title: title, size: replica.size, message: "already in this box's cache")
        default:
            break
        }
        // Another request for the same object may have started it while this one read the index.
        if let running = jobs[id] {
            if !inBackground, background.remove(id) != nil { precedenceChanged() }
            return await running.job.progress
        }
        let job = FetchJob(
            id: id, title: title, catalog: catalog, layout: layout, space: space, directory: directory,
            transport: transport, clock: clock, tuning: tuning, buffers: buffers, expectedFileSize: expectedFileSize,
            recordMayExist: held != nil,
            startedByHand: byHand,
            pinWhenRecorded: pin, writes: writes,
            playersChanged: { [weak self] id, playing in
                guard let self else { return }
                Task { await self.playersChanged(id, playing) }
            },
            logger: logger)
        logger.info(
            inBackground ? "replication started" : "fetch started",
            metadata: ["object": "\(id.hex.prefix(16))", "title": "\(title)"])
        let task = Task {
            await job.run()
            await self.jobEnded(id)
        }
        jobs[id] = (job, task)
        if inBackground { background.insert(id) }
        finished[id] = nil
        paused[id] = nil
        precedenceChanged()
        return await job.progress
    }

    /// Opens `id` for a player: from its file when this box holds it whole, else from its fetch, started now if
    /// none runs (it goes on in the background once the player leaves, a normal fetch) or joined if one does.
    /// Several players may read one title at once.
    ///
    /// - parameter size: the title's size as the caller found it described, and `durationMilliseconds` its
    ///   duration (they size the player's window); when `size` is nil they are read from the neighbours' catalogs.
    public func play(_ id: ContentID, title: String, size: Int64? = nil, durationMilliseconds: Int64? = nil)
        async throws(ReplicationError) -> PlaybackStream
    {
        if evicting.contains(id) {
            throw .cache("\(title) is being evicted from this box's cache; try again in a moment")
        }
        let local: LocalObject?
        do {
            local = try await catalog.localObject(id)
        } catch {
            throw .index(error)
        }
        if let held = whole(local, id) {
            return stream(id, title: title, .file(path: held.path, size: held.size))
        }
        var described = size.map { (size: $0, durationMilliseconds: durationMilliseconds) }
        if described == nil {
            do {
                described = try await catalog.remoteDescription(of: id).map { ($0.size, $0.durationMilliseconds) }
            } catch {
                throw .index(error)
            }
        }
        _ = try await start(id, title: title, byHand: true, expectedFileSize: described?.size, local: .some(local))
        guard let job = jobs[id]?.job else {
            // Held whole after all (it was, or its fetch completed at once).
            guard let held = try await wholeFile(id) else {
                let reason = finished[id]?.message.map { ": \($0)" } ?? ""
                throw .cache("the fetch of \(title) ended before it could be played\(reason)")
            }
            return stream(id, title: title, .file(path: held.path, size: held.size))
        }
        let fetchedSize = await job.progress.size
        let window = PlaybackWindow(
            size: described?.size ?? fetchedSize, durationMilliseconds: described?.durationMilliseconds)
        return stream(id, title: title, .fetch(job, job.arrivals, layout), window: window)
    }

    /// The file holding all of `id`, if this box has one: a media file or a complete replica.
    private func wholeFile(_ id: ContentID) async throws(ReplicationError) -> (path: String, size: Int64)? {
        do {
            return whole(try await catalog.localObject(id), id)
        } catch {
            throw .index(error)
        }
    }

    /// The file holding all of `id` if `local`, what the index says this box holds of it, is whole.
    private func whole(_ local: LocalObject?, _ id: ContentID) -> (path: String, size: Int64)? {
        switch local {
        case .mediaFile(let path, let size, _)?: return (path, size)
        case .replica(let replica)? where replica.complete: return (layout.completePath(id), replica.size)
        default: return nil
        }
    }

    private func stream(
        _ id: ContentID, title: String, _ source: PlaybackStream.Source,
        window: PlaybackWindow = PlaybackWindow(size: nil, durationMilliseconds: nil)
    ) -> PlaybackStream {
        nextStream += 1
        return PlaybackStream(
            id: id, title: title, source: source, stream: nextStream, window: window,
            chunkSize: tuning.acceptedChunkSize, clock: playbackClock, playbackWait: playbackWait)
    }

    private static func alreadyHeld(_ id: ContentID, title: String, size: Int64, message: String) -> FetchProgress {
        FetchProgress(
            id: id, title: title, state: .complete, size: size, chunkCount: 0, chunksDone: 0, chunksResumed: 0,
            bytesDone: size, bytesReceived: 0, bytesPerSecond: 0, sources: [], message: message,
            startedAt: .now, finishedAt: .now)
    }

    private func jobEnded(_ id: ContentID) async {
        played.remove(id)
        background.remove(id)
        guard let entry = jobs.removeValue(forKey: id) else { return }
        precedenceChanged()
        finished[id] = await entry.job.progress
        for observer in endObservers { observer(id) }
    }

    /// A fetch started or stopped being played: the others are told whether they yield.
    private func playersChanged(_ id: ContentID, _ playing: Bool) {
        let before = played
        if playing { played.insert(id) } else { played.remove(id) }
        guard played != before else { return }
        precedenceChanged()
    }

    /// Tells every fetch whether it yields now (the job ignores a repeat of what it was told last).
    private func precedenceChanged() {
        let precedence = FetchPrecedence(running: Set(jobs.keys), played: played, inBackground: background)
        for (id, entry) in jobs { entry.job.yieldLinks(precedence.yields(id)) }
    }

    /// Whether a replication the replicator started is still running in the background.
    public func isReplicating(_ id: ContentID) -> Bool { background.contains(id) }

    /// The objects being fetched or played now (the replicator neither evicts nor re-plans them).
    public func inUse() -> Set<ContentID> { Set(jobs.keys) }

    /// How many replications the replicator started are running.
    public func replicationsRunning() -> Int { background.count }

    /// Calls `observer` with the object of every fetch that ends, however it ends (the replicator plans again).
    public func observeFetchEnds(_ observer: @escaping @Sendable (ContentID) -> Void) {
        endObservers.append(observer)
    }

    public func progress(_ id: ContentID) async -> FetchProgress? {
        if let running = jobs[id] { return await running.job.progress }
        return paused[id] ?? finished[id]
    }

    /// Running fetches, paused ones, and those finished since the daemon started.
    public func all() async -> [FetchProgress] {
        var result = Array(finished.values) + Array(paused.values)
        for entry in jobs.values { result.append(await entry.job.progress) }
        return result.sorted { $0.startedAt < $1.startedAt }
    }

    /// Makes the cache and its records agree after a crash or a power cut, counts a crash against every fetch the
    /// daemon died during, then resumes every partial replica but those paused.
    public func resumeUnfinished() async {
        await CacheRecovery(catalog: catalog, layout: layout, logger: logger).run()
        if let recorded = try? await catalog.cacheWrites() { writes.restore(recorded) }
        do {
            try await catalog.countFetchCrashes(pauseAfter: Self.crashesBeforePause)
        } catch {
            logger.error("cannot count the fetches the daemon died during", metadata: ["error": "\(error)"])
        }
        guard let replicas = try? await catalog.replicas() else { return }
        for replica in replicas where !replica.complete {
            let title = (try? await catalog.title(of: replica.id)) ?? replica.id.hex
            if replica.crashCount >= Self.crashesBeforePause {
                logger.warning(
                    "not resuming a fetch the daemon stopped unexpectedly during, several starts in a row",
                    metadata: [
                        "object": "\(replica.id.hex.prefix(16))", "title": "\(title)",
                        "crashes": "\(replica.crashCount)",
                    ])
                paused[replica.id] = await pausedProgress(replica, title: title)
                continue
            }
            _ = try? await start(replica.id, title: title, byHand: false)
        }
    }

    private func pausedProgress(_ replica: ReplicaRecord, title: String) async -> FetchProgress {
        var progress = await recordedProgress(replica, title: title)
        progress.state = .paused
        progress.message =
            "the daemon stopped unexpectedly \(replica.crashCount) times during this fetch; "
            + "`mediapeerctl fetch \(replica.id.hex.prefix(12))` resumes it"
        return progress
    }

    /// What the record of an unfinished replica says of its fetch.
    private func recordedProgress(_ replica: ReplicaRecord, title: String) async -> FetchProgress {
        let have = replica.have
        let manifest = try? await catalog.manifest(of: replica.id)
        let bytesDone =
            manifest.map { manifest in
                (0..<manifest.chunkCount).filter { have.contains($0) }.reduce(Int64(0)) { total, index in
                    let range = manifest.byteRange(ofChunk: index)
                    return total + range.upperBound - range.lowerBound
                }
            } ?? 0
        return FetchProgress(
            id: replica.id, title: title, state: .locating, size: replica.size, chunkCount: have.chunkCount,
            chunksDone: have.count, chunksResumed: have.count, bytesDone: bytesDone, bytesReceived: 0,
            bytesPerSecond: 0, sources: [], message: nil,
            startedAt: Date(timeIntervalSince1970: TimeInterval(replica.lastUsed)), finishedAt: nil)
    }

    /// Cancels the unfinished fetch `reference` names (its content id, a prefix of 8 or more hex digits, or words
    /// of its title): stops it if it runs, then deletes its partial file and its record. Only the cache's own
    /// files are ever deleted; a complete replica is no fetch and is not touched.
    public func cancel(_ reference: String) async throws(FetchCancellationError) -> FetchCancellation {
        let target = try await unfinishedFetch(named: reference)
        let id = target.id
        var progress: FetchProgress?
        let wasRunning = jobs[id] != nil
        if let entry = jobs[id] {
            // The job records what it verified and stops; it is deleted below all the same.
            entry.task.cancel()
            await entry.task.value
            progress = await entry.job.progress
        }
        progress = progress ?? paused[id]
        let record: ReplicaRecord?
        do {
            record = try await catalog.replica(id)
        } catch {
            throw .index(error)
        }
        if let record, record.complete {
            // It completed as it was being stopped: a replica now, which this is not the way to delete.
            finished[id] = progress
            throw .alreadyComplete(target)
        }
        if progress == nil, let record { progress = await recordedProgress(record, title: target.title) }
        layout.removePartial(id)
        do {
            try await catalog.deleteReplica(id)
        } catch {
            throw .index(error)
        }
        finished[id] = nil
        paused[id] = nil
        logger.info("fetch cancelled", metadata: ["object": "\(id.hex.prefix(16))", "title": "\(target.title)"])
        return FetchCancellation(
            id: id, title: target.title, wasRunning: wasRunning, bytesDeleted: progress?.bytesDone ?? 0)
    }

    /// The one unfinished fetch (running, paused, or recorded partial) `reference` names.
    private func unfinishedFetch(named reference: String) async throws(FetchCancellationError) -> ResolvedReference {
        var candidates: [ContentID: String] = [:]
        for (id, entry) in jobs { candidates[id] = await entry.job.progress.title }
        for (id, progress) in paused { candidates[id] = progress.title }
        do {
            for replica in try await catalog.replicas() where !replica.complete && candidates[replica.id] == nil {
                candidates[replica.id] = try await catalog.title(of: replica.id) ?? replica.id.hex
            }
        } catch {
            throw .index(error)
        }
        return try FetchCancellationError.match(
            reference,
            among: candidates.map { ResolvedReference(id: $0.key, title: $0.value) }.sorted { $0.title < $1.title })
    }

    /// Stops every fetch; each records what it has verified, and that it stopped cleanly, so the next start
    /// resumes it without counting a crash.
    public func shutdown() async {
        for entry in jobs.values { entry.task.cancel() }
        for entry in jobs.values { await entry.task.value }
    }
}

/// Why `mediapeerctl fetch --cancel` cancelled nothing.
public enum FetchCancellationError: Error, Equatable, CustomStringConvertible {
    /// No unfinished fetch matches.
    case noMatch(reference: String)
    /// Several unfinished fetches match (the best first).
    case ambiguous(reference: String, candidates: [ResolvedReference])
    /// The fetch completed before it could be stopped: it is a replica now.
    case alreadyComplete(ResolvedReference)
    case index(IndexError)

    public var description: String {
        switch self {
        case .noMatch(let reference): "no unfinished fetch matches \"\(reference)\""
        case .ambiguous(let reference, let candidates): "\"\(reference)\" matches \(candidates.count) fetches"
        case .alreadyComplete(let fetch): "the fetch of \"\(fetch.title)\" completed before it could be cancelled"
        case .index(let error): "\(error)"
        }
    }

    /// The one fetch of `candidates` that `reference` names: its whole content id, a prefix of 8 or more hex
    /// digits of it, its exact title (ignoring case), or words every one of which its title contains.
    static func match(
        _ reference: String, among candidates: [ResolvedReference]
    ) throws(FetchCancellationError) -> ResolvedReference {
        let text = reference.trimmingCharacters(in: .whitespaces)
        let lowered = text.lowercased()
        var found: [ResolvedReference] = []
        if lowered.count >= 8, lowered.allSatisfy(\.isHexDigit) {
            found = candidates.filter { $0.id.hex.hasPrefix(lowered) }
        }
        if found.isEmpty {
            found = candidates.filter { $0.title.lowercased() == lowered }
        }
        if found.isEmpty {
            let words = text.split(separator: " ")
            found = candidates.filter { candidate in
                !words.isEmpty
                    && words.allSatisfy { candidate.title.range(of: $0, options: [.caseInsensitive]) != nil }
            }
        }
        guard let first = found.first else { throw .noMatch(reference: reference) }
        guard found.count == 1 else { throw .ambiguous(reference: reference, candidates: found) }
        return first
    }
}
