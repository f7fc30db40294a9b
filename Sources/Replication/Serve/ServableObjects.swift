import ContentID
import MediaIndex
import PeerProtocol
import Synchronization
import WireVocabulary

/// Which file serves an object, for the peer API's object and manifest requests.
public protocol ObjectServing: Sendable {
    /// The file behind an object, if this box holds any of it.
    func servableObject(_ id: ContentID) async throws(IndexError) -> ServableObject?
    /// The manifest of an object this box holds, wholly or in part.
    func manifest(of id: ContentID) async throws(IndexError) -> ChunkManifest?
    /// Drops what is remembered of `id`: the cache is about to delete its file.
    func forget(_ id: ContentID)
    /// Whether a player or a neighbour asked for `id` within the last `window`: it is probably being read.
    func servedRecently(_ id: ContentID, within window: Duration) -> Bool
}

extension ObjectServing {
    public func forget(_ id: ContentID) {}
    public func servedRecently(_ id: ContentID, within window: Duration) -> Bool { false }
}

/// The objects this box can serve: a media file whose size, mtime and inode still match what was hashed, else a
/// replica in the cache (its final file once complete, its `.partial` file before).
///
/// Replication owns the cache's layout, so it is also what answers for the files in it (and what will evict them).
///
/// What serves a complete object is remembered for ``lifetime``: a fetching box asks for one chunk after another,
/// and a player for many small ranges, and without this every request would cost two SQLite queries and the
/// decoding of the object's whole chunk-hash list. A second is short enough that a file replaced meanwhile is
/// noticed at once by the size check before sending, and by the receiver's chunk verification in any case.
/// Partial replicas are not remembered: their chunks change by the second.
public final class ServableObjects<C: Clock>: ObjectServing where C.Duration == Duration {
    private struct Entry {
        var object: ServableObject
        var expires: C.Instant
    }

    private let catalog: Catalog
    private let layout: ReplicaLayout
    private let clock: C
    private let entries = Mutex<[ContentID: Entry]>([:])
    /// When each object was last asked for (the most recent ``capacity``), so the cache does not evict what a
    /// player or a neighbour is reading.
    private let served = Mutex<[ContentID: C.Instant]>([:])
    /// How long a lookup is remembered.
    public let lifetime: Duration
    /// Objects remembered at most (a box serves a few at a time).
    private static var capacity: Int { 256 }

    /// - parameter clock: what the ``lifetime`` is measured on.
    public init(catalog: Catalog, layout: ReplicaLayout, clock: C, lifetime: Duration = .seconds(1)) {
        self.catalog = catalog
        self.layout = layout
        self.clock = clock
        self.lifetime = lifetime
    }

    public func servableObject(_ id: ContentID) async throws(IndexError) -> ServableObject? {
        noteServed(id)
        if let remembered = remembered(id) { return remembered }
        let object = try await lookUp(id)
        if let object, object.available.isComplete { remember(object) }
        return object
    }

    public func manifest(of id: ContentID) async throws(IndexError) -> ChunkManifest? {
        try await catalog.manifest(of: id)
    }

    private func lookUp(_ id: ContentID) async throws(IndexError) -> ServableObject? {
        guard let object = try await catalog.localObject(id), let manifest = try await catalog.manifest(of: id) else {
            return nil
        }
        switch object {
        case .mediaFile(let path, let size, let mimeType):
            return ServableObject(
                id: id, path: path, size: size, mimeType: mimeType, chunkSize: manifest.chunkSize,
                available: ChunkBitmap(chunkCount: manifest.chunkCount, full: true))
        case .replica(let replica):
            return ServableObject(
                id: id, path: replica.complete ? layout.completePath(id) : layout.partialPath(id),
                size: replica.size, mimeType: replica.mimeType, chunkSize: manifest.chunkSize,
                available: replica.have)
        }
    }

    public func forget(_ id: ContentID) {
        _ = entries.withLock { $0.removeValue(forKey: id) }
    }

    public func servedRecently(_ id: ContentID, within window: Duration) -> Bool {
        let now = clock.now
        return served.withLock { served in served[id].map { $0.duration(to: now) < window } ?? false }
    }

    private func noteServed(_ id: ContentID) {
        let now = clock.now
        served.withLock { served in
            if served[id] == nil, served.count >= Self.capacity,
                let oldest = served.min(by: { $0.value < $1.value })?.key
            {
                served[oldest] = nil
            }
            served[id] = now
        }
    }

    private func remembered(_ id: ContentID) -> ServableObject? {
        let now = clock.now
        return entries.withLock { entries in
            guard let entry = entries[id] else { return nil }
            guard entry.expires > now else {
                entries[id] = nil
                return nil
            }
            return entry.object
        }
    }

    private func remember(_ object: ServableObject) {
        let now = clock.now
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries = entries.filter { $0.value.expires > now } }
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[object.id] = Entry(object: object, expires: now.advanced(by: lifetime))
        }
    }
}

extension ServableObjects where C == ContinuousClock {
    /// Lookups remembered for a second of the continuous clock.
    public convenience init(catalog: Catalog, layout: ReplicaLayout) {
        self.init(catalog: catalog, layout: layout, clock: ContinuousClock())
    }
}
