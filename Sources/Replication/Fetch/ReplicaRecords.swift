import ContentID
import MediaIndex
import PeerWire
import WireVocabulary

/// Every catalog call a fetch makes, in one place: the replica record of one object.
struct ReplicaRecords: Sendable {
    let catalog: Catalog
    let id: ContentID

    func replica() throws(IndexError) -> ReplicaRecord? {
        try catalog.replica(id)
    }

    /// The manifest this box stored for the object (verified against the id before it was stored).
    func manifest() throws(IndexError) -> ChunkManifest? {
        try catalog.manifest(of: id)
    }

    /// Bytes all the replicas of the cache take.
    func replicaBytes() throws(IndexError) -> Int64 {
        try catalog.replicaBytes()
    }

    /// Records the replica (no chunk held yet), described as the neighbours' catalogs describe the object.
    func begin(_ manifest: ChunkManifest) throws(IndexError) {
        let description = try catalog.remoteDescription(of: id)
            ?? CatalogEntry(id: id, generation: 0, size: manifest.fileSize)
        try catalog.beginReplica(manifest: manifest, description: description)
    }

    /// Records the chunks held (durable on disk already).
    func record(_ have: ChunkBitmap) throws(IndexError) {
        try catalog.recordChunks(of: id, have: have)
    }

    func complete() throws(IndexError) {
        try catalog.completeReplica(id)
    }

    /// Forgets the replica unless it is complete.
    func forgetUnfinished() {
        if (try? catalog.replica(id))??.complete == false {
            try? catalog.deleteReplica(id)
        }
    }
}
