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
public actor Locator: HolderDirectory {
    private let ownID: String
    private let ownName: String
    private let catalog: Catalog
    private let neighbourhood: any Neighbourhood
    private let client: PeerClient
    private let logger: Logger
    private var recentQueries: [String: ContinuousClock.Instant] = [:]
    /// How long a query id is remembered.
    static let queryMemory: Duration = .seconds(60)

    public init(
        ownID: String, ownName: String, catalog: Catalog, neighbourhood: any Neighbourhood,
        client: PeerClient = PeerClient(), logger: Logger
    ) {
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

    /// Remembers a query id; false if it was seen within ``queryMemory`` (a loop, or the same query by another path).
    @discardableResult
    private func remember(_ queryID: String) -> Bool {
        let now = ContinuousClock.now
        if recentQueries.count > 512 { recentQueries = recentQueries.filter { now - $0.value < Self.queryMemory } }
        if let seen = recentQueries[queryID], now - seen < Self.queryMemory { return false }
        recentQueries[queryID] = now
        return true
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
                    return answer.holders.map { holder in
                        var holder = holder
                        if holder.addresses.isEmpty, holder.peerID == neighbour.peerID {
                            holder.addresses = neighbour.addresses
                            holder.port = neighbour.port
                        }
                        if holder.referredBy == nil { holder.referredBy = neighbour.peerID }
                        return holder
                    }
                }
            }
            var holders: [Holder] = []
            for await answer in group { holders += answer }
            return holders.filter { !$0.addresses.isEmpty && (1...65535).contains($0.port) }
        }
    }

    private static func unique(_ holders: [Holder]) -> [Holder] {
        var seen: Set<String> = []
        // Complete holders first, so a duplicate listed as partial by one box and complete by another counts as complete.
        return holders.sorted { $0.complete && !$1.complete }.filter { seen.insert($0.peerID).inserted }
    }
}
