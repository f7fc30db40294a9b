import ContentID
import MediaIndex
import PeerWire
import WireVocabulary

/// Every catalog call a fetch makes, in one place: the replica record of one object.
///
/// GRDB's async accesses stop at once in a cancelled task, so what must be recorded while a fetch is stopping
/// (its last chunks, the replica forgotten) is called from a task that is not cancelled.
struct ReplicaRecords: Sendable {
    let catalog: Catalog
    let id: ContentID

    func replica() async throws(IndexError) -> ReplicaRecord? {
        try await catalog.replica(id)
    }

    /// The manifest this box stored for the object (verified against the id before it was stored).
    func manifest() async throws(IndexError) -> ChunkManifest? {
        try await catalog.manifest(of: id)
    }

    /// Bytes all the replicas of the cache take.
    func replicaBytes() async throws(IndexError) -> Int64 {
        try await catalog.replicaBytes()
    }

    /// Records the replica (no chunk held yet), described as the neighbours' catalogs describe the object.
    func begin(_ manifest: ChunkManifest) async throws(IndexError) {
        let description =
            try await catalog.remoteDescription(of: id)
            ?? CatalogEntry(id: id, generation: 0, size: manifest.fileSize)
        try await catalog.beginReplica(manifest: manifest, description: description)
    }

    /// Records the chunks held (durable on disk already), and the cache's writes today with them.
    func record(_ have: ChunkBitmap, writes: DailyCacheWrites) async throws(IndexError) {
        try await catalog.recordChunks(of: id, have: have, writes: writes)
    }

    /// Pins the replica (`mediapeerctl pin` on a title this box did not hold yet).
    func pin() async throws(IndexError) {
        _ = try await catalog.setPinned(id, true)
    }

    /// Records that the fetch runs, so that a start finding it still marked counts a crash; a fetch started by
    /// hand starts its count of crashes again.
    func markRunning(resettingCrashes: Bool) async throws(IndexError) {
        try await catalog.markFetchRunning(id, resettingCrashes: resettingCrashes)
    }

    /// Records that the fetch stopped cleanly (the daemon stopping, or the fetch cancelled).
    func markStopped() async throws(IndexError) {
        try await catalog.markFetchStopped(id)
    }

    func complete() async throws(IndexError) {
        try await catalog.completeReplica(id)
    }

    /// Forgets the replica unless it is complete.
    func forgetUnfinished() async {
        if (try? await catalog.replica(id))??.complete == false {
            try? await catalog.deleteReplica(id)
        }
    }
}
