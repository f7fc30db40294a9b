import ElapsedTime
import Logging
import MediaIndex
import PeerProtocol
import PeerWire
import ServiceLifecycle
import WireVocabulary

/// Where the neighbours' digests come from: their peer API (``PeerClient``).
public protocol DemandSource: Sendable {
    /// `peer`'s digest; `PeerClientError.notFound` from a box without the route.
    func demand(_ peer: PeerEndpoint) async throws -> DemandDigest
}

extension PeerClient: DemandSource {}

/// Why a neighbour's digest was refused as a whole (the previous one is kept).
enum DemandDigestProblem: Error, Equatable, CustomStringConvertible {
    case tooManyEntries(Int)
    case negativeGeneration
    case badValue(position: Int)
    case badInstant(position: Int)
    case duplicate(position: Int)

    var description: String {
        switch self {
        case .tooManyEntries(let count):
            "the digest lists \(count) titles, more than \(PeerLimits.maxDemandDigestEntries)"
        case .negativeGeneration: "the digest has a negative generation"
        case .badValue(let position): "entry \(position) of the digest has a negative or non-finite value"
        case .badInstant(let position): "entry \(position) of the digest has an instant that is not a unix time"
        case .duplicate(let position): "entry \(position) of the digest lists a title twice"
        }
    }
}

/// A neighbour's digest as it may be stored.
struct CheckedDemandDigest: Sendable, Equatable {
    var generation: Int64
    var entries: [DemandDigestEntry]
}

/// The checks a neighbour's digest passes before it is stored: bounded, every value finite and not negative (and
/// capped at ``PeerLimits/maxDemandValue``), every instant a plausible unix time, no title twice. Pure.
enum DemandDigestCheck {
    static func check(_ digest: DemandDigest) throws(DemandDigestProblem) -> CheckedDemandDigest {
        guard digest.entries.count <= PeerLimits.maxDemandDigestEntries else {
            throw .tooManyEntries(digest.entries.count)
        }
        guard digest.generation >= 0 else { throw .negativeGeneration }
        var seen = Set<ContentID>()
        var entries: [DemandDigestEntry] = []
        for (position, entry) in digest.entries.enumerated() {
            guard entry.value.isFinite, entry.value >= 0 else { throw .badValue(position: position) }
            // From 1970 to the year 10000: anything else is not a time a box could have counted at.
            guard entry.at.isFinite, entry.at >= 0, entry.at < 253_402_300_800 else {
                throw .badInstant(position: position)
            }
            guard seen.insert(entry.id).inserted else { throw .duplicate(position: position) }
            entries.append(
                DemandDigestEntry(id: entry.id, value: min(entry.value, PeerLimits.maxDemandValue), at: entry.at))
        }
        return CheckedDemandDigest(generation: digest.generation, entries: entries)
    }
}

/// Pulls a neighbour's digest when its demand generation (in its `/v1/info`, read by the health checks the peer
/// table makes anyway) differs from the one stored. No timer of its own: a pull that failed is not tried again
/// before ``PeerLimits/demandRetryDelay``, and the next health check after it asks again. A neighbour without a
/// demand generation (an older box) is never asked, and one answering 404 has no figures.
///
/// Pulls are child tasks of ``run()``, one per neighbour at a time.
public actor DemandSync: Service {
    private struct Announcement: Sendable {
        var endpoint: PeerEndpoint
        var generation: Int64
    }

    private let ledger: DemandLedger
    private let catalog: Catalog
    private let source: any DemandSource
    private let clock: ElapsedClock
    private let logger: Logger
    private let events: AsyncStream<Announcement>
    private let post: AsyncStream<Announcement>.Continuation
    /// The generation stored per neighbour, once read.
    private var stored: [String: Int64?] = [:]
    private var pulling: Set<String> = []
    private var retryAt: [String: ElapsedInstant] = [:]
    private var observers: [AsyncStream<(String, PullOutcome)>.Continuation] = []

    /// What became of an announcement (for tests, which wait on it).
    enum PullOutcome: Sendable, Equatable {
        case stored, unchanged, noRoute, failed
        /// Not asked: a pull of the neighbour runs, or its retry delay has not ended.
        case skipped
    }

    /// Tells of each announcement's outcome, with the neighbour's id.
    func outcomes() -> AsyncStream<(String, PullOutcome)> {
        let (stream, continuation) = AsyncStream.makeStream(of: (String, PullOutcome).self)
        observers.append(continuation)
        return stream
    }

    private func tell(_ peerID: String, _ outcome: PullOutcome) {
        for observer in observers { observer.yield((peerID, outcome)) }
    }

    public init(
        ledger: DemandLedger, catalog: Catalog, source: any DemandSource = PeerClient(),
        clock: any Clock<Duration> = ContinuousClock(), logger: Logger
    ) {
        self.ledger = ledger
        self.catalog = catalog
        self.source = source
        self.clock = ElapsedClock(clock)
        self.logger = logger
        (events, post) = AsyncStream.makeStream()
    }

    /// A neighbour's `/v1/info` said its demand generation is `generation` (nil: it has none).
    public nonisolated func announced(_ endpoint: PeerEndpoint, demandGeneration generation: Int64?) {
        guard let generation else { return }
        post.yield(Announcement(endpoint: endpoint, generation: generation))
    }

    /// A neighbour left: its stored generation is read again when it comes back (its rows may be forgotten).
    public func neighbourLeft(_ peerID: String) {
        stored[peerID] = nil
    }

    public func run() async {
        await withDiscardingTaskGroup { group in
            for await announcement in events.cancelOnGracefulShutdown() {
                let peerID = announcement.endpoint.peerID
                if pulling.contains(peerID) || retryAt[peerID].map({ clock.now < $0 }) == true {
                    tell(peerID, .skipped)
                    continue
                }
                pulling.insert(peerID)
                group.addTask { await self.pull(announcement) }
            }
            group.cancelAll()
        }
        post.finish()
    }

    private func pull(_ announcement: Announcement) async {
        let outcome = await pullOnce(announcement)
        pulling.remove(announcement.endpoint.peerID)
        tell(announcement.endpoint.peerID, outcome)
    }

    private func pullOnce(_ announcement: Announcement) async -> PullOutcome {
        let peer = announcement.endpoint
        let metadata: Logger.Metadata = ["peer_id": "\(peer.peerID)", "peer": "\(peer)"]
        do {
            if stored[peer.peerID] == nil {
                stored[peer.peerID] = .some(try await catalog.remoteDemandGeneration(peerID: peer.peerID))
            }
            if stored[peer.peerID] == .some(announcement.generation) { return .unchanged }
            let digest: DemandDigest
            do {
                digest = try await source.demand(peer)
            } catch PeerClientError.notFound {
                // A box without the route has no figures; its generation says nothing more until it changes.
                stored[peer.peerID] = .some(announcement.generation)
                return .noRoute
            }
            let checked = try DemandDigestCheck.check(digest)
            try await ledger.store(checked, from: peer.peerID, name: peer.name)
            stored[peer.peerID] = .some(checked.generation)
            retryAt[peer.peerID] = nil
            logger.debug(
                "pulled a neighbour's demand digest",
                metadata: metadata.merging(["titles": "\(checked.entries.count)"]) { $1 })
            return .stored
        } catch  where Task.isCancelled {
            return .failed
        } catch {
            retryAt[peer.peerID] = clock.now + PeerLimits.demandRetryDelay
            logger.info(
                "cannot take a neighbour's demand digest", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            return .failed
        }
    }
}
