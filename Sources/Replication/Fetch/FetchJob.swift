import ContentID
import ControlWire
import Foundation
import Logging
import MediaIndex
import NIOCore
import NIOPosix
import PeerProtocol
import PeerWire
import WireVocabulary

/// One object being fetched: locate the holders, get and verify the manifest, then pull chunks from every holder
/// at once, verify each against the manifest, write it into the partial file and record it once durable.
actor FetchJob {
    struct Tuning: Sendable {
        /// Requests in flight per source (pipelining over keep-alive connections).
        var requestsPerSource = 3
        /// Consecutive chunks one request may ask for: fewer requests cost both boxes less (a request costs the
        /// serving box about as much CPU as a megabyte sent). Chunks are verified as they arrive, so a longer run
        /// costs no memory: two chunks per request are held at most (one being written, one arriving).
        var chunksPerRequest = 16
        /// How long a request may go without delivering a whole chunk: a stalled source loses its chunks after this.
        var chunkTimeout: TimeAmount = .seconds(20)
        /// Transport failures in a row before a source is dropped.
        var failuresBeforeDrop = 2
        /// How often verified chunks are made durable and recorded.
        var flushInterval: Duration = .seconds(1)
        /// Wait before asking again for holders when none is reachable (doubles up to `maxHolderWait`).
        var holderWait: Duration = .seconds(1)
        var maxHolderWait: Duration = .seconds(8)
    }

    let id: ContentID
    private let catalog: Catalog
    private let layout: ReplicaLayout
    private let space: CacheSpace
    private let directory: any HolderDirectory
    private let client: PeerClient
    private let tuning: Tuning
    private let logger: Logger

    private(set) var progress: FetchProgress
    private var picker: ChunkPicker?
    private var verifier: ChunkVerifier?
    private var file: PartialFile?
    private var endpoints: [String: PeerEndpoint] = [:]
    private var consecutiveFailures: [String: Int] = [:]
    /// When each dropped source was dropped: it is not asked again for a while, so a box that refuses connections
    /// is not hammered in a loop.
    private var droppedAt: [String: ContinuousClock.Instant] = [:]
    static let dropPenalty: Duration = .seconds(5)
    private var rateSamples: [(ContinuousClock.Instant, Int64)] = []
    private var chunksSinceSpaceCheck = 0

    init(id: ContentID, title: String, catalog: Catalog, layout: ReplicaLayout, space: CacheSpace,
         directory: any HolderDirectory, client: PeerClient, tuning: Tuning, logger: Logger) {
        self.id = id
        self.catalog = catalog
        self.layout = layout
        self.space = space
        self.directory = directory
        self.client = client
        self.tuning = tuning
        var logger = logger
        logger[metadataKey: "object"] = "\(id.hex.prefix(16))"
        self.logger = logger
        progress = FetchProgress(
            id: id, title: title, state: .locating, size: 0, chunkCount: 0, chunksDone: 0, chunksResumed: 0, bytesDone: 0,
            bytesReceived: 0, bytesPerSecond: 0, sources: [], message: nil, startedAt: Date(), finishedAt: nil)
    }

    /// Runs until the object is complete, the fetch fails, or the task is cancelled (the daemon stopping: what is
    /// verified stays recorded and the next start resumes).
    func run() async {
        do {
            try await fetch()
        } catch is CancellationError {
            await flush()
        } catch {
            await fail(error)
        }
    }

    private func fetch() async throws {
        var wait = tuning.holderWait
        while true {
            try Task.checkCancellation()
            let holders = await directory.holders(of: id).filter { !(picker?.banned.contains($0.peerID) ?? false) }
            if verifier == nil { try await prepare(holders: holders) }
            guard verifier != nil else {
                try await waitForHolders(&wait, "no reachable box holds the object")
                continue
            }
            if picker!.isComplete { return try await finish() }
            await addSources(holders)
            if picker!.sources.isEmpty || picker!.isStarved {
                try await waitForHolders(&wait, "no reachable box holds the missing chunks")
                continue
            }
            wait = tuning.holderWait
            progress.state = .downloading
            progress.message = nil
            try await download()
            if picker!.isComplete { return try await finish() }
        }
    }

    private func waitForHolders(_ wait: inout Duration, _ message: String) async throws {
        if progress.state != .waitingForHolders {
            logger.info("fetch waiting for a holder", metadata: ["reason": "\(message)"])
        }
        progress.state = .waitingForHolders
        progress.message = message
        progress.bytesPerSecond = 0
        try await Task.sleep(for: wait)
        wait = min(wait * 2, tuning.maxHolderWait)
    }

    /// Gets a verified manifest (from the index when resuming, else from a holder), checks the space, and opens
    /// the partial file.
    private func prepare(holders: [Holder]) async throws {
        var manifest: ChunkManifest?
        if (try catalog.replica(id)) != nil, let known = try catalog.manifest(of: id) {
            manifest = known  // verified against the id before it was stored
        } else {
            for holder in holders {
                guard let endpoint = holder.endpoint else { continue }
                do {
                    manifest = try await client.manifest(endpoint, id: id).manifest
                    break
                } catch {
                    logger.info("holder could not give the manifest", metadata: ["peer": "\(endpoint)", "error": "\(error)"])
                }
            }
        }
        guard let manifest else { return }
        let replica = try catalog.replica(id)
        let otherReplicas = try catalog.replicaBytes() - (replica?.size ?? 0)
        let held = replica?.have ?? ChunkBitmap(chunkCount: manifest.chunkCount)
        let stillToWrite = (0..<manifest.chunkCount).filter { !held.contains($0) }.reduce(Int64(0)) { total, index in
            let range = manifest.byteRange(ofChunk: index)
            return total + range.upperBound - range.lowerBound
        }
        // The cache folder may not exist yet (a first fetch, a configured folder nobody created).
        try layout.prepare()
        try space.check(objectSize: manifest.fileSize, otherReplicas: otherReplicas, stillToWrite: stillToWrite)
        if replica == nil {
            let description = try catalog.remoteDescription(of: id) ?? CatalogEntry(id: id, generation: 0, size: manifest.fileSize)
            try catalog.beginReplica(manifest: manifest, description: description)
        }
        file = try PartialFile(path: layout.partialPath(id), size: manifest.fileSize)
        verifier = try ChunkVerifier(manifest: manifest, expected: id)
        picker = ChunkPicker(have: held)
        progress.size = manifest.fileSize
        progress.chunkCount = manifest.chunkCount
        progress.chunksResumed = held.count
        progress.chunksDone = held.count
        progress.bytesDone = manifest.fileSize - stillToWrite
        if held.count > 0 {
            logger.info("resuming fetch", metadata: ["chunks_held": "\(held.count)", "chunks": "\(manifest.chunkCount)"])
        }
    }

    /// Adds the holders not yet used as sources: complete holders hold every chunk, partial ones say which.
    private func addSources(_ holders: [Holder]) async {
        guard let manifest = verifier?.manifest else { return }
        for holder in holders where endpoints[holder.peerID] == nil || !picker!.sources.contains(holder.peerID) {
            guard !picker!.banned.contains(holder.peerID), let endpoint = holder.endpoint else { continue }
            if let dropped = droppedAt[holder.peerID], ContinuousClock.now - dropped < Self.dropPenalty { continue }
            var chunks = ChunkBitmap(chunkCount: manifest.chunkCount, full: true)
            if !holder.complete {
                do {
                    chunks = try await client.have(endpoint, id: id, chunkCount: manifest.chunkCount)
                } catch {
                    logger.debug("partial holder did not say what it has", metadata: ["peer": "\(endpoint)", "error": "\(error)"])
                    continue
                }
            }
            endpoints[holder.peerID] = endpoint
            consecutiveFailures[holder.peerID] = 0
            picker!.setAvailability(chunks, for: holder.peerID)
            updateSource(holder.peerID) { $0.active = true }
        }
    }

    /// Pulls chunks from every source until the object is complete or no source can help any more.
    private func download() async throws {
        let sources = picker!.sources
        let verifier = self.verifier!
        let file = self.file!
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { try await self.flushPeriodically(); return false }
            // Ends the round as soon as no source is left, without waiting for the requests still open to sources
            // that were dropped (a dead box's connection may take its whole deadline to fail).
            group.addTask { try await self.superviseSources(); return false }
            for source in sources {
                guard let endpoint = endpoints[source] else { continue }
                for _ in 0..<tuning.requestsPerSource {
                    group.addTask { try await self.work(source: source, endpoint: endpoint, verifier: verifier, file: file); return true }
                }
            }
            // Every worker returns when its source can do nothing more; then the flusher is stopped.
            var remaining = sources.count * tuning.requestsPerSource
            while remaining > 0, let isWorker = try await group.next() {
                guard isWorker else { break }
                remaining -= 1
            }
            group.cancelAll()
        }
        await flush()
    }

    private func work(source: String, endpoint: PeerEndpoint, verifier: ChunkVerifier, file: PartialFile) async throws {
        while true {
            try Task.checkCancellation()
            guard let step = assign(source) else { return }
            guard let run = step else {
                try await Task.sleep(for: .milliseconds(20))
                continue
            }
            let manifest = verifier.manifest
            let range = manifest.byteRange(ofChunk: run.lowerBound).lowerBound..<manifest.byteRange(ofChunk: run.upperBound - 1).upperBound
            var busy = false
            do {
                // Each chunk is verified and written as soon as it has arrived whole, while the rest of the run
                // is still on the wire: one request per run, two chunks in memory per request at most.
                try await client.pieces(endpoint, id: id, range: range, pieceLength: manifest.chunkSize,
                                        pieceTimeout: tuning.chunkTimeout) { index, bytes in
                    let chunk = run.lowerBound + index
                    let offset = manifest.byteRange(ofChunk: chunk).lowerBound
                    guard try await Self.verifyAndWrite(bytes, chunk: chunk, at: offset, verifier: verifier, file: file) else {
                        await self.rejected(chunk, source: source, bytes: Int64(bytes.readableBytes))
                        return false
                    }
                    // A source dropped or banned meanwhile (by another of its requests) stops here: its chunks are
                    // already back in the pool.
                    return try await self.accepted(chunk, source: source, bytes: Int64(bytes.readableBytes))
                }
            } catch PeerClientError.busy {
                busy = true
            } catch let error as PeerClientError {
                if Task.isCancelled { throw CancellationError() }
                transportFailed(source: source, error: error)
            }
            // Whatever of the run did not arrive (a failure, a bad chunk, a busy peer) is free for others again;
            // chunks that arrived are no longer in flight, so this leaves them be.
            for chunk in run { abandon(chunk, by: source) }
            guard picker?.sources.contains(source) == true else { return }
            if busy { try await Task.sleep(for: .milliseconds(250)) }
        }
    }

    /// Checks a chunk against the manifest and, if good, writes it into the partial file. Runs off the actor (a
    /// nonisolated async function runs on the global executor), so chunks from several requests are hashed on
    /// several cores at once while the actor only does the bookkeeping. The write goes to NIO's thread pool for
    /// blocking I/O: a slow card or a write waiting its turn blocks one of those threads, not one of Swift's few
    /// cooperative ones, which serve the requests and timers of the whole daemon.
    private nonisolated static func verifyAndWrite(_ bytes: ByteBuffer, chunk: Int, at offset: Int64, verifier: ChunkVerifier,
                                                   file: PartialFile) async throws(ReplicationError) -> Bool {
        guard bytes.withUnsafeReadableBytes({ verifier.verify(chunk: chunk, bytes: $0) }) else { return false }
        do {
            try await NIOThreadPool.singleton.runIfActive {
                try bytes.withUnsafeReadableBytes { buffer throws(ReplicationError) in try file.write(buffer, at: offset) }
            }
        } catch let error as ReplicationError {
            throw error
        } catch {
            throw .cache("cannot write \(file.path): \(error)")
        }
        return true
    }

    /// The next run of chunks for a source: nil when the source is done (dropped, banned, or the object
    /// complete); `.some(nil)` when it should wait a moment (every chunk it holds is in flight elsewhere).
    private func assign(_ source: String) -> Range<Int>?? {
        guard var picker, picker.sources.contains(source), !picker.isComplete else { return nil }
        defer { self.picker = picker }
        if let run = picker.nextRun(for: source, maxLength: tuning.chunksPerRequest) { return .some(run) }
        return picker.inFlightCount > 0 ? .some(nil) : nil
    }

    private func abandon(_ chunk: Int, by source: String) {
        picker?.abandoned(chunk, by: source)
    }

    private func transportFailed(source: String, error: PeerClientError) {
        let failures = consecutiveFailures[source, default: 0] + 1
        consecutiveFailures[source] = failures
        updateSource(source) { $0.failures += 1 }
        if failures >= tuning.failuresBeforeDrop, picker?.sources.contains(source) == true {
            logger.warning("dropping a source that stopped answering", metadata: ["peer": "\(endpoints[source]?.description ?? source)", "error": "\(error)"])
            picker?.remove(source)
            droppedAt[source] = .now
            updateSource(source) { $0.active = false }
        }
    }

    private func rejected(_ chunk: Int, source: String, bytes: Int64) {
        logger.warning("chunk failed verification; avoiding this source for the object", metadata: [
            "peer": "\(endpoints[source]?.description ?? source)", "chunk": "\(chunk)",
        ])
        picker?.ban(source, chunk: chunk)
        progress.bytesReceived += bytes
        updateSource(source) { $0.badChunks += 1; $0.active = false }
    }

    /// Counts a verified chunk; returns whether `source` is still one to fetch from.
    private func accepted(_ chunk: Int, source: String, bytes: Int64) throws(ReplicationError) -> Bool {
        let stillUsed = picker?.sources.contains(source) == true
        if stillUsed { consecutiveFailures[source] = 0 }
        progress.bytesReceived += bytes
        // A good chunk is kept whoever sent it.
        guard picker?.completed(chunk, by: source) == true else { return stillUsed }
        progress.chunksDone += 1
        progress.bytesDone += bytes
        updateSource(source) { $0.chunks += 1; $0.bytes += bytes }
        let now = ContinuousClock.now
        rateSamples.append((now, progress.bytesDone))
        rateSamples.removeAll { now - $0.0 > .seconds(3) }
        if let first = rateSamples.first, now - first.0 > .milliseconds(200) {
            let seconds = Double((now - first.0).components.attoseconds) / 1e18 + Double((now - first.0).components.seconds)
            progress.bytesPerSecond = Int64(Double(progress.bytesDone - first.1) / seconds)
        }
        chunksSinceSpaceCheck += 1
        if chunksSinceSpaceCheck >= 64, let manifest = verifier?.manifest {
            // The disk may fill up under a running fetch (other writers): stop before it is full.
            chunksSinceSpaceCheck = 0
            let otherReplicas = ((try? catalog.replicaBytes()) ?? 0) - manifest.fileSize
            try space.check(objectSize: manifest.fileSize, otherReplicas: otherReplicas, stillToWrite: manifest.fileSize - progress.bytesDone)
        }
        return stillUsed
    }

    private func updateSource(_ peerID: String, _ change: (inout FetchProgress.Source) -> Void) {
        if let index = progress.sources.firstIndex(where: { $0.peerID == peerID }) {
            change(&progress.sources[index])
        } else {
            var source = FetchProgress.Source(peerID: peerID, name: endpoints[peerID]?.name ?? peerID, chunks: 0, bytes: 0,
                                              badChunks: 0, failures: 0, active: false)
            change(&source)
            progress.sources.append(source)
        }
    }

    /// Returns once the object is complete or no source is left.
    private func superviseSources() async throws {
        while let picker, !picker.isComplete, !picker.sources.isEmpty {
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    private func flushPeriodically() async throws {
        while true {
            try await Task.sleep(for: tuning.flushInterval)
            await flush()
        }
    }

    /// Makes the chunks written so far durable, then records them: a crash after this never re-downloads them,
    /// and a crash before it never trusts unsynced bytes.
    private func flush() async {
        guard let picker, let file else { return }
        let snapshot = picker.have
        do {
            try await NIOThreadPool.singleton.runIfActive { try file.sync() }
            try catalog.recordChunks(of: id, have: snapshot)
        } catch {
            logger.error("cannot record fetched chunks", metadata: ["error": "\(error)"])
        }
    }

    private func finish() async throws {
        guard let file else { return }
        let finalPath = layout.completePath(id)
        try await NIOThreadPool.singleton.runIfActive { try file.publish(as: finalPath) }
        try catalog.completeReplica(id)
        self.file = nil
        progress.state = .complete
        progress.message = nil
        progress.finishedAt = Date()
        for index in progress.sources.indices { progress.sources[index].active = false }
        let seconds = progress.finishedAt!.timeIntervalSince(progress.startedAt)
        logger.info("fetch complete", metadata: [
            "bytes": "\(progress.size)", "seconds": "\(String(format: "%.2f", seconds))",
            "sources": "\(progress.sources.map { "\($0.name):\($0.chunks)" }.joined(separator: ","))",
            "resumed_chunks": "\(progress.chunksResumed)",
        ])
    }

    /// A fetch that cannot go on: the partial file and the replica row go, so nothing half-written stays behind.
    private func fail(_ error: any Error) async {
        logger.error("fetch failed", metadata: ["error": "\(error)"])
        file = nil
        layout.remove(id)
        if (try? catalog.replica(id))??.complete == false {
            try? catalog.deleteReplica(id)
        }
        progress.state = .failed
        progress.message = "\(error)"
        progress.finishedAt = Date()
        for index in progress.sources.indices { progress.sources[index].active = false }
    }
}

