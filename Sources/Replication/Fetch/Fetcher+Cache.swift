import ContentID
import MediaIndex
import MediapeerConfig
import WireVocabulary

/// Why a replica was not evicted.
public enum EvictionError: Error, Equatable, CustomStringConvertible {
    /// The cache holds none of the object (it may be in the media folders, which are never touched).
    case notInCache(ContentID)
    /// The user pinned it.
    case pinned(ContentID)
    /// It is being fetched (a player may be reading the fetch).
    case fetching(ContentID)
    /// A player or a neighbour read it within ``Fetcher/inUseWindow``.
    case inUse(ContentID)
    /// Another eviction of it runs.
    case alreadyEvicting(ContentID)
    case index(IndexError)

    public var description: String {
        switch self {
        case .notInCache: "this box's cache does not hold it"
        case .pinned: "it is pinned"
        case .fetching: "it is being fetched"
        case .inUse:
            "a player or a neighbour read it in the last \(Fetcher.inUseWindow.components.seconds / 60) minutes"
        case .alreadyEvicting: "it is being evicted already"
        case .index(let error): "\(error)"
        }
    }
}

/// One replica of the cache as ``Fetcher/cacheContents()`` describes it.
public struct CacheEntry: Sendable, Equatable {
    public var replica: ReplicaRecord
    /// Bytes of its verified chunks (its size once complete).
    public var bytesHeld: Int64
    /// Being fetched (and so perhaps played).
    public var fetching: Bool
    /// Being played through its fetch.
    public var played: Bool
    /// Read by a player or a neighbour within ``Fetcher/inUseWindow``.
    public var servedRecently: Bool

    /// Whether eviction would refuse it for being in use.
    public var inUse: Bool { fetching || played || servedRecently }
}

/// The cache as a whole, for `mediapeerctl cache` and the auto-replicator.
public struct CacheContents: Sendable, Equatable {
    /// Bytes the replicas take or will take once complete (each is reserved whole when its fetch starts).
    public var usedBytes: Int64
    /// `cache_max` as configured.
    public var limit: CacheLimit
    /// `cache_max` in bytes on the cache's file system now.
    public var quotaBytes: Int64
    public var settings: ReplicationSettings.Values
    public var writtenToday: Int64
    /// Least recently used first.
    public var entries: [CacheEntry]
}

extension Fetcher {
    /// The settings changed (SIGHUP): every running fetch checks that its object still fits the quota, and one that
    /// no longer does fails with the reason (its partial file is deleted). Returns once all have checked.
    public func settingsChanged() async {
        for entry in jobs.values { await entry.job.recheckSpace() }
    }

    /// Removes a replica, partial or complete, from the cache; returns its record as it was.
    ///
    /// Refuses one being fetched or played, one read by a player or a neighbour within ``inUseWindow`` (unless
    /// `evenIfInUse`) and a pinned one (unless `overridingPin`: the user's own `cache evict` on a title they pinned
    /// means it). The record goes first, then the file: a crash between the two leaves a file no record names, which
    /// ``CacheRecovery`` deletes at the next start, and meanwhile nothing serves it or tells a neighbour of it (the
    /// deletion moves the catalog generation and leaves a tombstone, so neighbours drop this box as a holder at their
    /// next sync). Only the cache's own `objects/<id>` files are deleted: a media file with the same content is
    /// never touched.
    public func evict(
        _ id: ContentID, reason: String, overridingPin: Bool = false, evenIfInUse: Bool = false
    ) async throws(EvictionError) -> ReplicaRecord {
        if jobs[id] != nil { throw .fetching(id) }
        guard !evicting.contains(id) else { throw .alreadyEvicting(id) }
        evicting.insert(id)
        defer { evicting.remove(id) }
        let found: ReplicaRecord?
        do {
            found = try await catalog.replica(id)
        } catch {
            throw .index(error)
        }
        guard let record = found else { throw .notInCache(id) }
        if record.pinned && !overridingPin { throw .pinned(id) }
        if !evenIfInUse, serving?.servedRecently(id, within: Self.inUseWindow) == true { throw .inUse(id) }
        do {
            try await catalog.deleteReplica(id)
        } catch {
            throw .index(error)
        }
        serving?.forget(id)
        layout.remove(id)
        logger.info(
            "replica evicted",
            metadata: [
                "object": "\(id.hex.prefix(16))", "bytes": "\(record.size)", "reason": "\(reason)",
                "pinned": "\(record.pinned)",
            ])
        return record
    }

    /// The task of the running fetch of `id`, which ends with the fetch.
    func runningTask(_ id: ContentID) -> Task<Void, Never>? {
        jobs[id]?.task
    }

    /// Pins or unpins a replica this box holds, whole or in part; false when it holds none.
    public func setPinned(_ id: ContentID, _ pinned: Bool) async throws(IndexError) -> Bool {
        try await catalog.setPinned(id, pinned)
    }

    /// Every replica with its state of use, the quota and today's writes.
    public func cacheContents() async throws -> CacheContents {
        let replicas = try await catalog.replicas()
        var entries: [CacheEntry] = []
        for replica in replicas {
            var bytesHeld = replica.size
            if !replica.complete, let manifest = try await catalog.manifest(of: replica.id) {
                bytesHeld = (0..<manifest.chunkCount).filter { replica.have.contains($0) }.reduce(Int64(0)) {
                    let range = manifest.byteRange(ofChunk: $1)
                    return $0 + range.upperBound - range.lowerBound
                }
            }
            entries.append(
                CacheEntry(
                    replica: replica, bytesHeld: bytesHeld, fetching: jobs[replica.id] != nil,
                    played: played.contains(replica.id),
                    servedRecently: serving?.servedRecently(replica.id, within: Self.inUseWindow) ?? false))
        }
        try layout.prepare()
        let quota = try space.quota()
        return CacheContents(
            usedBytes: replicas.reduce(0) { $0 + $1.size }, limit: quota.limit, quotaBytes: quota.bytes,
            settings: settings.current, writtenToday: writes.current.bytes, entries: entries)
    }
}
