import ContentID
import Foundation
import GRDB
import PeerWire
import WireVocabulary

/// Replicas: objects fetched from peers into the cache. Their rows say which chunks are verified and durable, so a
/// fetch resumes after a restart or a crash without downloading them again.
extension Catalog {
    /// The record of a replica, partial or complete; nil when the cache holds none of the object.
    public func replica(_ id: ContentID) async throws(IndexError) -> ReplicaRecord? {
        try await read { db in try Self.replica(db, id: id) }
    }

    /// A `replica` row with its manifest's sizes.
    private struct ReplicaRow: Decodable, FetchableRecord {
        var complete: Bool
        var have: Data
        var size: Int64
        var lastUsedAt: Int64
        var fileSize: Int64
        var chunkSize: Int64
        var mime: String
        var fetchRunning: Bool
        var crashCount: Int
        var pinned: Bool
        static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    }

    static func replica(_ db: Database, id: ContentID) throws -> ReplicaRecord? {
        guard
            let row = try ReplicaRow.fetchOne(
                db,
                sql: """
                    SELECT r.complete, r.have, r.size, r.last_used_at, m.file_size, m.chunk_size, r.mime,
                        r.fetch_running, r.crash_count, r.pinned FROM replica r
                    JOIN manifest m ON m.content_id = r.content_id WHERE r.content_id = ?
                    """, arguments: [Data(id.bytes)]), row.chunkSize > 0
        else { return nil }
        guard let chunkCount = Int(exactly: row.fileSize / row.chunkSize + (row.fileSize % row.chunkSize == 0 ? 0 : 1)),
            let have = ChunkBitmap(chunkCount: chunkCount, bytes: [UInt8](row.have))
        else { return nil }
        return ReplicaRecord(
            id: id, complete: row.complete, have: have, size: row.size, mimeType: row.mime, lastUsed: row.lastUsedAt,
            fetchRunning: row.fetchRunning, crashCount: row.crashCount, pinned: row.pinned)
    }

    /// Every replica, least recently used first.
    public func replicas() async throws(IndexError) -> [ReplicaRecord] {
        try await read { db in
            let ids = try Data.fetchAll(db, sql: "SELECT content_id FROM replica ORDER BY last_used_at, content_id")
            return try ids.compactMap { ContentID(bytes: $0) }.compactMap { try Self.replica(db, id: $0) }
        }
    }

    /// Bytes the replicas take (or will take once complete) in the cache.
    public func replicaBytes() async throws(IndexError) -> Int64 {
        try await read { db in try Int64.fetchOne(db, sql: "SELECT coalesce(sum(size), 0) FROM replica") ?? 0 }
    }

    /// Starts a replica with a verified manifest and the description from a holder's catalog. An existing replica
    /// of the same object is kept as it is (a fetch resuming).
    public func beginReplica(manifest: ChunkManifest, description: CatalogEntry) async throws(IndexError) {
        let id = manifest.contentID
        let now = Int64(time(nil))
        try await write { db in
            try IndexWriter.withNextGeneration(db) { generation in
                try db.execute(
                    sql: """
                        INSERT INTO manifest(content_id, file_size, chunk_size, chunk_hashes) VALUES (?, ?, ?, ?)
                        ON CONFLICT(content_id) DO NOTHING
                        """,
                    arguments: [
                        Data(id.bytes), manifest.fileSize, manifest.chunkSize, Data(manifest.packedChunkHashes),
                    ])
                try db.execute(
                    sql: """
                        INSERT INTO replica(content_id, complete, have, size, kind, mime, name, title, artist, album,
                            duration_ms, width, height, generation, created_at, last_used_at)
                        VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT(content_id) DO NOTHING
                        """,
                    arguments: [
                        Data(id.bytes), Data(ChunkBitmap(chunkCount: manifest.chunkCount).bytes), manifest.fileSize,
                        (description.kind ?? .video).rawValue, description.mimeType ?? "application/octet-stream",
                        description.path ?? id.hex, description.title, description.artist, description.album,
                        description.durationMilliseconds, description.width, description.height, generation, now, now,
                    ])
            }
        }
    }

    /// Records chunks as verified and durable (the caller has made the bytes durable first). The catalog
    /// generation does not move: neighbours learn of a partial replica's chunks from `/v1/have`, not by re-syncing.
    /// `writes`, the cache's writes today, is stored in the same transaction: it costs no write of its own.
    public func recordChunks(
        of id: ContentID, have: ChunkBitmap, writes: DailyCacheWrites? = nil
    ) async throws(IndexError) {
        try await write { db in
            try db.execute(
                sql: "UPDATE replica SET have = ?, last_used_at = ? WHERE content_id = ?",
                arguments: [Data(have.bytes), Int64(time(nil)), Data(id.bytes)])
            if let writes {
                try db.execute(
                    sql: """
                        INSERT INTO meta(key, value) VALUES ('cache_writes_day', ?), ('cache_writes_bytes', ?)
                        ON CONFLICT(key) DO UPDATE SET value = excluded.value
                        """,
                    arguments: [writes.day, writes.bytes])
            }
        }
    }

    /// The cache's writes as last recorded with ``recordChunks(of:have:writes:)``; nil before any.
    public func cacheWrites() async throws(IndexError) -> DailyCacheWrites? {
        try await read { db in
            let day = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'cache_writes_day'")
            let bytes = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'cache_writes_bytes'")
            guard let day, let bytes else { return nil }
            return DailyCacheWrites(day: day, bytes: bytes)
        }
    }

    /// Pins or unpins a replica, partial or complete; returns false when the cache holds none of the object. The
    /// catalog generation does not move: a pin is this box's business, not its neighbours'.
    public func setPinned(_ id: ContentID, _ pinned: Bool) async throws(IndexError) -> Bool {
        try await write { db in
            try db.execute(
                sql: "UPDATE replica SET pinned = ? WHERE content_id = ?", arguments: [pinned, Data(id.bytes)])
            return db.changesCount > 0
        }
    }

    /// Marks a replica complete (its file renamed into place and synced): it joins the catalog as a full copy.
    public func completeReplica(_ id: ContentID) async throws(IndexError) {
        try await write { db in
            try IndexWriter.withNextGeneration(db) { generation in
                try db.execute(
                    sql: """
                        UPDATE replica SET complete = 1, have = ?, generation = ?, last_used_at = ?, fetch_running = 0,
                            crash_count = 0 WHERE content_id = ?
                        """,
                    arguments: [
                        Data(ChunkBitmap(chunkCount: try Self.manifest(db, id: id)?.chunkCount ?? 0, full: true).bytes),
                        generation, Int64(time(nil)), Data(id.bytes),
                    ])
            }
        }
    }

    /// Records that a fetch of the replica runs; `resettingCrashes` (a fetch started by hand) also sets its count
    /// of crashes back to zero.
    public func markFetchRunning(_ id: ContentID, resettingCrashes: Bool) async throws(IndexError) {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE replica SET fetch_running = 1, crash_count = CASE WHEN ? THEN 0 ELSE crash_count END
                    WHERE content_id = ? AND complete = 0
                    """,
                arguments: [resettingCrashes, Data(id.bytes)])
        }
    }

    /// Records that the fetch of the replica stopped cleanly: no crash is counted for it at the next start, and the
    /// crashes counted so far were not in a row with the next one.
    public func markFetchStopped(_ id: ContentID) async throws(IndexError) {
        try await write { db in
            try db.execute(
                sql: "UPDATE replica SET fetch_running = 0, crash_count = 0 WHERE content_id = ? AND complete = 0",
                arguments: [Data(id.bytes)])
        }
    }

    /// At the daemon's start, before any fetch resumes: every fetch still marked running was cut short by the
    /// daemon dying, and counts one more crash. Those that reach `pauseAfter` crashes are no longer marked running
    /// (they stay paused until started by hand, and their count stays). Writes nothing when no fetch was running.
    public func countFetchCrashes(pauseAfter: Int) async throws(IndexError) {
        let crashed = try await read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM replica WHERE fetch_running = 1)") ?? false
        }
        guard crashed else { return }
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE replica SET crash_count = crash_count + 1 WHERE fetch_running = 1 AND complete = 0;
                    UPDATE replica SET fetch_running = 0 WHERE fetch_running = 1 AND crash_count >= ?;
                    """,
                arguments: [pauseAfter])
        }
    }

    /// Forgets a replica (its file is the caller's to delete). Its manifest goes too unless a media file shares it.
    public func deleteReplica(_ id: ContentID) async throws(IndexError) {
        try await write { db in
            try IndexWriter.withNextGeneration(db) { _ in
                try db.execute(sql: "DELETE FROM replica WHERE content_id = ?", arguments: [Data(id.bytes)])
            }
            try IndexWriter.deleteOrphanManifests(db)
        }
    }
}
