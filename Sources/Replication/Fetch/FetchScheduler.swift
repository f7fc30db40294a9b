import ContentID
import ControlWire
import ElapsedTime
import Foundation
import PeerProtocol
import PeerWire
import WireVocabulary

/// The decisions of one fetch, without any I/O: who the sources are, which run of chunks each request asks for,
/// when a source is dropped or banned, when to look for holders again, when to flush and when the object is done.
///
/// Players reading the object while it is fetched give it interests (``want(_:bytes:bytesPerSecond:at:)``):
/// their chunks are requested first, earliest deadline first, and hedged when late (see ``assign(at:_:)``).
///
/// The driver (``FetchJob``) tells it what happened, with the current instant, and carries out the actions it
/// returns: it never reads a clock or waits itself, so every rule here can be tested on virtual time.
///
/// ```swift
/// var scheduler = FetchScheduler(id: id, title: "Holiday.mkv", startedAt: Date())
/// var actions = scheduler.start(at: clock.now)          // [.lookUpHolders]
/// actions = scheduler.holdersFound(holders, at: clock.now)
/// ```
struct FetchScheduler {
    struct Policy: Sendable {
        /// Requests in flight per source (pipelining over keep-alive connections).
        var requestsPerSource = 3
        /// Consecutive chunks one request may ask for: fewer requests cost both boxes less (a request costs the
        /// serving box about as much CPU as a megabyte sent). Chunks are verified as they arrive, so a longer run
        /// costs no memory: two chunks per request are held at most (one being written, one arriving).
        var chunksPerRequest = 16
        /// Transport failures in a row before a source is dropped.
        var failuresBeforeDrop = 2
        /// How long a dropped source is not asked again, so a box that refuses connections is not hammered.
        var dropPenalty: Duration = .seconds(5)
        /// How long a request slot rests after its source answered busy.
        var busyBackOff: Duration = .milliseconds(250)
        /// How often verified chunks are made durable and recorded.
        var flushInterval: Duration = .seconds(1)
        /// Wait before asking again for holders when none can help (doubles up to `maxHolderWait`).
        var holderWait: Duration = .seconds(1)
        var maxHolderWait: Duration = .seconds(8)
        /// The span the transfer rate is measured over.
        var rateWindow: Duration = .seconds(3)
        /// How soon the chunk under a player's read is due; the chunks after it are due as the play reaches them.
        var playbackLead: Duration = .seconds(1)
        /// Chunks one urgent request (a chunk a player waits for) asks for: short, so a seek gets its first chunk
        /// as soon as possible and the next urgent chunks spread over several sources.
        var urgentRunLength = 2
        /// Requests per source beyond ``requestsPerSource`` that only urgent requests may use, so a seek is never
        /// stuck behind long background runs.
        var urgentExtraSlots = 1
        /// The background run length while a player is interested: shorter, so slots turn over quickly.
        var chunksPerRequestWhilePlaying = 4
    }

    /// What a player reads of the object: the bytes it asked for and a window ahead, from `since`, at a rate.
    /// The chunk holding `bytes.lowerBound` is due ``Policy/playbackLead`` after `since`, each later chunk when
    /// the play at `bytesPerSecond` reaches it.
    struct Interest: Sendable, Equatable {
        var bytes: Range<Int64>
        var bytesPerSecond: Int64
        var since: ElapsedInstant
    }

    /// Where a played object's chunks lie before its manifest arrives: its size as the catalogs describe it, and the
    /// only chunk size a manifest may have. A player's first chunk is asked for with the manifest, not after it
    /// (``Action/start(_:)`` before ``manifestReady(_:have:at:)``): the two round trips overlap, and a remote title's
    /// first byte comes about one chunk's transfer sooner. The chunk is verified once the manifest is known.
    struct ExpectedLayout: Sendable, Equatable {
        var fileSize: Int64
        var chunkSize: Int
    }

    /// One ranged request: a run of consecutive chunks from one source.
    struct Request: Sendable, Equatable {
        let id: Int
        let source: PeerEndpoint
        let chunks: Range<Int>
        let bytes: Range<Int64>
    }

    /// How a request ended, as the driver saw it.
    enum RequestOutcome: Sendable, Equatable {
        /// Everything asked for arrived, or the stream stopped because the scheduler said so.
        case ended
        /// The source answered that it is busy.
        case busy
        /// No usable answer (refused connection, timeout, broken stream); the reason is for the log.
        case failed(String)
    }

    enum Timer: Sendable, Hashable {
        case holderRetry
        case flush
        /// A request slot of this source may ask again after a busy answer.
        case slotRested(source: String)
        /// This dropped source may be used again.
        case penaltyOver(source: String)
        /// A player's chunk in flight reaches its deadline: it is asked of a second source.
        case hedge
    }

    enum Action: Sendable, Equatable {
        /// Ask the directory who holds the object; answer with ``holdersFound(_:at:)``.
        case lookUpHolders
        /// Get the manifest (from this box's records when resuming, else from one of these holders), check the
        /// space and open the partial file; answer with ``manifestReady(_:have:at:)`` or ``manifestUnavailable(at:)``.
        case obtainManifest(from: [PeerEndpoint])
        /// Ask a partial holder which chunks it has; answer with ``availabilityKnown(_:of:at:)``.
        case queryAvailability(PeerEndpoint)
        /// Send the request; feed each chunk to ``chunkVerified(_:of:bytes:at:)`` or ``chunkRejected(_:of:bytes:)``
        /// and its end to ``requestFinished(_:_:at:)``. A request started before the manifest is known (a player's
        /// first chunk, at its ``ExpectedLayout`` place) waits for it: a chunk the manifest places elsewhere is
        /// dropped, not held against its source.
        case start(Request)
        /// The source stopped answering and is not used for a while (requests still open to it stop at their next
        /// chunk).
        case drop(PeerEndpoint, reason: String)
        /// Nobody can help now: look for holders again at `until` (``Timer/holderRetry``). `announce` is true for
        /// the first wait of a series.
        case waitForHolders(until: ElapsedInstant, reason: String, announce: Bool)
        /// Call ``timerFired(_:at:)`` at that instant.
        case schedule(Timer, at: ElapsedInstant)
        /// Sync the partial file, then record these chunks as held; answer with ``flushed(at:)``.
        case flush(ChunkBitmap)
        /// Every chunk is verified and written: publish the file and complete the record.
        case finish
    }

    private struct SourceState {
        let endpoint: PeerEndpoint
        var activeRequests = 0
        /// Slots resting after a busy answer, until these instants.
        var restingUntil: [ElapsedInstant] = []
        var consecutiveFailures = 0
    }

    /// What a fetch did while it yielded its links to another: what tells a fetch that let the links go from one
    /// that kept them, without a stopwatch on the link.
    struct YieldSpell: Equatable, Sendable {
        /// Requests in flight when the fetch began to yield: each may still deliver the chunk it was on.
        var requestsInFlight: Int
        /// Chunks verified since, while nobody played this fetch: at most one per request in flight.
        var chunksVerified = 0
        /// Requests started since, while nobody played this fetch: none.
        var requestsStarted = 0
    }

    private struct RequestState {
        let source: String
        let chunks: Range<Int>
        /// Its source was dropped or banned since: the request stops at its next chunk and counts for nothing.
        var orphaned = false
    }

    let policy: Policy
    private(set) var progress: FetchProgress
    private(set) var manifest: ChunkManifest?
    private var picker: ChunkPicker?
    /// The latest holders, less the banned ones.
    private var holders: [Holder] = []
    /// The sources in use, in the order they joined (so assignment is deterministic).
    private var sources: [String: SourceState] = [:]
    private var sourceOrder: [String] = []
    private var querying: Set<String> = []
    private var droppedAt: [String: ElapsedInstant] = [:]
    private var requests: [Int: RequestState] = [:]
    private var nextRequestID = 0
    private var lookingUp = false
    private var lookUpAgain = false
    private var obtainingManifest = false
    /// Where the chunks lie before the manifest says so, when the object's size is known.
    private let expected: ExpectedLayout?
    /// The request for a player's first chunk sent with the manifest request, until the manifest is known.
    private var aheadRequest: Request?
    private var triedAhead = false
    /// Chunks verified before the scheduler learnt of the manifest (the request sent ahead of it, verified while
    /// the replica was being recorded): counted once it does.
    private var verifiedEarly: [(chunk: Int, request: Request, bytes: Int64)] = []
    private var holderRetryAt: ElapsedInstant?
    private var holderWait: Duration
    private var waitAnnounced = false
    private var flushArmed = false
    private var flushing = false
    private var flushedChunks = -1
    private var finishing = false
    /// (instant, bytes done) per verified chunk; samples before `rateHead` are out of the window.
    private var rateSamples: [(at: ElapsedInstant, bytesDone: Int64)] = []
    private var rateHead = 0
    /// The players reading the object, by stream.
    private var interests: [Int: Interest] = [:]
    /// What this fetch did since it began to yield its links, while it does (``YieldSpell``); nil while it does not.
    private(set) var yieldSpell: YieldSpell?
    /// A fetch that goes first runs: this one, unplayed, waits (``yieldLinks(_:at:)``).
    private var yieldingLinks: Bool { yieldSpell != nil }
    /// The instant of the earliest ``Timer/hedge`` scheduled and not yet fired.
    private var hedgeAt: ElapsedInstant?
    /// When the first chunk a player reads arrived since players began reading: the play begins then, and no
    /// deadline is counted as missed before a lead after it (how soon a play starts is its first byte's concern).
    private var playBeganAt: ElapsedInstant?
    /// The last chunk a player reads that was verified after its deadline, and by how much (``latePlayerChunks``).
    private(set) var lastLateChunk: (chunk: Int, late: Duration)?
    /// Chunks a player reads that were verified after their deadline: each one a play that stalled or nearly did.
    private(set) var latePlayerChunks = 0

    /// - parameter expected: where the chunks lie, when the caller knows the object's size (a play): a player's
    ///   first chunk is then asked for while the manifest is on its way.
    init(id: ContentID, title: String, startedAt: Date, policy: Policy = Policy(), expected: ExpectedLayout? = nil) {
        self.policy = policy
        self.expected = expected
        holderWait = policy.holderWait
        progress = FetchProgress(
            id: id, title: title, state: .locating, size: 0, chunkCount: 0, chunksDone: 0, chunksResumed: 0,
            bytesDone: 0, bytesReceived: 0, bytesPerSecond: 0, sources: [], message: nil, startedAt: startedAt,
            finishedAt: nil)
    }

    /// The chunks verified and written so far (none before the manifest is known).
    var have: ChunkBitmap? { picker?.have }

    var isComplete: Bool { picker?.isComplete ?? false }

    // MARK: - Events

    mutating func start(at now: ElapsedInstant) -> [Action] {
        var actions: [Action] = []
        lookUp(&actions)
        return actions
    }

    mutating func holdersFound(_ found: [Holder], at now: ElapsedInstant) -> [Action] {
        var actions: [Action] = []
        lookingUp = false
        let banned = picker?.banned ?? []
        holders = found.filter { !banned.contains($0.peerID) }
        if manifest == nil {
            if !obtainingManifest {
                obtainingManifest = true
                // The chunk first: it goes out first, on the connection already open to its holder (the bigger
                // transfer gains most from a warm connection; the manifest is a few kilobytes).
                fetchAhead(&actions)
                actions.append(.obtainManifest(from: holders.compactMap(\.endpoint)))
            } else {
                fetchAhead(&actions)
            }
        } else {
            addSources(at: now, &actions)
        }
        if lookUpAgain {
            lookUpAgain = false
            lookUp(&actions)
        }
        reconsider(at: now, &actions)
        return actions
    }

    /// The manifest is verified, the space checked and the partial file open; `have` is what is already held.
    mutating func manifestReady(_ manifest: ChunkManifest, have: ChunkBitmap, at now: ElapsedInstant) -> [Action] {
        var actions: [Action] = []
        obtainingManifest = false
        self.manifest = manifest
        picker = ChunkPicker(have: have)
        let held = have.count
        flushedChunks = held
        progress.size = manifest.fileSize
        progress.chunkCount = manifest.chunkCount
        progress.chunksResumed = held
        progress.chunksDone = held
        progress.bytesDone = (0..<manifest.chunkCount).reduce(Int64(0)) { total, index in
            guard have.contains(index) else { return total }
            let range = manifest.byteRange(ofChunk: index)
            return total + range.upperBound - range.lowerBound
        }
        addSources(at: now, &actions)
        adoptAheadRequest(manifest, have: have)
        for early in verifiedEarly { _ = chunkVerified(early.chunk, of: early.request, bytes: early.bytes, at: now) }
        verifiedEarly = []
        reconsider(at: now, &actions)
        return actions
    }

    /// No holder could give a manifest that hashes to the id.
    mutating func manifestUnavailable(at now: ElapsedInstant) -> [Action] {
        var actions: [Action] = []
        obtainingManifest = false
        if let ahead = aheadRequest { requests[ahead.id]?.orphaned = true }
        aheadRequest = nil
        reconsider(at: now, &actions)
        return actions
    }

    /// A partial holder said which chunks it has (nil: it did not answer usefully).
    mutating func availabilityKnown(_ chunks: ChunkBitmap?, of source: PeerEndpoint, at now: ElapsedInstant) -> [Action]
    {
        var actions: [Action] = []
        querying.remove(source.peerID)
        if let chunks, let manifest, chunks.chunkCount == manifest.chunkCount, sources[source.peerID] == nil,
            picker?.banned.contains(source.peerID) == false
        {
            addSource(source, chunks: chunks)
        }
        reconsider(at: now, &actions)
        return actions
    }

    /// A chunk of `request` was verified and written. Returns whether the request should go on streaming: not
    /// once its source was dropped or banned, nor once the object is complete. A good chunk is kept whoever sent it.
    ///
    /// A chunk verified before ``manifestReady(_:have:at:)`` (its request was sent ahead of the manifest) is counted
    /// when that comes.
    mutating func chunkVerified(_ chunk: Int, of request: Request, bytes: Int64, at now: ElapsedInstant) -> Bool {
        guard picker != nil else {
            verifiedEarly.append((chunk, request, bytes))
            return false
        }
        progress.bytesReceived += bytes
        let source = request.source.peerID
        let stillUsed = requests[request.id].map { !$0.orphaned } ?? false
        if stillUsed { sources[source]?.consecutiveFailures = 0 }
        // A fetch that yields stops its requests in flight at their next chunk: left to run, a replication's long
        // runs kept the link for tens of seconds, and a play started meanwhile on the same link fell behind.
        let goesOn = stillUsed && !(yieldingLinks && interests.isEmpty)
        if yieldingLinks, interests.isEmpty { yieldSpell?.chunksVerified += 1 }
        guard picker?.completed(chunk, by: source) == true else { return goesOn && !isDone }
        progress.chunksDone += 1
        progress.bytesDone += bytes
        updateSource(source) {
            $0.chunks += 1
            $0.bytes += bytes
        }
        sampleRate(at: now)
        countIfLate(chunk, at: now)
        return goesOn && !isDone
    }

    /// Counts `chunk`, just verified, in ``latePlayerChunks`` when a player reads it and its earliest deadline (none
    /// before the lead after the play began) has passed.
    private mutating func countIfLate(_ chunk: Int, at now: ElapsedInstant) {
        guard let manifest else { return }
        let earliest = interests.values.filter { chunks(of: $0, manifest).contains(chunk) }
            .map { deadline(of: chunk, $0, manifest) }.min()
        guard let earliest else { return }
        guard let playBeganAt else {
            playBeganAt = now
            return
        }
        let due = max(earliest, playBeganAt + policy.playbackLead)
        guard due < now else { return }
        latePlayerChunks += 1
        lastLateChunk = (chunk, due.duration(to: now))
    }

    /// A chunk of `request` did not match the manifest: its source is banned for this object, its chunks go back
    /// to the pool, and its other requests stop at their next chunk. The request itself must stop now.
    mutating func chunkRejected(_ chunk: Int, of request: Request, bytes: Int64) {
        progress.bytesReceived += bytes
        let source = request.source.peerID
        picker?.ban(source, chunk: chunk)
        holders.removeAll { $0.peerID == source }
        forget(source)
        updateSource(source) {
            $0.badChunks += 1
            $0.active = false
        }
    }

    /// A request ended: whatever of its run did not arrive is free for others again, and its slot is free.
    mutating func requestFinished(_ request: Request, _ outcome: RequestOutcome, at now: ElapsedInstant) -> [Action] {
        var actions: [Action] = []
        let source = request.source.peerID
        let orphaned = requests.removeValue(forKey: request.id)?.orphaned ?? true
        // Chunks that arrived are no longer in flight, so this leaves them be.
        for chunk in request.chunks { picker?.abandoned(chunk, by: source) }
        if !orphaned { sources[source]?.activeRequests -= 1 }
        switch outcome {
        case .ended:
            break
        case .busy:
            if !orphaned, sources[source] != nil {
                let until = now + policy.busyBackOff
                sources[source]?.restingUntil.append(until)
                actions.append(.schedule(.slotRested(source: source), at: until))
            }
        case .failed(let reason):
            updateSource(source) { $0.failures += 1 }
            if !orphaned, var state = sources[source] {
                state.consecutiveFailures += 1
                sources[source] = state
                if state.consecutiveFailures >= policy.failuresBeforeDrop {
                    drop(state.endpoint, reason: reason, at: now, &actions)
                }
            }
        }
        reconsider(at: now, &actions)
        return actions
    }

    mutating func timerFired(_ timer: Timer, at now: ElapsedInstant) -> [Action] {
        var actions: [Action] = []
        guard !finishing else { return actions }
        switch timer {
        case .holderRetry:
            holderRetryAt = nil
            if manifest == nil || needsHolders { lookUp(&actions) }
        case .flush:
            flushArmed = false
            if let have = picker?.have, progress.chunksDone != flushedChunks {
                flushedChunks = progress.chunksDone
                flushing = true
                actions.append(.flush(have))
            } else {
                armFlush(at: now, &actions)
            }
        case .slotRested:
            break  // `assign` lets the slot ask again
        case .penaltyOver:
            lookUp(&actions)
        case .hedge:
            if let hedgeAt, hedgeAt <= now { self.hedgeAt = nil }  // `assign` hedges the late chunks
        }
        reconsider(at: now, &actions)
        return actions
    }

    /// A flush asked for by ``Action/flush(_:)`` is done.
    mutating func flushed(at now: ElapsedInstant) -> [Action] {
        var actions: [Action] = []
        flushing = false
        armFlush(at: now, &actions)
        return actions
    }

    /// The object was published and recorded complete.
    mutating func finished(at date: Date) {
        progress.state = .complete
        progress.message = nil
        progress.finishedAt = date
        deactivateSources()
    }

    /// The fetch cannot go on.
    mutating func failed(_ message: String, at date: Date) {
        finishing = true
        progress.state = .failed
        progress.message = message
        progress.finishedAt = date
        deactivateSources()
    }

    /// A player reads `bytes` (and a window ahead, already included) of the object: their chunks go first,
    /// earliest deadline first. A stream's new interest replaces its last one at once (a seek).
    mutating func want(_ stream: Int, bytes: Range<Int64>, bytesPerSecond: Int64, at now: ElapsedInstant) -> [Action] {
        var actions: [Action] = []
        guard !bytes.isEmpty else { return actions }
        interests[stream] = Interest(bytes: bytes, bytesPerSecond: max(1, bytesPerSecond), since: now)
        fetchAhead(&actions)
        reconsider(at: now, &actions)
        return actions
    }

    /// The stream's player left: its chunks are fetched in the background order again.
    mutating func forget(stream: Int, at now: ElapsedInstant) -> [Action] {
        var actions: [Action] = []
        interests[stream] = nil
        if interests.isEmpty { playBeganAt = nil }
        reconsider(at: now, &actions)
        return actions
    }

    /// Whether a player reads this object now.
    var hasPlayers: Bool { !interests.isEmpty }

    /// A fetch that goes first runs (`true`: another one is played, or a user's fetch runs beside this replication)
    /// or none does (`false`). While one does, a fetch nobody plays starts no new request and stops those in flight
    /// at their next chunk, so the other gets the links its chunks come over; it goes on once none does.
    mutating func yieldLinks(_ yielding: Bool, at now: ElapsedInstant) -> [Action] {
        var actions: [Action] = []
        guard yielding != yieldingLinks else { return actions }
        yieldSpell = yielding ? YieldSpell(requestsInFlight: requests.values.count { !$0.orphaned }) : nil
        reconsider(at: now, &actions)
        return actions
    }

    // MARK: - Decisions

    private var isDone: Bool { progress.chunksDone >= progress.chunkCount }

    /// True when no source is left or some missing chunk is held by none of them.
    private var needsHolders: Bool {
        guard let picker else { return true }
        return sources.isEmpty || picker.isStarved
    }

    /// After every event: finish if complete, give free slots work, and look for holders when nobody can help.
    private mutating func reconsider(at now: ElapsedInstant, _ actions: inout [Action]) {
        guard !finishing else { return }
        guard picker != nil else {
            if !lookingUp, !obtainingManifest {
                if holderRetryAt == nil { waitForHolders(at: now, &actions, "no reachable box holds the object") }
                showWaiting("no reachable box holds the object")
            }
            return
        }
        if isComplete {
            finishing = true
            progress.message = nil
            actions.append(.finish)
            return
        }
        assign(at: now, &actions)
        let working = requests.values.contains { !$0.orphaned } || sources.values.contains { !$0.restingUntil.isEmpty }
        guard needsHolders else {
            holderWait = policy.holderWait
            waitAnnounced = false
            if working {
                progress.state = .downloading
                progress.message = nil
            }
            return
        }
        let reason = "no reachable box holds the missing chunks"
        if !lookingUp, querying.isEmpty, holderRetryAt == nil {
            waitForHolders(at: now, &actions, reason)
        }
        if working {
            // Chunks the sources hold are still fetched meanwhile.
            progress.state = .downloading
            progress.message = reason
        } else if !lookingUp, querying.isEmpty {
            showWaiting(reason)
        }
    }

    private mutating func waitForHolders(at now: ElapsedInstant, _ actions: inout [Action], _ reason: String) {
        let until = now + holderWait
        holderRetryAt = until
        holderWait = min(holderWait * 2, policy.maxHolderWait)
        actions.append(.waitForHolders(until: until, reason: reason, announce: !waitAnnounced))
        waitAnnounced = true
    }

    private mutating func showWaiting(_ reason: String) {
        progress.state = .waitingForHolders
        progress.message = reason
        progress.bytesPerSecond = 0
    }

    private mutating func lookUp(_ actions: inout [Action]) {
        if lookingUp {
            lookUpAgain = true
        } else {
            lookingUp = true
            actions.append(.lookUpHolders)
        }
    }

    /// Adds the holders not yet used as sources: complete holders hold every chunk, partial ones are asked which.
    private mutating func addSources(at now: ElapsedInstant, _ actions: inout [Action]) {
        guard let manifest, let picker else { return }
        for holder in holders {
            let peer = holder.peerID
            guard sources[peer] == nil, !querying.contains(peer), !picker.banned.contains(peer),
                let endpoint = holder.endpoint
            else { continue }
            if let dropped = droppedAt[peer], now < dropped + policy.dropPenalty { continue }
            if holder.complete {
                addSource(endpoint, chunks: ChunkBitmap(chunkCount: manifest.chunkCount, full: true))
            } else {
                querying.insert(peer)
                actions.append(.queryAvailability(endpoint))
            }
        }
    }

    private mutating func addSource(_ endpoint: PeerEndpoint, chunks: ChunkBitmap) {
        let peer = endpoint.peerID
        picker?.setAvailability(chunks, for: peer)
        sources[peer] = SourceState(endpoint: endpoint)
        sourceOrder.append(peer)
        updateSource(peer, name: endpoint.name) { $0.active = true }
    }

    /// Gives every free request slot a run of chunks; a slot with nothing to do waits for the next event. The
    /// players' chunks go first (late ones hedged, then earliest deadline first, from the sources that delivered
    /// most), then, while a player is interested, the first and last chunks (where containers keep their index),
    /// then the rest rarest first.
    ///
    /// A chunk a player is blocked on (the one under its read, not held: a start or a seek) is asked alone, and its
    /// source is given nothing else until that request ends: the chunk has the source's link to itself instead of
    /// sharing it with the window and the first and last chunks started at the same instant (which made a remote
    /// title's first byte wait for three other runs). The other sources are not held back.
    private mutating func assign(at now: ElapsedInstant, _ actions: inout [Action]) {
        guard let manifest else { return }
        let playing = !interests.isEmpty
        if playing { assignUrgent(at: now, manifest, &actions) }
        if yieldingLinks, !playing {
            if !requests.isEmpty { armFlush(at: now, &actions) }
            return
        }
        let runLength = playing ? policy.chunksPerRequestWhilePlaying : policy.chunksPerRequest
        let blocked = playing ? blockedChunks(manifest) : []
        for peer in sourceOrder {
            guard !fetchesBlockedChunk(peer, blocked) else { continue }
            guard var state = sources[peer] else { continue }
            state.restingUntil.removeAll { $0 <= now }
            var free = policy.requestsPerSource - state.activeRequests - state.restingUntil.count
            while free > 0, let run = backgroundRun(for: peer, maxLength: runLength, playing: playing) {
                start(run, from: &state, manifest, &actions)
                free -= 1
            }
            sources[peer] = state
        }
        if !requests.isEmpty { armFlush(at: now, &actions) }
        if playing { armHedge(at: now, manifest, &actions) }
    }

    /// The players' chunks, on the normal slots and the urgent extra ones.
    private mutating func assignUrgent(at now: ElapsedInstant, _ manifest: ChunkManifest, _ actions: inout [Action]) {
        let delivered = Dictionary(progress.sources.map { ($0.peerID, $0.chunks) }) { first, _ in first }
        let fastestFirst = sourceOrder.enumerated().sorted { left, right in
            let (a, b) = (delivered[left.element] ?? 0, delivered[right.element] ?? 0)
            return a != b ? a > b : left.offset < right.offset
        }.map(\.element)
        let blocked = blockedChunks(manifest)
        for peer in fastestFirst {
            guard var state = sources[peer] else { continue }
            state.restingUntil.removeAll { $0 <= now }
            var free =
                policy.requestsPerSource + policy.urgentExtraSlots - state.activeRequests - state.restingUntil.count
            while free > 0, !fetchesBlockedChunk(peer, blocked),
                let run = urgentRun(for: peer, at: now, manifest, blocked: blocked)
            {
                start(run, from: &state, manifest, &actions)
                free -= 1
            }
            sources[peer] = state
        }
    }

    /// The chunks players are blocked on: under each player's read, while not held.
    private func blockedChunks(_ manifest: ChunkManifest) -> Set<Int> {
        Set(
            interests.values.compactMap { interest in
                chunks(of: interest, manifest).first.flatMap { picker?.have.contains($0) == false ? $0 : nil }
            })
    }

    /// Whether one of `peer`'s requests carries a chunk a player is blocked on.
    private func fetchesBlockedChunk(_ peer: String, _ blocked: Set<Int>) -> Bool {
        !blocked.isEmpty
            && requests.values.contains { request in
                request.source == peer && !request.orphaned && request.chunks.contains(where: blocked.contains)
            }
    }

    /// For `peer`: a late chunk another source is fetching (a hedge), else the free chunk with the earliest
    /// deadline and the one after it.
    private mutating func urgentRun(
        for peer: String, at now: ElapsedInstant, _ manifest: ChunkManifest, blocked: Set<Int>
    ) -> Range<Int>? {
        // Through `self.picker` only: a local copy would make each claim below copy the picker's tables.
        guard picker != nil else { return nil }
        let streams = interests.sorted { $0.key < $1.key }.map(\.value)
        for interest in streams {
            for chunk in chunks(of: interest, manifest)
            where (picker?.fetcherCount(of: chunk) ?? 0) > 0 && deadline(of: chunk, interest, manifest) <= now {
                if picker?.duplicate(chunk, for: peer) == true { return chunk..<(chunk + 1) }
            }
        }
        var best: (chunk: Int, end: Int, deadline: ElapsedInstant)?
        for interest in streams {
            let span = chunks(of: interest, manifest)
            guard let chunk = span.first(where: { picker?.isFree($0, for: peer) == true }) else { continue }
            let due = deadline(of: chunk, interest, manifest)
            if best.map({ due < $0.deadline }) ?? true { best = (chunk, span.upperBound, due) }
        }
        guard let best else { return nil }
        let length = blocked.contains(best.chunk) ? 1 : policy.urgentRunLength
        return picker?.claimRun(from: best.chunk, for: peer, maxLength: length, before: best.end)
    }

    /// A run for a normal slot: while a player is interested, the first chunk and the last two first.
    private mutating func backgroundRun(for peer: String, maxLength: Int, playing: Bool) -> Range<Int>? {
        guard let count = picker?.chunkCount else { return nil }
        if playing {
            for first in [0, count - 2, count - 1] {
                if let run = picker?.claimRun(from: first, for: peer, maxLength: maxLength, before: count) {
                    return run
                }
            }
        }
        return picker?.nextRun(for: peer, maxLength: maxLength)
    }

    private mutating func start(
        _ run: Range<Int>, from state: inout SourceState, _ manifest: ChunkManifest, _ actions: inout [Action]
    ) {
        let bytes =
            manifest.byteRange(ofChunk: run.lowerBound)
            .lowerBound..<manifest.byteRange(ofChunk: run.upperBound - 1)
            .upperBound
        let request = Request(id: nextRequestID, source: state.endpoint, chunks: run, bytes: bytes)
        nextRequestID += 1
        requests[request.id] = RequestState(source: state.endpoint.peerID, chunks: run)
        state.activeRequests += 1
        if yieldingLinks, interests.isEmpty { yieldSpell?.requestsStarted += 1 }
        actions.append(.start(request))
    }

    /// Schedules a ``Timer/hedge`` at the next deadline of a player's chunk that one source alone is fetching,
    /// when another source could fetch it too.
    private mutating func armHedge(at now: ElapsedInstant, _ manifest: ChunkManifest, _ actions: inout [Action]) {
        guard sources.count > 1, let picker else { return }
        var next: ElapsedInstant?
        for interest in interests.values {
            for chunk in chunks(of: interest, manifest) where picker.fetcherCount(of: chunk) == 1 {
                let due = deadline(of: chunk, interest, manifest)
                guard due > now else { continue }
                if next.map({ due < $0 }) ?? true { next = due }
                // Later chunks of this stream are due later still.
                break
            }
        }
        guard let next, hedgeAt.map({ next < $0 }) ?? true else { return }
        hedgeAt = next
        actions.append(.schedule(.hedge, at: next))
    }

    /// While the manifest is on its way, asks a complete holder for the chunk under the first player's read, once
    /// per fetch, where ``expected`` places it.
    private mutating func fetchAhead(_ actions: inout [Action]) {
        guard manifest == nil, obtainingManifest, !triedAhead, let expected, expected.fileSize > 0,
            expected.chunkSize > 0, let interest = interests.min(by: { $0.key < $1.key })?.value,
            interest.bytes.lowerBound < expected.fileSize,
            let endpoint = holders.first(where: { $0.complete && $0.endpoint != nil })?.endpoint,
            let chunk = Int(exactly: interest.bytes.lowerBound / Int64(expected.chunkSize))
        else { return }
        triedAhead = true
        let start = Int64(chunk) * Int64(expected.chunkSize)
        let request = Request(
            id: nextRequestID, source: endpoint, chunks: chunk..<(chunk + 1),
            bytes: start..<min(start + Int64(expected.chunkSize), expected.fileSize))
        nextRequestID += 1
        requests[request.id] = RequestState(source: endpoint.peerID, chunks: request.chunks)
        aheadRequest = request
        actions.append(.start(request))
    }

    /// Counts the request sent ahead of the manifest as one of its source's, its chunk in flight, when the manifest
    /// places the chunk where it was asked for and it is not held; otherwise the request counts for nothing.
    private mutating func adoptAheadRequest(_ manifest: ChunkManifest, have: ChunkBitmap) {
        guard let ahead = aheadRequest else { return }
        aheadRequest = nil
        let chunk = ahead.chunks.lowerBound
        let source = ahead.source.peerID
        guard requests[ahead.id] != nil, chunk < manifest.chunkCount,
            manifest.byteRange(ofChunk: chunk) == ahead.bytes,
            !have.contains(chunk), sources[source] != nil,
            picker?.claimRun(from: chunk, for: source, maxLength: 1, before: chunk + 1) != nil
        else {
            requests[ahead.id]?.orphaned = true
            return
        }
        sources[source]?.activeRequests += 1
    }

    /// The chunks a player's interest covers.
    private func chunks(of interest: Interest, _ manifest: ChunkManifest) -> Range<Int> {
        let size = Int64(manifest.chunkSize)
        let first = Int(min(interest.bytes.lowerBound / size, Int64(manifest.chunkCount)))
        let end = Int(min((interest.bytes.upperBound + size - 1) / size, Int64(manifest.chunkCount)))
        return first..<max(first, end)
    }

    private func deadline(of chunk: Int, _ interest: Interest, _ manifest: ChunkManifest) -> ElapsedInstant {
        let ahead = max(0, manifest.byteRange(ofChunk: chunk).lowerBound - interest.bytes.lowerBound)
        let playTime = Duration.milliseconds(Int64(Double(ahead) * 1000 / Double(interest.bytesPerSecond)))
        return interest.since + policy.playbackLead + playTime
    }

    /// Flushes once a flush interval while chunks arrive or wait to be recorded; an idle fetch does not wake up.
    private mutating func armFlush(at now: ElapsedInstant, _ actions: inout [Action]) {
        guard !flushArmed, !flushing, !finishing else { return }
        guard !requests.isEmpty || progress.chunksDone != flushedChunks, picker != nil else { return }
        flushArmed = true
        actions.append(.schedule(.flush, at: now + policy.flushInterval))
    }

    private mutating func drop(
        _ endpoint: PeerEndpoint, reason: String, at now: ElapsedInstant,
        _ actions: inout [Action]
    ) {
        let peer = endpoint.peerID
        picker?.remove(peer)
        forget(peer)
        droppedAt[peer] = now
        updateSource(peer) { $0.active = false }
        actions.append(.drop(endpoint, reason: reason))
        actions.append(.schedule(.penaltyOver(source: peer), at: now + policy.dropPenalty))
    }

    /// Stops using a source: its open requests count for nothing more.
    private mutating func forget(_ peer: String) {
        sources[peer] = nil
        sourceOrder.removeAll { $0 == peer }
        for (id, request) in requests where request.source == peer { requests[id]?.orphaned = true }
    }

    private mutating func sampleRate(at now: ElapsedInstant) {
        rateSamples.append((now, progress.bytesDone))
        while rateHead < rateSamples.count, rateSamples[rateHead].at.duration(to: now) > policy.rateWindow {
            rateHead += 1
        }
        // The samples out of the window are dropped in batches, not one shift per chunk.
        if rateHead >= 256, rateHead * 2 >= rateSamples.count {
            rateSamples.removeFirst(rateHead)
            rateHead = 0
        }
        let first = rateSamples[rateHead]
        let span = first.at.duration(to: now)
        if span > .milliseconds(200) {
            progress.bytesPerSecond = Int64(Double(progress.bytesDone - first.bytesDone) / (span / .seconds(1)))
        }
    }

    private mutating func updateSource(
        _ peer: String, name: String? = nil,
        _ change: (inout FetchProgress.Source) -> Void
    ) {
        if let index = progress.sources.firstIndex(where: { $0.peerID == peer }) {
            change(&progress.sources[index])
        } else {
            var source = FetchProgress.Source(
                peerID: peer, name: name ?? peer, chunks: 0, bytes: 0, badChunks: 0,
                failures: 0, active: false)
            change(&source)
            progress.sources.append(source)
        }
    }

    private mutating func deactivateSources() {
        for index in progress.sources.indices { progress.sources[index].active = false }
    }
}
