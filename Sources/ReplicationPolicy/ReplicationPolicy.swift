#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Which titles a box should copy into its cache and which it should let go, from what the home wants lately.
///
/// A pure function of the facts it is given: no I/O, no clock, no randomness; the same facts give the same decision
/// (ties are broken by id), so the daemon and the simulator run the very same code and a decision can be replayed.
///
/// ## Why it decides as it does
///
/// **How many copies the home wants.** Cohen and Shenker (SIGCOMM 2002) showed that, for a fixed total of storage,
/// replica counts in proportion to the square root of demand minimise the expected cost of finding a title, beating
/// both one copy each and copies in proportion to demand (which starves the long tail). So each demanded title gets a
/// home-wide target `clamp(c·√homeDemand, 1, boxes)` copies, originals included, with `c` chosen so the replicas the
/// targets call for fill the home's cache room exactly (see ``targets(titles:home:)``).
///
/// **What a copy is worth here.** In a home every box knows every holder, so a copy saves the network bytes only
/// where it is played: a play here of a title held elsewhere moves the whole title, whichever box serves it. A copy
/// here is worth the plays it will serve here, best predicted by the plays here lately (weighed ``PolicySettings/
/// localWeight`` times) and, for a title not watched here yet, by this box's share of the rest of the home's; and the
/// plays it saves from failing when every other holder is away, each weighed ``PolicySettings/failureWeight`` times (a
/// play that fails costs the user far more than a stream costs the network). So a title's value here, in plays
/// lately, is `localWeight·local + remote / boxes + failureWeight · home · Π (1 − holder's availability)`, and its
/// value per byte is that over its size: the figure replication and eviction compare, as Squid's GDSF does (small,
/// much-played titles first), and a copy whose other holders are often away outlasts one a box always on also holds.
///
/// **Taking a copy.** A copy fetched ahead of a play costs the network nothing more when the play comes (the play
/// would have moved the title anyway) and the whole title when it does not; a copy a play brings costs nothing more.
/// This box therefore takes a title that is pinned here; one being played here and watched here at all (the play's
/// fetch is kept); one it will likely play, while the home holds fewer copies than its target (the target caps how far
/// the home spreads it): with `p` the chance of a play here soon (Poisson over its expected plays here: those here
/// lately plus this box's share of the home's), when the bytes wasted if it is not played, `(1 − p)·size`, are worth
/// no more than the plays made local, `p ·` ``PolicySettings/fetchAheadPlayBytes`` (a song the home plays a lot comes
/// ahead of its first play here; a film only when its next play here is near certain); and one whose holders are all
/// rarely online, on the one box of the
/// online non-holders a deterministic hash of title and box picks (rendezvous hashing: every box computes the same
/// pick, so they do not all copy it at once). Only from a holder online now, within today's write budget, and only
/// when it fits under the high watermark, by itself or by displacing replicas worth clearly less per byte
/// (``PolicySettings/displacementMargin``: a replica is never evicted for one only marginally better, which would be
/// churn that wears out flash for nothing).
///
/// **Letting go.** Only above the high watermark, down to the low one, lowest value per byte first; and never a pinned
/// title, one being played or fetched, the last copy in the home (no other holder that is online or has been online
/// at least ``PolicySettings/goneAvailability`` of the time lately, so a box that left for good does not count), or a
/// title still wanted whose every other holder is rarely online (``PolicySettings/rarelyOnlineAvailability``): the
/// last copy the home can count on.
public struct ReplicationPolicy: Sendable {
    public var settings: PolicySettings

    public init(settings: PolicySettings = .standard) {
        self.settings = settings
    }

    /// What this box should replicate and evict now, and what each replica in its cache is worth.
    public func decide(titles: [TitleFacts], cache: CacheFacts, home: HomeFacts) -> PolicyDecision {
        let titles = Self.sanitized(titles, thisBox: home.thisBox)
        let targets = targets(sanitized: titles, home: home)
        let boxCount = Double(home.boxCount)
        let assessed = titles.map { assess($0, target: targets[$0.id] ?? 1, boxCount: boxCount, home: home) }
        var plan = CachePlan(cache: cache, evictable: assessed.filter(\.isEvictable))
        plan.evictAboveHighWatermark()
        let candidates = assessed.compactMap { title in title.replicateReason.map { (title, $0) } }
            .sorted { lhs, rhs in
                let (lhsPinned, rhsPinned) = (lhs.1 == .pinned, rhs.1 == .pinned)
                if lhsPinned != rhsPinned { return lhsPinned }
                return CachePlan.mostValuableFirst(lhs.0, rhs.0)
            }
        for (candidate, reason) in candidates {
            plan.replicate(candidate, reason: reason, margin: reason == .pinned ? nil : settings.displacementMargin)
        }

        let pressure = !plan.evicted.isEmpty || plan.used > plan.highWatermark
        let replicas = assessed.filter(\.isInCache).map { title in
            ReplicaValuation(
                id: title.facts.id, size: title.cacheBytes, value: title.value, valuePerByte: title.valuePerByte,
                keptBecause: plan.evicted.contains(title.facts.id)
                    ? nil : title.protection ?? (pressure ? .worthItsRoom : .roomToSpare))
        }.sorted { ($0.valuePerByte, $1.id) > ($1.valuePerByte, $0.id) }
        return PolicyDecision(actions: plan.actions, replicas: replicas, targets: targets)
    }

    /// Each demanded title's home-wide target number of copies, originals included: `clamp(c·√homeDemand, 1, boxes)`
    /// rounded, with `c` the largest for which the replicas beyond the originals fit the home's cache room.
    public func targets(titles: [TitleFacts], home: HomeFacts) -> [String: Int] {
        targets(sanitized: Self.sanitized(titles, thisBox: home.thisBox), home: home)
    }

    private func isDemanded(_ title: TitleFacts) -> Bool {
        title.homeDemand >= settings.minimumDemand && title.homeDemand > 0
    }

    /// Targets of the demanded titles (others get none: one copy is all they need).
    private func targets(sanitized titles: [TitleFacts], home: HomeFacts) -> [String: Int] {
        let demanded = titles.filter(isDemanded)
        // Plain numbers for the search below, which reads every title some fifty times.
        let rootDemands = demanded.map { $0.homeDemand.squareRoot() }
        let sizes = demanded.map { Double($0.size) }
        let originals = demanded.map { Double($0.originalCount) }
        guard let smallestRoot = rootDemands.min() else { return [:] }
        let boxes = Double(home.boxCount)
        let room = Double(max(home.cacheRoom, 0))
        func copies(_ index: Int, _ scale: Double) -> Double {
            min(max(scale * rootDemands[index], 1), boxes)
        }
        func replicaBytes(_ scale: Double) -> Double {
            var bytes = 0.0
            for index in rootDemands.indices {
                bytes += sizes[index] * max(0, copies(index, scale) - originals[index])
            }
            return bytes
        }
        // Past this scale every target is capped at one copy per box.
        var high = boxes / smallestRoot
        var low = 0.0
        if replicaBytes(high) > room {
            // Halving the interval 50 times leaves it well under the rounding of the targets to whole copies.
            for _ in 0..<50 {
                let middle = (low + high) / 2
                if replicaBytes(middle) <= room { low = middle } else { high = middle }
            }
            high = low
        }
        return Dictionary(
            demanded.indices.map { (demanded[$0].id, Int(copies($0, high).rounded())) },
            uniquingKeysWith: { first, _ in first })
    }

    private func assess(_ title: TitleFacts, target: Int, boxCount: Double, home: HomeFacts) -> AssessedTitle {
        let remote = title.homeDemand - title.localDemand
        let allAway = title.holders.reduce(1) { $0 * (1 - $1.availability) }
        let value =
            settings.localWeight * title.localDemand + remote / boxCount
            + settings.failureWeight * title.homeDemand * allAway
        var assessed = AssessedTitle(facts: title, value: value)
        assessed.protection = protection(of: title)
        assessed.replicateReason = replicateReason(title, target: target, boxCount: boxCount, home: home)
        return assessed
    }

    private func protection(of title: TitleFacts) -> KeepReason? {
        if title.pinned { return .pinned }
        if title.inUse { return .inUse }
        let stillAround = title.holders.contains { $0.isOnline || $0.availability >= settings.goneAvailability }
        if title.here == .replica && !stillAround { return .lastCopy }
        let reachableElsewhere = title.holders.contains { $0.availability >= settings.rarelyOnlineAvailability }
        if title.here == .replica && !reachableElsewhere && isDemanded(title) { return .lastReachableCopy }
        return nil
    }

    private func replicateReason(
        _ title: TitleFacts, target: Int, boxCount: Double, home: HomeFacts
    ) -> ReplicateReason? {
        switch title.here {
        case .none, .partial: break
        case .replica, .original: return nil
        }
        guard title.size > 0, title.holders.contains(where: \.isOnline) else { return nil }
        if title.pinned { return .pinned }
        guard isDemanded(title) else { return nil }
        let watched = title.localDemand >= settings.minimumDemand
        if title.inUse && watched { return .playedHere }
        let copies = title.holders.count
        let expectedHere = title.localDemand + (title.homeDemand - title.localDemand) / boxCount
        if copies < target && isWorthFetchingAhead(expectedPlays: expectedHere, size: title.size) {
            return .underTarget(copies: copies, target: target)
        }
        let rarelyOnline = title.holders.allSatisfy { $0.availability < settings.rarelyOnlineAvailability }
        if rarelyOnline && (watched || rank(of: title, home: home) == 0) { return .holdersRarelyOnline }
        return nil
    }

    /// Whether a title expected to be played `expectedPlays` times here (its plays here lately, and its share of the
    /// home's for a title not watched here yet) is worth fetching before its next play: with `p = 1 − e^(−plays)` the
    /// chance of at least one play (Poisson), the bytes wasted when no play comes, `(1 − p) · size`, must not exceed
    /// what the plays made local are worth, `p · fetchAheadPlayBytes`.
    func isWorthFetchingAhead(expectedPlays: Double, size: Int64) -> Bool {
        guard expectedPlays > 0 else { return false }
        let played = 1 - exp(-expectedPlays)
        return (1 - played) * Double(size) <= played * settings.fetchAheadPlayBytes
    }

    /// This box's place among the online boxes not holding `title`, in an order every box computes alike from the
    /// title and box ids alone (rendezvous hashing): the first of them is the one that takes a copy nobody watches.
    private func rank(of title: TitleFacts, home: HomeFacts) -> Int {
        let holders = Set(title.holders.map(\.box))
        let mine = Self.rendezvousKey(title: title.id, box: home.thisBox)
        var seen: Set<String> = [home.thisBox]
        var ahead = 0
        for box in home.otherBoxes where box.isOnline && !holders.contains(box.id) && seen.insert(box.id).inserted {
            let theirs = Self.rendezvousKey(title: title.id, box: box.id)
            if (theirs, box.id) < (mine, home.thisBox) { ahead += 1 }
        }
        return ahead
    }

    /// FNV-1a over the title id, a separator and the box id: stable across processes and machines, unlike `Hasher`.
    static func rendezvousKey(title: String, box: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in title.utf8 + [0] + box.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return hash
    }

    /// The titles with their numbers made safe: one entry per id (the first), sizes and demands not negative nor
    /// infinite, home demand at least the local one, availabilities within 0...1, and this box and duplicates dropped
    /// from the holders.
    static func sanitized(_ titles: [TitleFacts], thisBox: String) -> [TitleFacts] {
        var seen: Set<String> = []
        seen.reserveCapacity(titles.count)
        return titles.compactMap { title in
            guard seen.insert(title.id).inserted else { return nil }
            var title = title
            title.size = max(title.size, 0)
            title.localDemand = title.localDemand.isFinite ? max(title.localDemand, 0) : 0
            title.homeDemand = title.homeDemand.isFinite ? max(title.homeDemand, title.localDemand) : title.localDemand
            title.holders = distinctHolders(title.holders, thisBox: thisBox).map { holder in
                var holder = holder
                holder.availability = holder.availability.isFinite ? min(max(holder.availability, 0), 1) : 0
                return holder
            }
            if case .partial(let bytes) = title.here { title.here = .partial(bytes: min(max(bytes, 0), title.size)) }
            return title
        }
    }

    /// The holders other than this box, each once (the first). Most titles have a holder or two: those are compared
    /// in place, as hashing box ids for every title of a large library would cost more than the whole decision.
    private static func distinctHolders(_ holders: [HolderFacts], thisBox: String) -> [HolderFacts] {
        if holders.count <= 8 {
            var distinct: [HolderFacts] = []
            for holder in holders where holder.box != thisBox && !distinct.contains(where: { $0.box == holder.box }) {
                distinct.append(holder)
            }
            return distinct
        }
        var seen: Set<String> = [thisBox]
        return holders.filter { seen.insert($0.box).inserted }
    }
}

extension TitleFacts {
    /// Copies in the users' media folders, this box's included.
    var originalCount: Int {
        holders.filter(\.isOriginal).count + (here == .original ? 1 : 0)
    }
}
