import ElapsedTime
import Logging
import MediaIndex
import ReplicationPolicy
import ServiceLifecycle
import WireVocabulary

/// Replicates what the home wants and lets go of what it does not, by itself (`replication = "auto"`): the thin
/// driver around the pure ``ReplicationPolicy``. A pass reads the facts (the home's demand, where each title is, the
/// cache, the neighbours), asks the policy, and acts: evictions first, then at most one replication at a time, in
/// the background (``Fetcher/replicate(_:title:)``: it yields to every play and every fetch a user asked for).
///
/// Passes run shortly after something changed (``nudge()``: a play, a neighbour's demand, a neighbour arriving or
/// leaving, a fetch ending, the settings) and at a slow ``Configuration/interval`` otherwise, so an idle box wakes
/// for it once in many minutes.
public actor AutoReplicator: Service {
    public struct Configuration: Sendable {
        /// The longest between two passes.
        public var interval: Duration
        /// How long a pass waits after a nudge, so that a burst of changes makes one pass.
        public var settle: Duration
        public var policy: PolicySettings

        public init(
            interval: Duration = .seconds(15 * 60), settle: Duration = .seconds(2), policy: PolicySettings = .standard
        ) {
            self.interval = interval
            self.settle = settle
            self.policy = policy
        }
    }

    /// The last pass, for `mediapeerctl cache`.
    public struct Pass: Sendable {
        public var decision: PolicyDecision
        /// The demand each title had, by content id.
        public var demand: [ContentID: TitleDemand]
    }

    private let thisBox: String
    private let catalog: Catalog
    private let fetcher: Fetcher
    private let demand: DemandLedger
    private let neighbourhood: any Neighbourhood
    private let settings: ReplicationSettings
    private let configuration: Configuration
    private let clock: any Clock<Duration>
    private let logger: Logger
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private var passes = 0
    private var passObservers: [AsyncStream<Int>.Continuation] = []

    public init(
        thisBox: String, catalog: Catalog, fetcher: Fetcher, demand: DemandLedger, neighbourhood: any Neighbourhood,
        settings: ReplicationSettings, configuration: Configuration = Configuration(),
        clock: any Clock<Duration> = ContinuousClock(), logger: Logger
    ) {
        self.thisBox = thisBox
        self.catalog = catalog
        self.fetcher = fetcher
        self.demand = demand
        self.neighbourhood = neighbourhood
        self.settings = settings
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        // Nudges while a pass waits or runs make one more pass, not one each.
        (wakeups, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Something the policy reads changed: a pass runs soon.
    public nonisolated func nudge() {
        wake.yield()
    }

    public func run() async {
        let ticker = Task { [wake, clock, configuration] in
            while !Task.isCancelled {
                do {
                    try await clock.sleep(for: configuration.interval)
                } catch {
                    return
                }
                wake.yield()
            }
        }
        let settingsChanges = Task { [settings, wake] in
            for await _ in settings.changes() { wake.yield() }
        }
        defer {
            ticker.cancel()
            settingsChanges.cancel()
        }
        wake.yield()  // a first pass at start: the cache may be over a lowered quota
        await cancelWhenGracefulShutdown {
            for await _ in self.wakeups {
                do {
                    try await self.clock.sleep(for: self.configuration.settle)
                } catch {
                    return
                }
                await self.pass()
            }
        }
    }

    /// One pass: the facts, the policy's decision, and the actions (unless replication is off).
    func pass() async {
        defer {
            passes += 1
            for observer in passObservers { observer.yield(passes) }
        }
        guard settings.current.mode == .auto else { return }
        let planned: Pass
        do {
            planned = try await plan()
        } catch {
            logger.warning("replication: cannot read what the home wants", metadata: ["error": "\(error)"])
            return
        }
        logger.debug(
            "replication pass",
            metadata: [
                "pass": "\(passes + 1)",
                "actions": "\(planned.decision.actions.map(\.description).joined(separator: "; "))",
            ])
        await act(on: planned.decision)
    }

    /// What the policy decides now, without acting on it; `contents` is the cache as the caller just read it, if it
    /// did (`mediapeerctl cache` lists it too), else it is read here.
    public func plan(contents read: CacheContents? = nil) async throws -> Pass {
        let values = settings.current
        let demand = try await demand.homeDemand()
        let contents: CacheContents
        if let given = read {
            contents = given
        } else {
            contents = try await fetcher.cacheContents()
        }
        let ids = Self.titlesToWeigh(demand, cached: contents.entries.map(\.replica.id), settings: configuration.policy)
        let placements = try await catalog.placements(of: ids.sorted())
        let online = Set(await neighbourhood.neighbours().map(\.peerID))
        let inUse = Set(contents.entries.filter(\.inUse).map(\.replica.id)).union(await fetcher.inUse())
        let facts = ReplicationFacts(
            ReplicationFacts.Inputs(
                thisBox: thisBox, demand: demand, placements: placements, online: online,
                availability: try await self.demand.availabilities(), inUse: inUse, cacheUsed: contents.usedBytes,
                quota: contents.quotaBytes, highWatermark: values.highWatermark, lowWatermark: values.lowWatermark,
                dailyBudget: values.dailyBudget, writtenToday: contents.writtenToday))
        let decision = ReplicationPolicy(settings: configuration.policy).decide(
            titles: facts.titles, cache: facts.cache, home: facts.home)
        return Pass(decision: decision, demand: demand)
    }

    /// The most titles from the home's demand a pass weighs, besides those cached or watched here: a building's
    /// boxes may tell of tens of thousands, and the long tail gets no copy anyway.
    static let mostDemandedTitles = 1024

    /// The titles a pass gives the policy: every one in the cache or watched here, and the home's most wanted ones
    /// (at least the policy's minimum demand, at most ``mostDemandedTitles``).
    static func titlesToWeigh(
        _ demand: [ContentID: TitleDemand], cached: [ContentID], settings: PolicySettings
    ) -> [ContentID] {
        var ids = Set(cached).union(demand.filter { $0.value.local > 0 }.keys)
        let wanted = demand.filter { $0.value.home >= settings.minimumDemand }
            .sorted { ($0.value.home, $1.key) > ($1.value.home, $0.key) }
            .prefix(mostDemandedTitles)
        ids.formUnion(wanted.map(\.key))
        return ids.sorted()
    }

    private func act(on decision: PolicyDecision) async {
        var replicating = await fetcher.replicationsRunning()
        for action in decision.actions {
            guard let id = ContentID(hex: action.id) else { continue }
            switch action {
            case .evict(_, let reason):
                do {
                    _ = try await fetcher.evict(id, reason: reason.description)
                } catch {
                    logger.info(
                        "replication: not evicted",
                        metadata: ["object": "\(id.hex.prefix(16))", "reason": "\(error)"])
                }
            case .replicate(_, let reason):
                // One at a time: the next starts at the pass after it ends.
                guard replicating == 0 else { continue }
                let title = (try? await catalog.title(of: id)) ?? id.hex
                do {
                    _ = try await fetcher.replicate(id, title: title)
                    replicating += 1
                    logger.info(
                        "replication: copying a title the home wants",
                        metadata: ["object": "\(id.hex.prefix(16))", "title": "\(title)", "reason": "\(reason)"])
                } catch {
                    logger.info(
                        "replication: cannot copy", metadata: ["object": "\(id.hex.prefix(16))", "error": "\(error)"])
                }
            }
        }
    }

    /// The number of passes so far, each time one ends (for tests).
    func passesMade() -> AsyncStream<Int> {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        passObservers.append(continuation)
        return stream
    }
}
