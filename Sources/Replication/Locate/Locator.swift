import ElapsedTime
import Logging
import MediaIndex
import PeerProtocol
import PeerWire
import WireVocabulary

/// Answers "who holds this object?", for this box's fetches and for the neighbours' `/v1/locate` queries.
///
/// The answer comes from the neighbours' catalogs when they list the object; otherwise the query is forwarded to
/// the neighbours, `ttl` hops at most, and their referrals are passed back (addresses, never data). Each query
/// carries an id, and a box answers each id once, so a query never loops in a home whose boxes all know each
/// other.
///
/// Holders referred by other boxes are believed only within bounds (``Holder/validated()``: IP literals and ports,
/// at most ``PeerLimits/maxHolderAddresses`` addresses each), and no answer lists more than
/// ``PeerLimits/maxLocateHolders``.
public actor Locator: HolderDirectory {
    private let ownID: String
    private let ownName: String
    private let catalog: Catalog
    private let neighbourhood: any Neighbourhood
    private let client: PeerClient
    private let logger: Logger
    private let clock: ElapsedClock
    private var recentQueries = RecentQueryIDs(
        capacity: PeerLimits.locateQueryIDs, memory: PeerLimits.locateQueryMemory)

    /// - Parameter clock: times how long query ids are remembered; tests pass a test clock.
    public init(
        ownID: String, ownName: String, catalog: Catalog, neighbourhood: any Neighbourhood,
        client: PeerClient = PeerClient(), logger: Logger, clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.clock = ElapsedClock(clock)
        self.ownID = ownID
        self.ownName = ownName
        self.catalog = catalog
        self.neighbourhood = neighbourhood
        self.client = client
        self.logger = logger
    }

    /// The other boxes that hold `id`, wholly or in part: from the neighbours' catalogs, else by asking them.
    public func holders(of id: ContentID) async -> [Holder] {
        let neighbours = await neighbourhood.neighbours()
        var holders = await knownHolders(of: id, neighbours: neighbours, referredBy: nil)
        if holders.isEmpty {
            let queryID = QueryID.make()
            remember(queryID)
            holders = await forward(id, ttl: 1, queryID: queryID, to: neighbours, askedBy: nil)
        }
        return Self.unique(holders.filter { $0.peerID != ownID })
    }

    /// The answer to a neighbour's `GET /v1/locate/ID?ttl=N&qid=Q`.
    public func answer(_ id: ContentID, ttl: Int, queryID: String, askedBy: String?) async -> LocateAnswer {
        guard remember(queryID) else { return LocateAnswer(id: id, queryID: queryID, holders: []) }
        var holders: [Holder] = []
        switch try? await catalog.localObject(id) {
        case .mediaFile?:
            holders.append(Holder(peerID: ownID, name: ownName, addresses: [], port: 0, complete: true))
        case .replica(let replica)?:
            holders.append(Holder(peerID: ownID, name: ownName, addresses: [], port: 0, complete: replica.complete))
        case nil:
            break
        }
        let neighbours = await neighbourhood.neighbours().filter { neighbour in
            !neighbour.addresses.contains { $0 == askedBy }
        }
        holders += await knownHolders(of: id, neighbours: neighbours, referredBy: ownID)
        if holders.isEmpty, ttl > 0 {
            holders = await forward(id, ttl: ttl - 1, queryID: queryID, to: neighbours, askedBy: askedBy)
        }
        return LocateAnswer(id: id, queryID: queryID, holders: Self.unique(holders))
    }

    /// Remembers a query id; false if it was seen within ``PeerLimits/locateQueryMemory`` (a loop, or the same
    /// query by another path).
    @discardableResult
    private func remember(_ queryID: String) -> Bool {
        recentQueries.insert(queryID, at: clock.now.sinceOrigin)
    }

    private func knownHolders(of id: ContentID, neighbours: [Neighbour], referredBy: String?) async -> [Holder] {
        guard let listed = try? await catalog.remoteHolders(of: id) else { return [] }
        let byID = Dictionary(neighbours.map { ($0.peerID, $0) }, uniquingKeysWith: { first, _ in first })
        return listed.compactMap { entry in
            guard let neighbour = byID[entry.peerID] else { return nil }
            return Holder(
                peerID: neighbour.peerID, name: neighbour.name, addresses: neighbour.addresses, port: neighbour.port,
                complete: entry.complete, referredBy: referredBy)
        }
    }

    /// Asks each neighbour in parallel, waiting 2 s per remaining hop at most. A neighbour answering for itself gives
    /// no address: it is reachable where it was asked.
    private func forward(_ id: ContentID, ttl: Int, queryID: String, to neighbours: [Neighbour], askedBy: String?) async
        -> [Holder]
    {
        let client = self.client
        return await withTaskGroup(of: [Holder].self) { group in
            for neighbour in neighbours {
                guard let endpoint = neighbour.endpoint else { continue }
                group.addTask {
                    guard
                        let answer = try? await client.locate(
                            endpoint, id: id, ttl: ttl, queryID: queryID, timeout: .seconds(Int64(2 * (ttl + 1))))
                    else {
                        return []
                    }
                    return Self.believable(answer.holders, from: neighbour)
                }
            }
            var holders: [Holder] = []
            for await answer in group { holders += answer }
            return holders
        }
    }

    /// The holders of `neighbour`'s answer this box may contact: the first ``PeerLimits/maxLocateHolders``, the
    /// neighbour's answer for itself taken with what the peer table knows of it (it is reachable where it was
    /// asked), every other one only if it passes ``Holder/validated()``.
    static func believable(_ holders: [Holder], from neighbour: Neighbour) -> [Holder] {
        holders.prefix(PeerLimits.maxLocateHolders).compactMap { holder in
            if holder.addresses.isEmpty, holder.peerID == neighbour.peerID {
                return Holder(
                    peerID: neighbour.peerID, name: neighbour.name, addresses: neighbour.addresses,
                    port: neighbour.port, complete: holder.complete, referredBy: neighbour.peerID)
            }
            guard var holder = holder.validated() else { return nil }
            if holder.referredBy == nil { holder.referredBy = neighbour.peerID }
            return holder
        }
    }

    private static func unique(_ holders: [Holder]) -> [Holder] {
        var seen: Set<String> = []
        // Complete holders first, so a duplicate listed as partial by one box and complete by another counts as complete.
        let unique = holders.sorted { $0.complete && !$1.complete }.filter { seen.insert($0.peerID).inserted }
        return Array(unique.prefix(PeerLimits.maxLocateHolders))
    }
}
