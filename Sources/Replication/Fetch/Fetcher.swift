import ControlWire
import Logging
import MediaIndex
import MediapeerConfig
import PeerProtocol
import WireVocabulary

/// Fetches objects from the other boxes into the cache, several at once, and resumes unfinished fetches when the
/// daemon starts.
///
/// ```swift
/// let fetcher = Fetcher(catalog: library.catalog, cacheDirectory: "/var/cache/mediapeer", cacheLimit: .percentOfFilesystem(20),
///                       directory: holders, logger: logger)
/// let progress = try await fetcher.fetch(id, title: "Holiday.mkv")
/// ```
public actor Fetcher {
    private let catalog: Catalog
    private let layout: ReplicaLayout
    private let space: CacheSpace
    private let directory: any HolderDirectory
    private let transport: any FetchTransport
    private let clock: any Clock<Duration>
    private let logger: Logger
    private let tuning: FetchJob.Tuning
    private var jobs: [ContentID: (job: FetchJob, task: Task<Void, Never>)] = [:]
    private var finished: [ContentID: FetchProgress] = [:]

    /// - parameter clock: what the fetches' timers (flushes, waits for holders, back-offs) sleep on.
    public init(
        catalog: Catalog, cacheDirectory: String, cacheLimit: CacheLimit, directory: any HolderDirectory,
        client: PeerClient = PeerClient(), chunkTimeoutSeconds: Int64 = 20,
        clock: any Clock<Duration> = ContinuousClock(), logger: Logger
    ) {
        self.catalog = catalog
        layout = ReplicaLayout(cacheDirectory: cacheDirectory)
        space = CacheSpace(folder: cacheDirectory, limit: cacheLimit)
        self.directory = directory
        transport = client
        self.clock = clock
        self.logger = logger
        var tuning = FetchJob.Tuning()
        tuning.chunkTimeout = .seconds(chunkTimeoutSeconds)
        self.tuning = tuning
    }

    public nonisolated var replicaLayout: ReplicaLayout { layout }

    /// Starts fetching `id` (or returns the fetch already running). An object this box already holds completes at
    /// once.
    public func fetch(_ id: ContentID, title: String) async throws(ReplicationError) -> FetchProgress {
        if let running = jobs[id] { return await running.job.progress }
        do {
            switch try await catalog.localObject(id) {
            case .mediaFile(_, let size, _)?:
                return Self.alreadyHeld(id, title: title, size: size, message: "already in this box's media folders")
            case .replica(let replica)? where replica.complete:
                return Self.alreadyHeld(id, title: title, size: replica.size, message: "already in this box's cache")
            default:
                break
            }
        } catch {
            throw .index(error)
        }
        // Another request for the same object may have started it while this one read the index.
        if let running = jobs[id] { return await running.job.progress }
        let job = FetchJob(
            id: id, title: title, catalog: catalog, layout: layout, space: space, directory: directory,
            transport: transport, clock: clock, tuning: tuning, logger: logger)
        logger.info("fetch started", metadata: ["object": "\(id.hex.prefix(16))", "title": "\(title)"])
        let task = Task {
            await job.run()
            await self.jobEnded(id)
        }
        jobs[id] = (job, task)
        finished[id] = nil
        return await job.progress
    }

    private static func alreadyHeld(_ id: ContentID, title: String, size: Int64, message: String) -> FetchProgress {
        FetchProgress(
            id: id, title: title, state: .complete, size: size, chunkCount: 0, chunksDone: 0, chunksResumed: 0,
            bytesDone: size, bytesReceived: 0, bytesPerSecond: 0, sources: [], message: message,
            startedAt: .now, finishedAt: .now)
    }

    private func jobEnded(_ id: ContentID) async {
        guard let entry = jobs.removeValue(forKey: id) else { return }
        finished[id] = await entry.job.progress
    }

    public func progress(_ id: ContentID) async -> FetchProgress? {
        if let running = jobs[id] { return await running.job.progress }
        return finished[id]
    }

    /// Running fetches and those finished since the daemon started.
    public func all() async -> [FetchProgress] {
        var result = Array(finished.values)
        for entry in jobs.values { result.append(await entry.job.progress) }
        return result.sorted { $0.startedAt < $1.startedAt }
    }

    /// Makes the cache and its records agree after a crash or a power cut, then resumes every partial replica.
    public func resumeUnfinished() async {
        await CacheRecovery(catalog: catalog, layout: layout, logger: logger).run()
        guard let replicas = try? await catalog.replicas() else { return }
        for replica in replicas where !replica.complete {
            let title = (try? await catalog.title(of: replica.id)) ?? replica.id.hex
            _ = try? await fetch(replica.id, title: title)
        }
    }

    /// Stops every fetch; each records what it has verified, so the next start resumes.
    public func shutdown() async {
        for entry in jobs.values { entry.task.cancel() }
        for entry in jobs.values { await entry.task.value }
    }
}
