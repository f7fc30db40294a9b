import ContentID
import ControlWire
import ElapsedTime
import Foundation
import Logging
import MediaIndex
import NIOCore
import NIOPosix
import PeerProtocol
import PeerWire
import WireVocabulary

/// One object being fetched: carries out what its ``FetchScheduler`` decides (locate the holders, get and verify
/// the manifest, pull runs of chunks from every holder at once, verify and write each chunk, record them once
/// durable) and tells it what happened.
///
/// Nothing polls: requests, holder look-ups, flushes and timers are child tasks that report to one event loop on
/// the actor, and every wait is a sleep on the injected clock until an instant the scheduler chose.
actor FetchJob {
    struct Tuning: Sendable {
        var scheduling = FetchScheduler.Policy()
        /// How long a request may go without delivering a whole chunk: a stalled source loses its chunks after this.
        var chunkTimeout: TimeAmount = .seconds(20)
        /// Verified chunks between two checks of the cache's room.
        var chunksPerSpaceCheck = 64
        /// The only chunk size a manifest from a holder may have: this version's (tests use smaller fixtures).
        var acceptedChunkSize = ChunkManifest.standardChunkSize
        /// The most chunks a manifest from a holder may have.
        var maxChunkCount = PeerLimits.maxChunkCount
        /// Holders asked for the manifest at once: the first valid answer wins, so one holder that claims the
        /// object and stalls does not hold the fetch up.
        var manifestRequests = 3
        /// How long a holder may take to give the manifest (on the injected clock).
        var manifestTimeout: Duration = .seconds(5)
    }

    /// What the child tasks report to the event loop.
    private enum Event: Sendable {
        case holders([Holder])
        case prepared(Prepared?)
        case availability(ChunkBitmap?, of: PeerEndpoint)
        case requestFinished(FetchScheduler.Request, FetchScheduler.RequestOutcome)
        case timer(FetchScheduler.Timer)
        case flushed
        /// A local failure (disk, space, index): the fetch cannot go on.
        case fatal(any Error)
        /// A player reads these bytes (and a window ahead) of the object.
        case interest(stream: Int, bytes: Range<Int64>, bytesPerSecond: Int64)
        /// A player left.
        case noInterest(stream: Int)
        /// A fetch this one yields to runs (true) or none does (false).
        case yieldLinks(Bool)
    }

    /// A verified manifest with the partial file open, and what is already held.
    private struct Prepared: Sendable {
        let verifier: ChunkVerifier
        let file: PartialFile
        let have: ChunkBitmap
    }

    private enum Ending {
        case complete
        case failed(any Error)
        case cancelled
    }

    let id: ContentID
    private let records: ReplicaRecords
    private let layout: ReplicaLayout
    private let space: CacheSpace
    private let directory: any HolderDirectory
    private let transport: any FetchTransport
    private let clock: ElapsedClock
    private let tuning: Tuning
    private let buffers: FetchBufferBudget
    /// Started by someone's `mediapeerctl fetch` rather than resumed at the daemon's start: the crashes counted
    /// against it start again from zero.
    private let startedByHand: Bool
    /// Pins the replica once it is recorded (`mediapeerctl pin` on a title not held here yet).
    private let pinWhenRecorded: Bool
    /// False when the fetch started with no replica record: none exists until this job begins one (no other fetch
    /// of the object runs), so the index is not asked for it on the way to the first chunk.
    private let recordMayExist: Bool
    /// Today's writes into the cache, counted as chunks are written and stored with them.
    private let writes: CacheWriteCounter
    /// Called when players start or stop reading this object, so the other fetches yield to the play.
    private let playersChanged: @Sendable (ContentID, Bool) -> Void
    private let logger: Logger

    private var scheduler: FetchScheduler
    /// What the players wait on: each chunk as it is written, and the fetch's end.
    nonisolated let arrivals = ChunkArrivals()
    private let events: AsyncStream<Event>
    private let reporter: AsyncStream<Event>.Continuation
    private var verifier: ChunkVerifier?
    private var file: PartialFile?
    /// What a request sent before the manifest was known waits for.
    private nonisolated let preparation = PreparationGate()
    private var chunksSinceSpaceCheck = 0

    init(
        id: ContentID, title: String, catalog: Catalog, layout: ReplicaLayout, space: CacheSpace,
        directory: any HolderDirectory, transport: any FetchTransport, clock: any Clock<Duration>, tuning: Tuning,
        buffers: FetchBufferBudget, expectedFileSize: Int64? = nil, recordMayExist: Bool = true,
        startedByHand: Bool = true,
        pinWhenRecorded: Bool = false,
        writes: CacheWriteCounter = CacheWriteCounter(),
        playersChanged: @escaping @Sendable (ContentID, Bool) -> Void = { _, _ in }, logger: Logger
    ) {
        self.id = id
        self.pinWhenRecorded = pinWhenRecorded
        self.writes = writes
        self.playersChanged = playersChanged
        records = ReplicaRecords(catalog: catalog, id: id)
        self.layout = layout
        self.space = space
        self.directory = directory
        self.transport = transport
        self.clock = ElapsedClock(clock)
        self.tuning = tuning
        self.buffers = buffers
        self.startedByHand = startedByHand
        self.recordMayExist = recordMayExist
        var logger = logger
        logger[metadataKey: "object"] = "\(id.hex.prefix(16))"
        self.logger = logger
        scheduler = FetchScheduler(
            id: id, title: title, startedAt: Date(), policy: tuning.scheduling,
            expected: expectedFileSize.map { .init(fileSize: $0, chunkSize: tuning.acceptedChunkSize) })
        (events, reporter) = AsyncStream.makeStream(of: Event.self)
    }

    var progress: FetchProgress { scheduler.progress }

    /// The player of `stream` reads `bytes` (its range and a window ahead): their chunks get deadlines, replacing
    /// the stream's earlier ones.
    nonisolated func want(stream: Int, bytes: Range<Int64>, bytesPerSecond: Int64) {
        reporter.yield(.interest(stream: stream, bytes: bytes, bytesPerSecond: bytesPerSecond))
    }

    /// The player of `stream` left: its deadlines are dropped.
    nonisolated func forget(stream: Int) {
        reporter.yield(.noInterest(stream: stream))
    }

    /// A fetch that goes first runs (`true`: another one is played, or this one is a replication and a user's or a
    /// player's fetch runs) or none does (`false`): unplayed, this one yields the links to it.
    nonisolated func yieldLinks(_ yielding: Bool) {
        reporter.yield(.yieldLinks(yielding))
    }

    /// The cache's quota may have changed: checks now that the object still fits; if it no longer does, the fetch
    /// fails with the reason (its partial file deleted). Returns once checked.
    func recheckSpace() async {
        do {
            try await checkSpace()
        } catch {
            reporter.yield(.fatal(error))
        }
    }

    /// Runs until the object is complete, the fetch fails, or the task is cancelled (the daemon stopping: what is
    /// verified stays recorded and the next start resumes).
    func run() async {
        var ending = Ending.cancelled
        await withDiscardingTaskGroup { group in
            var actions = scheduler.start(at: clock.now)
            var iterator = events.makeAsyncIterator()
            while true {
                if let end = perform(actions, in: &group, reporter) {
                    ending = end
                    break
                }
                // nil once the task is cancelled.
                guard let event = await iterator.next() else { break }
                if case .fatal(let error) = event {
                    // A write refused because the fetch is being stopped is no reason to throw its chunks away.
                    ending = Task.isCancelled ? .cancelled : .failed(error)
                    break
                }
                actions = handle(event)
            }
            // Requests still open (endgame duplicates, sources dropped) and timers end here; the group waits for
            // them, so no chunk is written once the file is published or removed.
            group.cancelAll()
        }
        reporter.finish()
        preparation.close()
        // In a task of its own, which is not cancelled: NIO's thread pool and GRDB's async accesses refuse work from
        // a cancelled task, and a stopping daemon must still record its chunks (or publish an object it has
        // completed, or forget one that failed).
        await Task { await conclude(ending) }.value
    }

    private func conclude(_ ending: Ending) async {
        switch ending {
        case .complete:
            do {
                try await finish()
                arrivals.completed()
            } catch {
                await fail(error)
            }
        case .failed(let error):
            await fail(error)
        case .cancelled:
            arrivals.failed("its fetch was stopped")
            if let file, let have = scheduler.have { await flush(file, have) }
            // A clean stop: the next start resumes the fetch without counting a crash against it.
            do {
                try await records.markStopped()
            } catch {
                logger.error("cannot record that the fetch stopped", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Feeds an event to the scheduler.
    private func handle(_ event: Event) -> [FetchScheduler.Action] {
        let now = clock.now
        switch event {
        case .holders(let holders):
            return scheduler.holdersFound(holders, at: now)
        case .prepared(let prepared?):
            verifier = prepared.verifier
            file = prepared.file
            if prepared.have.count > 0 {
                logger.info(
                    "resuming fetch",
                    metadata: [
                        "chunks_held": "\(prepared.have.count)", "chunks": "\(prepared.verifier.manifest.chunkCount)",
                    ])
            }
            let actions = scheduler.manifestReady(prepared.verifier.manifest, have: prepared.have, at: now)
            // With the chunks verified while the replica was being recorded (the players knew of them already).
            arrivals.known(scheduler.have ?? prepared.have, fileSize: prepared.verifier.manifest.fileSize)
            return actions
        case .prepared(nil):
            preparation.close()
            return scheduler.manifestUnavailable(at: now)
        case .availability(let chunks, let source):
            return scheduler.availabilityKnown(chunks, of: source, at: now)
        case .requestFinished(let request, let outcome):
            return scheduler.requestFinished(request, outcome, at: now)
        case .timer(let timer):
            return scheduler.timerFired(timer, at: now)
        case .flushed:
            return scheduler.flushed(at: now)
        case .fatal:
            return []  // ends the loop before it gets here
        case .interest(let stream, let bytes, let bytesPerSecond):
            return playersMayChange { $0.want(stream, bytes: bytes, bytesPerSecond: bytesPerSecond, at: now) }
        case .noInterest(let stream):
            return playersMayChange { $0.forget(stream: stream, at: now) }
        case .yieldLinks(let yielding):
            let spell = scheduler.yieldSpell
            let actions = scheduler.yieldLinks(yielding, at: now)
            logYield(began: scheduler.yieldSpell, ended: spell)
            return actions
        }
    }

    /// Logs a yield's beginning and end: how a test (or a user reading the log) tells that a fetch let its links go
    /// to a play, from what it did meanwhile rather than from how late the play's chunks came.
    private func logYield(began: FetchScheduler.YieldSpell?, ended: FetchScheduler.YieldSpell?) {
        if let began, ended == nil {
            logger.debug(
                "fetch yields its links to another", metadata: ["requests_in_flight": "\(began.requestsInFlight)"])
        } else if let ended, began == nil {
            logger.debug(
                "fetch takes its links back",
                metadata: [
                    "requests_in_flight_at_yield": "\(ended.requestsInFlight)",
                    "chunks_while_yielding": "\(ended.chunksVerified)",
                    "requests_started_while_yielding": "\(ended.requestsStarted)",
                ])
        }
    }

    /// Tells ``playersChanged`` when a change of interests starts or ends this object's being played.
    private func playersMayChange(
        _ change: (inout FetchScheduler) -> [FetchScheduler.Action]
    ) -> [FetchScheduler.Action] {
        let before = scheduler.hasPlayers
        let actions = change(&scheduler)
        if scheduler.hasPlayers != before { playersChanged(id, scheduler.hasPlayers) }
        return actions
    }

    /// Carries out the scheduler's actions; returns how the fetch ends if one of them ends it.
    private func perform(
        _ actions: [FetchScheduler.Action], in group: inout DiscardingTaskGroup,
        _ reporter: AsyncStream<Event>.Continuation
    ) -> Ending? {
        for action in actions {
            switch action {
            case .lookUpHolders:
                group.addTask { [directory, id] in
                    reporter.yield(.holders(await directory.holders(of: id)))
                }
            case .obtainManifest(let candidates):
                group.addTask {
                    do {
                        reporter.yield(.prepared(try await self.prepare(candidates)))
                    } catch {
                        if !Task.isCancelled { reporter.yield(.fatal(error)) }
                    }
                }
            case .queryAvailability(let source):
                guard let chunkCount = verifier?.manifest.chunkCount else { continue }
                group.addTask { [transport, id, logger] in
                    do {
                        let chunks = try await transport.have(source, id: id, chunkCount: chunkCount)
                        reporter.yield(.availability(chunks, of: source))
                    } catch {
                        logger.debug(
                            "partial holder did not say what it has",
                            metadata: [
                                "peer": "\(source)", "error": "\(error)",
                            ])
                        reporter.yield(.availability(nil, of: source))
                    }
                }
            case .start(let request):
                let prepared = verifier.flatMap { verifier in file.map { (verifier: verifier, file: $0) } }
                group.addTask { await self.transfer(request, prepared: prepared, reporter) }
            case .drop(let source, let reason):
                logger.warning(
                    "dropping a source that stopped answering",
                    metadata: [
                        "peer": "\(source)", "error": "\(reason)",
                    ])
            case .waitForHolders(let until, let reason, let announce):
                if announce {
                    logger.info("fetch waiting for a holder", metadata: ["reason": "\(reason)"])
                }
                schedule(.holderRetry, at: until, in: &group, reporter)
            case .schedule(let timer, let instant):
                schedule(timer, at: instant, in: &group, reporter)
            case .flush(let have):
                guard let file else { continue }
                group.addTask {
                    await self.flush(file, have)
                    reporter.yield(.flushed)
                }
            case .finish:
                return .complete
            }
        }
        return nil
    }

    private func schedule(
        _ timer: FetchScheduler.Timer, at instant: ElapsedInstant, in group: inout DiscardingTaskGroup,
        _ reporter: AsyncStream<Event>.Continuation
    ) {
        group.addTask { [clock] in
            do {
                try await clock.sleep(until: instant, tolerance: nil)
                reporter.yield(.timer(timer))
            } catch {
                // Cancelled: the fetch is ending.
            }
        }
    }

    /// Gets a verified manifest (from the index when resuming, else from a holder), checks the space, opens the
    /// partial file (from then on a chunk asked for ahead of the manifest is verified and written) and records the
    /// replica (and that its fetch runs). Nil when no holder could give the manifest.
    private nonisolated func prepare(_ candidates: [PeerEndpoint]) async throws -> Prepared? {
        var replica = recordMayExist ? try await records.replica() : nil
        var manifest: ChunkManifest?
        if replica != nil, let known = try await records.manifest() {
            manifest = known
        } else {
            manifest = await firstManifest(from: candidates)
        }
        guard let manifest else { return nil }
        if recordMayExist { replica = try await records.replica() }
        let otherReplicas = try await records.replicaBytes() - (replica?.size ?? 0)
        let held = replica?.have ?? ChunkBitmap(chunkCount: manifest.chunkCount)
        let stillToWrite = (0..<manifest.chunkCount).filter { !held.contains($0) }.reduce(Int64(0)) { total, index in
            let range = manifest.byteRange(ofChunk: index)
            return total + range.upperBound - range.lowerBound
        }
        // The cache folder may not exist yet (a first fetch, a configured folder nobody created).
        try layout.prepare()
        try space.check(objectSize: manifest.fileSize, otherReplicas: otherReplicas, stillToWrite: stillToWrite)
        let file = try PartialFile(path: layout.partialPath(id), size: manifest.fileSize)
        let verifier = try ChunkVerifier(manifest: manifest, expected: id)
        // A chunk asked for ahead of the manifest is verified and written while the replica is recorded: a crash
        // before the record leaves a file no record refers to, which the next start deletes (`CacheRecovery`), and
        // chunks are recorded only once the record exists (``flush(_:_:)``).
        // The players may read from now on: what they wait for is verified bytes, not their record.
        arrivals.known(held, fileSize: manifest.fileSize)
        preparation.open(verifier, file)
        if replica == nil { try await records.begin(manifest) }
        if pinWhenRecorded { try await records.pin() }
        // Marked before any chunk is recorded: if the daemon dies during this fetch, its next start knows.
        try await records.markRunning(resettingCrashes: startedByHand)
        return Prepared(verifier: verifier, file: file, have: held)
    }

    /// What asking one holder for the manifest came to.
    private enum ManifestAnswer: Sendable {
        case manifest(ChunkManifest)
        case failed
    }

    /// The first valid manifest from `candidates`, asked of ``Tuning/manifestRequests`` of them at once, each
    /// within ``Tuning/manifestTimeout``; as one fails, the next candidate is asked. Nil when none gave one.
    private nonisolated func firstManifest(from candidates: [PeerEndpoint]) async -> ChunkManifest? {
        await withTaskGroup(of: ManifestAnswer.self) { group in
            var waiting = candidates[...]
            for endpoint in waiting.prefix(max(1, tuning.manifestRequests)) {
                waiting.removeFirst()
                group.addTask { await self.askManifest(of: endpoint) }
            }
            while let answer = await group.next() {
                if case .manifest(let manifest) = answer {
                    // The slower holders are not waited for (their requests end as they are cancelled).
                    group.cancelAll()
                    return manifest
                }
                if let next = waiting.popFirst() { group.addTask { await self.askManifest(of: next) } }
            }
            return nil
        }
    }

    /// Asks one holder for the manifest; one that has not answered within ``Tuning/manifestTimeout`` on the
    /// injected clock has failed (the request is cancelled).
    private nonisolated func askManifest(of endpoint: PeerEndpoint) async -> ManifestAnswer {
        let timeout = tuning.manifestTimeout
        let answer = await withTaskGroup(of: ManifestAnswer?.self) { race in
            race.addTask { [transport, id, tuning, logger] in
                do {
                    let verifier = try await transport.manifest(
                        endpoint, id: id, chunkSize: tuning.acceptedChunkSize, maxChunkCount: tuning.maxChunkCount,
                        timeout: .nanoseconds(Int64(timeout / .nanoseconds(1))))
                    return .manifest(verifier.manifest)
                } catch {
                    // A request cancelled because another holder answered first is no news.
                    if !Task.isCancelled {
                        logger.info(
                            "holder could not give the manifest",
                            metadata: ["peer": "\(endpoint)", "error": "\(error)"])
                    }
                    return .failed
                }
            }
            race.addTask { [clock] in
                // Nil: the time is up (or the fetch is ending).
                try? await clock.sleep(until: clock.now + timeout, tolerance: nil)
                return nil
            }
            let first = await race.next() ?? nil
            race.cancelAll()
            return first
        }
        guard let answer else {
            if Task.isCancelled { return .failed }
            logger.info(
                "holder did not give the manifest in time",
                metadata: ["peer": "\(endpoint)", "seconds": "\(timeout.components.seconds)"])
            return .failed
        }
        return answer
    }

    /// Sends one request and reports how it ended; each chunk is verified and written as soon as it has arrived
    /// whole, while the rest of the run is still on the wire (two chunks in memory per request at most).
    ///
    /// - parameter prepared: the manifest and the partial file; nil for a request sent before they were ready,
    ///   whose chunk waits for them (``preparation``) and is dropped if the manifest places it elsewhere.
    private nonisolated func transfer(
        _ request: FetchScheduler.Request, prepared: PreparationGate.Prepared?,
        _ reporter: AsyncStream<Event>.Continuation
    ) async {
        let pieceLength = prepared?.verifier.manifest.chunkSize ?? tuning.acceptedChunkSize
        let outcome: FetchScheduler.RequestOutcome
        do {
            let range = request.bytes
            _ = try await transport.pieces(
                request.source, id: id, range: range, pieceLength: pieceLength,
                pieceTimeout: tuning.chunkTimeout, buffers: buffers
            ) { [preparation] index, bytes in
                let chunk = request.chunks.lowerBound + index
                let known: PreparationGate.Prepared? =
                    if let prepared { prepared } else { await preparation.wait() }
                guard let (verifier, file) = known else { return false }
                let manifest = verifier.manifest
                let start = range.lowerBound + Int64(index) * Int64(pieceLength)
                guard chunk < manifest.chunkCount,
                    manifest.byteRange(ofChunk: chunk) == start..<(start + Int64(bytes.readableBytes))
                else { return false }
                let offset = start
                guard
                    try await Self.verifyAndWrite(
                        bytes, chunk: chunk, at: offset, verifier: verifier,
                        file: file)
                else {
                    await self.rejected(chunk, of: request, bytes: Int64(bytes.readableBytes))
                    return false
                }
                // A source dropped or banned meanwhile (by another of its requests) stops here: its chunks are
                // already back in the pool.
                return try await self.accepted(chunk, of: request, bytes: Int64(bytes.readableBytes))
            }
            outcome = .ended
        } catch PeerClientError.busy {
            outcome = .busy
        } catch let error as PeerClientError {
            // Cancelled: the fetch is ending and nobody listens any more.
            if Task.isCancelled { return }
            outcome = .failed("\(error)")
        } catch {
            // Cancelled: NIO's thread pool refused the write of a chunk that was then never counted.
            if !Task.isCancelled { reporter.yield(.fatal(error)) }
            return
        }
        reporter.yield(.requestFinished(request, outcome))
    }

    /// Checks a chunk against the manifest and, if good, writes it into the partial file. Runs off the actor (a
    /// nonisolated async function runs on the global executor), so chunks from several requests are hashed on
    /// several cores at once while the actor only does the bookkeeping. The write goes to NIO's thread pool for
    /// blocking I/O: a slow card or a write waiting its turn blocks one of those threads, not one of Swift's few
    /// cooperative ones, which serve the requests and timers of the whole daemon.
    private nonisolated static func verifyAndWrite(
        _ bytes: ByteBuffer, chunk: Int, at offset: Int64, verifier: ChunkVerifier,
        file: PartialFile
    ) async throws(ReplicationError) -> Bool {
        guard bytes.withUnsafeReadableBytes({ verifier.verify(chunk: chunk, bytes: $0) }) else { return false }
        do {
            try await NIOThreadPool.singleton.runIfActive {
                try bytes.withUnsafeReadableBytes { buffer throws(ReplicationError) in
                    try file.write(buffer, at: offset)
                }
            }
        } catch let error as ReplicationError {
            throw error
        } catch {
            throw .cache("cannot write \(file.path): \(error)")
        }
        return true
    }

    private func rejected(_ chunk: Int, of request: FetchScheduler.Request, bytes: Int64) {
        logger.warning(
            "chunk failed verification; avoiding this source for the object",
            metadata: [
                "peer": "\(request.source)", "chunk": "\(chunk)",
            ])
        scheduler.chunkRejected(chunk, of: request, bytes: bytes)
    }

    /// Counts a verified chunk; returns whether the request should go on.
    private func accepted(
        _ chunk: Int, of request: FetchScheduler.Request,
        bytes: Int64
    ) async throws(ReplicationError) -> Bool {
        let lateBefore = scheduler.latePlayerChunks
        let goOn = scheduler.chunkVerified(chunk, of: request, bytes: bytes, at: clock.now)
        if scheduler.latePlayerChunks > lateBefore, let late = scheduler.lastLateChunk {
            // What tells a play that stalled (or nearly) from one that kept up, without a stopwatch on the player.
            logger.debug(
                "a player's chunk arrived after its deadline",
                metadata: [
                    "chunk": "\(late.chunk)", "late_by": "\(late.late)", "late_chunks": "\(scheduler.latePlayerChunks)",
                ])
        }
        arrivals.verified(chunk)
        writes.add(bytes)
        chunksSinceSpaceCheck += 1
        if chunksSinceSpaceCheck >= tuning.chunksPerSpaceCheck {
            // The disk may fill up under a running fetch (other writers): stop before it is full.
            try await checkSpace()
        }
        return goOn
    }

    /// Checks that the object still fits the cache's quota (read now, so a lowered `cache_max` counts) and the
    /// free disk space. The replica's whole size was reserved when it started, so the quota is never exceeded.
    private func checkSpace() async throws(ReplicationError) {
        guard let manifest = scheduler.manifest else { return }
        chunksSinceSpaceCheck = 0
        let otherReplicas = ((try? await records.replicaBytes()) ?? 0) - manifest.fileSize
        try space.check(
            objectSize: manifest.fileSize, otherReplicas: otherReplicas,
            stillToWrite: manifest.fileSize - scheduler.progress.bytesDone)
    }

    /// Makes the chunks written so far durable, then records them: a crash after this never re-downloads them,
    /// and a crash before it never trusts unsynced bytes.
    private nonisolated func flush(_ file: PartialFile, _ have: ChunkBitmap) async {
        do {
            try await NIOThreadPool.singleton.runIfActive { try file.sync() }
            try await records.record(have, writes: writes.current)
        } catch {
            logger.error("cannot record fetched chunks", metadata: ["error": "\(error)"])
        }
    }

    private func finish() async throws {
        guard let file else { throw ReplicationError.cache("no partial file to publish") }
        let finalPath = layout.completePath(id)
        try await NIOThreadPool.singleton.runIfActive { try file.publish(as: finalPath) }
        try await records.complete()
        self.file = nil
        let finishedAt = Date()
        scheduler.finished(at: finishedAt)
        let progress = scheduler.progress
        logger.info(
            "fetch complete",
            metadata: [
                "bytes": "\(progress.size)",
                "seconds": "\(String(format: "%.2f", finishedAt.timeIntervalSince(progress.startedAt)))",
                "sources": "\(progress.sources.map { "\($0.name):\($0.chunks)" }.joined(separator: ","))",
                "resumed_chunks": "\(progress.chunksResumed)",
            ])
    }

    /// A fetch that cannot go on: the partial file and the replica row go, so nothing half-written stays behind.
    private func fail(_ error: any Error) async {
        logger.error("fetch failed", metadata: ["error": "\(error)"])
        arrivals.failed("its fetch failed: \(error)")
        file = nil
        layout.remove(id)
        await records.forgetUnfinished()
        scheduler.failed("\(error)", at: Date())
    }
}
