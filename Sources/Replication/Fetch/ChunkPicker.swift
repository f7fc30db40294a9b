import WireVocabulary

/// Decides which chunk each source fetches next: the bookkeeping of a swarm download, without any I/O.
///
/// - Rarest first: among the chunks a source holds that nobody is fetching, the one the fewest sources hold (ties
///   go to the lowest index, so a complete-holders-only fetch runs front to back, which players like).
/// - Faster sources get more work because each asks again as soon as it finishes one.
/// - Endgame: once every missing chunk is requested, an idle source duplicates a chunk in flight elsewhere, so
///   one slow source cannot hold up the last chunks; the first verified copy wins.
/// - A player's chunks are claimed by the scheduler with ``claimRun(from:for:maxLength:before:)`` before any
///   rarest-first pick, and a late one is hedged with ``duplicate(_:for:)``.
/// - A source that sent a bad chunk is banned for this object; one that failed is removed, and what it had in
///   flight is handed out again.
public struct ChunkPicker: Sendable {
    public typealias Source = String

    public let chunkCount: Int
    /// Verified and written.
    public private(set) var have: ChunkBitmap
    private var availability: [Source: ChunkBitmap] = [:]
    /// For each chunk in flight, the sources fetching it.
    private var inFlight: [Int: Set<Source>] = [:]
    public private(set) var banned: Set<Source> = []
    /// How many sources may fetch the same chunk at once in the endgame.
    public var endgameCopies = 2

    public init(have: ChunkBitmap) {
        self.have = have
        chunkCount = have.chunkCount
    }

    public var isComplete: Bool { have.isComplete }
    public var sources: [Source] { Array(availability.keys) }
    public var inFlightCount: Int { inFlight.count }

    /// Adds a source, or updates what it holds.
    public mutating func setAvailability(_ chunks: ChunkBitmap, for source: Source) {
        guard !banned.contains(source), chunks.chunkCount == chunkCount else { return }
        availability[source] = chunks
    }

    /// The next chunk for `source`, or nil when it has nothing useful to do right now.
    public mutating func next(for source: Source) -> Int? {
        guard let chunks = availability[source] else { return nil }
        var best: (index: Int, holders: Int)?
        for index in 0..<chunkCount where !have.contains(index) && inFlight[index] == nil && chunks.contains(index) {
            let holders = availability.values.reduce(0) { $0 + ($1.contains(index) ? 1 : 0) }
            if best == nil || holders < best!.holders { best = (index, holders) }
            if holders == 1 { break }
        }
        if let best {
            inFlight[best.index] = [source]
            return best.index
        }
        // Not the endgame while some missing chunk is still unrequested (another source holds it): this source
        // waits rather than duplicating work.
        guard !(0..<chunkCount).contains(where: { !have.contains($0) && inFlight[$0] == nil && isHeldBySomeSource($0) })
        else {
            return nil
        }
        // Endgame: help with the chunk in flight that has the fewest fetchers, if this source holds it.
        let candidate =
            inFlight
            .filter { !$0.value.contains(source) && $0.value.count < endgameCopies && chunks.contains($0.key) }
            .min { ($0.value.count, $0.key) < ($1.value.count, $1.key) }
        guard let candidate else { return nil }
        inFlight[candidate.key, default: []].insert(source)
        return candidate.key
    }

    /// The next run of consecutive chunks for `source`, at most `maxLength` long: the chunk ``next(for:)`` picks,
    /// extended forward over chunks nobody has requested that the source holds. One request then fetches the run,
    /// which spares both boxes the cost of a request per chunk. Endgame duplicates stay single chunks.
    public mutating func nextRun(for source: Source, maxLength: Int) -> Range<Int>? {
        guard let first = next(for: source) else { return nil }
        guard inFlight[first] == [source] else { return first..<(first + 1) }
        return first..<extendRun(from: first, for: source, maxLength: maxLength, before: chunkCount)
    }

    /// True when `index` is missing, nobody fetches it, and `source` holds it.
    public func isFree(_ index: Int, for source: Source) -> Bool {
        !have.contains(index) && inFlight[index] == nil && availability[source]?.contains(index) == true
    }

    /// How many sources are fetching `index` now.
    public func fetcherCount(of index: Int) -> Int { inFlight[index]?.count ?? 0 }

    /// Claims a run for `source` that starts at `first` (a chunk a player needs, not the rarest), extended over
    /// the following free chunks it holds, at most `maxLength` long and ending before `end`. Nil when `first` is
    /// not free for it.
    public mutating func claimRun(from first: Int, for source: Source, maxLength: Int, before end: Int) -> Range<Int>? {
        guard first >= 0, first < chunkCount, isFree(first, for: source) else { return nil }
        inFlight[first] = [source]
        return first..<extendRun(from: first, for: source, maxLength: maxLength, before: min(end, chunkCount))
    }

    /// Has `source` fetch `index` too, which another source is fetching late (a hedge; the first verified copy
    /// wins, as in the endgame). False when it does not hold it, already fetches it, or enough sources do.
    public mutating func duplicate(_ index: Int, for source: Source) -> Bool {
        guard !have.contains(index), let fetchers = inFlight[index], !fetchers.contains(source),
            fetchers.count < endgameCopies, availability[source]?.contains(index) == true
        else { return false }
        inFlight[index]?.insert(source)
        return true
    }

    /// Claims the free chunks after `first` that `source` holds; returns the end of the run.
    private mutating func extendRun(from first: Int, for source: Source, maxLength: Int, before limit: Int) -> Int {
        guard let chunks = availability[source] else { return first + 1 }
        var end = first + 1
        while end - first < maxLength, end < limit, !have.contains(end), inFlight[end] == nil, chunks.contains(end) {
            inFlight[end] = [source]
            end += 1
        }
        return end
    }

    /// A verified chunk arrived from `source`. Returns false if another source's copy was already counted.
    @discardableResult
    public mutating func completed(_ index: Int, by source: Source) -> Bool {
        inFlight[index] = nil
        guard !have.contains(index) else { return false }
        have.insert(index)
        return true
    }

    /// `source` could not deliver `index` (timeout, connection lost): the chunk is free for others.
    public mutating func abandoned(_ index: Int, by source: Source) {
        inFlight[index]?.remove(source)
        if inFlight[index]?.isEmpty == true { inFlight[index] = nil }
    }

    /// `source` sent bytes that do not match the manifest: it is never asked for this object again.
    public mutating func ban(_ source: Source, chunk index: Int) {
        abandoned(index, by: source)
        remove(source)
        banned.insert(source)
    }

    /// `source` is gone: its in-flight chunks go back to the pool.
    public mutating func remove(_ source: Source) {
        availability[source] = nil
        for index in inFlight.keys { abandoned(index, by: source) }
    }

    private func isHeldBySomeSource(_ index: Int) -> Bool {
        availability.values.contains { $0.contains(index) }
    }

    /// True when no remaining source holds some missing chunk: the fetch must wait for another holder.
    public var isStarved: Bool {
        (0..<chunkCount).contains { index in
            !have.contains(index) && !availability.values.contains { $0.contains(index) }
        }
    }
}
