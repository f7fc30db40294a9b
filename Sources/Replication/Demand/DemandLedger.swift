import ElapsedTime
import Foundation
import Logging
import MediaIndex
import PeerWire
import ReplicationPolicy
import ServiceLifecycle
import Synchronization
import WireVocabulary

/// A title's demand as this box sees it now: its own decayed counts, and the home's (its own plays and fetches plus
/// every neighbour's latest digest, decayed to now).
public struct TitleDemand: Sendable, Equatable {
    public var plays: Double
    public var fetches: Double
    /// Requests for the title's bytes this box served to other boxes (not in ``local`` nor ``home``: the asking
    /// boxes count those plays themselves).
    public var served: Double
    /// The demand that started here: plays and fetches.
    public var local: Double { plays + fetches }
    /// ``local`` plus the neighbours' demand.
    public var home: Double

    public init(plays: Double, fetches: Double, served: Double, home: Double) {
        self.plays = plays
        self.fetches = fetches
        self.served = served
        self.home = home
    }
}

/// Keeps this box's demand figures and the neighbours' presence: what the replication policy reads.
///
/// Events (``record(_:of:)``, ``recordServed(_:to:)``) are added up in memory and written in one transaction at
/// most once per ``Configuration/flushInterval``, and at shutdown; an idle box neither writes nor wakes (the flush
/// timer runs only while something is waiting to be written). Counts halve every ``Configuration/halfLife``, and
/// are stored as a value and the unix time it was the count at, so nothing needs rewriting as they decay. Reads
/// (``homeDemand()``, ``digest()``) see what is not written yet too.
///
/// A neighbour's presence is written only when it arrives or leaves: ``availability(of:)`` is the decayed share of
/// the time this box watched it that it was online.
///
/// Time comes from the injected clock; the unix times stored are the clock's elapsed time from the unix time it
/// was created at, so a test clock moves both.
public actor DemandLedger: Service {
    public struct Configuration: Sendable, Equatable {
        /// `demand_half_life` in the configuration.
        public var halfLife: Duration
        /// The longest events wait in memory before they are written.
        public var flushInterval: Duration
        /// Requests from one box for one title within this window count once.
        public var servedWindow: Duration
        /// Titles in memory past which events are written at once.
        public var maxPendingTitles: Int
        /// Counts that decayed below this are deleted.
        public var forgetBelow: Double

        public init(
            halfLife: Duration = .seconds(7 * 86_400), flushInterval: Duration = .seconds(180),
            servedWindow: Duration = .seconds(3600), maxPendingTitles: Int = 4096, forgetBelow: Double = 0.001
        ) {
            self.halfLife = halfLife
            self.flushInterval = flushInterval
            self.servedWindow = servedWindow
            self.maxPendingTitles = maxPendingTitles
            self.forgetBelow = forgetBelow
        }
    }

    private let catalog: Catalog
    private let configuration: Configuration
    private let clock: ElapsedClock
    private let unixOrigin: Double
    private let logger: Logger
    private let wakeups: AsyncStream<ElapsedInstant>
    private let wake: AsyncStream<ElapsedInstant>.Continuation
    private var pending: [ContentID: TitleCounts] = [:]
    private var flushDue: ElapsedInstant?
    private var served: ServedRequests
    private let generation = Mutex<Int64?>(nil)
    private var flushes = 0
    private var flushObservers: [AsyncStream<Int>.Continuation] = []
    private var changeObservers: [@Sendable () -> Void] = []
    private var cachedDigest: DemandDigest?
    /// The neighbours online now, as last recorded (their presence is written on changes only).
    private var online: Set<String> = []

    /// - parameter unixTime: the unix time (seconds) at the clock's present instant.
    public init(
        catalog: Catalog, configuration: Configuration = Configuration(),
        clock: any Clock<Duration> = ContinuousClock(), unixTime: Double = Date().timeIntervalSince1970,
        logger: Logger
    ) {
        self.catalog = catalog
        self.configuration = configuration
        self.clock = ElapsedClock(clock)
        unixOrigin = unixTime - self.clock.now.sinceOrigin.secondsValue
        self.logger = logger
        served = ServedRequests(window: configuration.servedWindow)
        (wakeups, wake) = AsyncStream.makeStream()
    }

    /// The unix time now, by the injected clock.
    var now: Double { unixOrigin + clock.now.sinceOrigin.secondsValue }

    // MARK: Events

    /// Counts a play or a fetch of `id` on this box.
    public func record(_ event: DemandEvent, of id: ContentID) {
        add(event, of: id)
        changed()
    }

    /// Calls `observer` whenever what the replication policy reads here changes: a play or a fetch counted, a
    /// neighbour's digest stored, a neighbour arriving or leaving (the auto-replicator plans again).
    public func observeChanges(_ observer: @escaping @Sendable () -> Void) {
        changeObservers.append(observer)
    }

    private func changed() {
        for observer in changeObservers { observer() }
    }

    /// Counts a request for `id`'s bytes from the box at `asker` (its address), once per window.
    public func recordServed(_ id: ContentID, to asker: String) {
        guard served.counts(asker: asker, id: id, now: clock.now) else { return }
        add(.served, of: id)
    }

    private func add(_ event: DemandEvent, of id: ContentID) {
        pending[id, default: TitleCounts()].add(event, at: now, halfLife: configuration.halfLife)
        if pending.count >= configuration.maxPendingTitles {
            arm(at: clock.now)
        } else if flushDue == nil {
            arm(at: clock.now + configuration.flushInterval)
        }
    }

    private func arm(at instant: ElapsedInstant) {
        if let due = flushDue, due <= instant { return }
        flushDue = instant
        wake.yield(instant)
    }

    /// Writes the waiting events in one transaction, with the counts they add to, and deletes the counts that
    /// decayed to nothing. Writes nothing when nothing waits.
    func flush() async {
        flushDue = nil
        guard !pending.isEmpty else { return }
        let batch = pending
        pending = [:]
        let at = now
        let halfLife = configuration.halfLife
        let floor = configuration.forgetBelow
        do {
            let faded = try await catalog.localDemand().filter { record in
                batch[record.id] == nil
                    && TitleCounts(record).total(at: at, halfLife: halfLife) < floor
            }.map(\.id)
            try await catalog.updateLocalDemand(Array(batch.keys) + faded) { id, stored in
                guard let counts = batch[id] else { return nil }
                return counts.merged(into: stored, id: id, at: at, halfLife: halfLife)
            }
            if batch.values.contains(where: { $0.plays.value > 0 || $0.fetches.value > 0 }) {
                generation.withLock { $0 = Self.generation(at: at, after: $0) }
            }
            flushes += 1
            for observer in flushObservers { observer.yield(flushes) }
            logger.debug("wrote demand figures", metadata: ["titles": "\(batch.count)", "faded": "\(faded.count)"])
        } catch {
            // Kept for the next flush: the counts lose nothing by waiting.
            for (id, counts) in batch { pending[id, default: TitleCounts()].add(counts, halfLife: halfLife) }
            logger.warning("cannot write demand figures", metadata: ["error": "\(error)"])
            if !Task.isCancelled { arm(at: clock.now + configuration.flushInterval) }
            return
        }
        if !pending.isEmpty { arm(at: clock.now + configuration.flushInterval) }
    }

    /// How many flushes wrote something (for tests).
    var flushCount: Int { flushes }

    /// Whether a flush is due (only while events wait: an idle ledger has no timer).
    var isFlushArmed: Bool { flushDue != nil }

    /// Tells of each flush that wrote, with the count so far (for tests, which wait on it instead of sleeping).
    func flushesWritten() -> AsyncStream<Int> {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        flushObservers.append(continuation)
        return stream
    }

    /// Milliseconds of unix time, moving forward whatever the wall clock did.
    private static func generation(at unixTime: Double, after previous: Int64?) -> Int64 {
        let milliseconds = Int64(clamping: Int64((unixTime * 1000).rounded(.down)))
        return max(milliseconds, (previous ?? 0) + 1)
    }

    // MARK: The service

    /// Takes up the neighbours' presence where it stopped, writes events as their flushes fall due, and at a
    /// graceful shutdown writes what waits and records that every neighbour is no longer watched.
    public func run() async {
        await start()
        await withDiscardingTaskGroup { group in
            for await due in wakeups.cancelOnGracefulShutdown() {
                group.addTask { [clock] in
                    do {
                        try await clock.sleep(until: due, tolerance: .seconds(1))
                    } catch {
                        return
                    }
                    await self.flushIfDue(due)
                }
            }
            group.cancelAll()
        }
        await stop()
    }

    private func flushIfDue(_ due: ElapsedInstant) async {
        guard let flushDue, flushDue <= due else { return }
        await flush()
    }

    /// Reads the demand generation back, and starts watching the neighbours afresh (the time this box was not
    /// running is not counted against them).
    func start() async {
        do {
            let last = try await catalog.lastDemandWrite()
            generation.withLock { current in
                if current == nil, let last { current = Self.generation(at: last, after: nil) }
            }
            let at = now
            try await catalog.updatePresences { Presence.resumed($0, at: at) }
        } catch {
            logger.warning("cannot read the demand figures", metadata: ["error": "\(error)"])
        }
    }

    /// Writes what waits, and closes the presence of the neighbours still online.
    func stop() async {
        await flush()
        online = []
        let at = now
        let halfLife = configuration.halfLife
        do {
            try await catalog.updatePresences { record in
                record.present ? Presence.departed(record, at: at, halfLife: halfLife) : record
            }
        } catch {
            logger.warning("cannot record the neighbours' presence", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Reading

    /// The generation of this box's digest, for `/v1/info` (read from memory, never waiting on the index); nil
    /// before anything was counted.
    public nonisolated var demandGeneration: Int64? { generation.withLock { $0 } }

    /// This box's counts, written and waiting, as of now.
    private func localCounts() async throws(IndexError) -> [ContentID: TitleCounts] {
        var counts: [ContentID: TitleCounts] = [:]
        for record in try await catalog.localDemand() { counts[record.id] = TitleCounts(record) }
        for (id, waiting) in pending {
            counts[id, default: TitleCounts()].add(waiting, halfLife: configuration.halfLife)
        }
        return counts
    }

    /// Every title with demand here or at a neighbour, as of now.
    public func homeDemand() async throws(IndexError) -> [ContentID: TitleDemand] {
        let at = now
        let halfLife = configuration.halfLife
        var demand: [ContentID: TitleDemand] = [:]
        for (id, counts) in try await localCounts() {
            let plays = counts.plays.value(at: at, halfLife: halfLife)
            let fetches = counts.fetches.value(at: at, halfLife: halfLife)
            demand[id] = TitleDemand(
                plays: plays, fetches: fetches, served: counts.served.value(at: at, halfLife: halfLife),
                home: plays + fetches)
        }
        for record in try await catalog.remoteDemand() {
            let value = DecayedCount(value: record.value, updatedAt: record.at).value(at: at, halfLife: halfLife)
            demand[record.id, default: TitleDemand(plays: 0, fetches: 0, served: 0, home: 0)].home += value
        }
        return demand
    }

    /// This box's digest: its titles with the most demand from here (plays and fetches, written ones), as of now.
    public func digest(limit: Int = PeerLimits.maxDemandDigestEntries) async throws(IndexError) -> DemandDigest {
        // The figures move only when written, and entries carry their instant: a neighbour asking again (or a
        // device asking in a loop) gets the same digest without another read.
        if let cachedDigest, cachedDigest.generation == demandGeneration ?? 0,
            cachedDigest.entries.count <= limit, limit == PeerLimits.maxDemandDigestEntries
        {
            return cachedDigest
        }
        let digest = try await freshDigest(limit: limit)
        if limit == PeerLimits.maxDemandDigestEntries { cachedDigest = digest }
        return digest
    }

    private func freshDigest(limit: Int) async throws(IndexError) -> DemandDigest {
        let at = now
        let halfLife = configuration.halfLife
        let entries = try await catalog.localDemand().compactMap { record -> DemandDigestEntry? in
            let counts = TitleCounts(record)
            let value =
                counts.plays.value(at: at, halfLife: halfLife) + counts.fetches.value(at: at, halfLife: halfLife)
            return value > 0 ? DemandDigestEntry(id: record.id, value: value, at: at) : nil
        }
        .sorted { $0.value != $1.value ? $0.value > $1.value : $0.id < $1.id }
        return DemandDigest(generation: demandGeneration ?? 0, entries: Array(entries.prefix(limit)))
    }

    // MARK: The neighbours

    /// Stores a neighbour's digest (checked with ``DemandDigestCheck``) in place of its previous one.
    func store(_ digest: CheckedDemandDigest, from peerID: String, name: String) async throws(IndexError) {
        try await catalog.replaceRemoteDemand(
            peerID: peerID, name: name, generation: digest.generation,
            entries: digest.entries.map {
                RemoteDemandRecord(peerID: peerID, id: $0.id, value: $0.value, at: min($0.at, now))
            })
        changed()
    }

    /// A neighbour appeared (or changed: written only when it was not online).
    public func neighbourArrived(_ peerID: String, name: String) async {
        guard online.insert(peerID).inserted else { return }
        defer { changed() }
        let at = now
        let halfLife = configuration.halfLife
        do {
            try await catalog.updatePresence(peerID: peerID, name: name) {
                Presence.arrived($0, at: at, halfLife: halfLife)
            }
        } catch {
            logger.warning(
                "cannot record a neighbour's arrival", metadata: ["peer_id": "\(peerID)", "error": "\(error)"])
        }
    }

    /// A neighbour left.
    public func neighbourLeft(_ peerID: String, name: String) async {
        guard online.remove(peerID) != nil else { return }
        defer { changed() }
        let at = now
        let halfLife = configuration.halfLife
        do {
            try await catalog.updatePresence(peerID: peerID, name: name) {
                Presence.departed($0, at: at, halfLife: halfLife)
            }
        } catch {
            logger.warning(
                "cannot record a neighbour's departure", metadata: ["peer_id": "\(peerID)", "error": "\(error)"])
        }
    }

    /// How much of the time `peerID` has been online lately, 0...1; nil for a neighbour never seen.
    public func availability(of peerID: String) async throws(IndexError) -> Double? {
        try await availabilities()[peerID]
    }

    /// Every known neighbour's availability, 0...1.
    public func availabilities() async throws(IndexError) -> [String: Double] {
        let at = now
        var shares: [String: Double] = [:]
        for record in try await catalog.presences() where record.at != nil {
            shares[record.peerID] = Presence.availability(record, at: at, halfLife: configuration.halfLife)
        }
        return shares
    }
}

extension TitleCounts {
    mutating func add(_ other: TitleCounts, halfLife: Duration) {
        plays = plays.adding(other.plays, halfLife: halfLife)
        fetches = fetches.adding(other.fetches, halfLife: halfLife)
        served = served.adding(other.served, halfLife: halfLife)
    }

    func total(at instant: Double, halfLife: Duration) -> Double {
        plays.value(at: instant, halfLife: halfLife) + fetches.value(at: instant, halfLife: halfLife)
            + served.value(at: instant, halfLife: halfLife)
    }
}

extension Duration {
    /// Seconds, fractions included.
    var secondsValue: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
