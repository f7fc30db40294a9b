import ContentID
import Foundation
import GRDB
import MediaProbe
import PeerWire
import WireVocabulary

/// The shareable side of the index: this box's catalog as peers see it (deltas by generation, manifests, the
/// object behind a content id), the replicas fetched into the cache, and the catalogs of the neighbours.
///
/// It shares the index's database: a replica or a removal moves the same catalog generation that the media
/// folders do, so one number in the mDNS TXT record tells neighbours when to sync.
public final class Catalog: Sendable {
    let pool: DatabasePool
    /// Told of a media file found changed since it was indexed (truncated or rewritten without a close inotify
    /// reports), so the index records it again.
    private let staleFile: @Sendable (_ root: String, _ relativePath: String) -> Void

    init(pool: DatabasePool, staleFile: @escaping @Sendable (String, String) -> Void = { _, _ in }) {
        self.pool = pool
        self.staleFile = staleFile
    }

    /// The random id of this database; it changes only when the index is rebuilt.
    public func epoch() async throws(IndexError) -> String {
        try await read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'catalog_epoch'") ?? ""
        }
    }

    /// The entries changed after (`since`, `after`) in (generation, id) order, at most `limit` of them.
    ///
    /// - parameter after: nil to start after every entry of generation `since`; otherwise the id of the last
    ///   entry received, whose generation was `since`.
    public func delta(since: Int64, after: ContentID?, limit: Int) async throws(IndexError) -> CatalogDelta {
        try await read { db in
            let afterBlob = after.map { Data($0.bytes) }
            let position = afterBlob == nil ? "gen > :since" : "(gen > :since OR (gen = :since AND cid > :after))"
            // Objects (not files): a content id held by several files is one entry, stamped with its newest row's
            // generation (or the generation one of its files went, if later). A tombstone counts as a removal only
            // while no file or replica holds the content any more.
            let sql = """
                SELECT * FROM (
                    SELECT m.content_id AS cid,
                        max(max(m.generation), coalesce((SELECT generation FROM tombstone WHERE content_id = m.content_id), 0)) AS gen,
                        0 AS removed, 1 AS complete, m.size, m.kind,
                        m.mime, m.rel_path AS path, m.title, m.artist, m.album, m.duration_ms, m.width, m.height,
                        max(m.date_taken) AS date_taken, max(m.has_thumbnail) AS has_thumbnail
                    FROM media m
                    WHERE m.content_id IN (
                        SELECT content_id FROM media WHERE generation >= :since AND content_id IS NOT NULL
                        -- One of several files with this content went: the object is listed again, with a path
                        -- that still exists.
                        UNION SELECT content_id FROM tombstone WHERE generation >= :since)
                    GROUP BY m.content_id
                    UNION ALL
                    SELECT r.content_id, r.generation, 0, r.complete, r.size, r.kind, r.mime, r.name, r.title, r.artist,
                        r.album, r.duration_ms, r.width, r.height, NULL, 0
                    FROM replica r
                    WHERE r.generation >= :since AND NOT EXISTS (SELECT 1 FROM media WHERE content_id = r.content_id)
                    UNION ALL
                    SELECT t.content_id, t.generation, 1, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                        NULL, 0
                    FROM tombstone t
                    WHERE t.generation >= :since
                        AND NOT EXISTS (SELECT 1 FROM media WHERE content_id = t.content_id)
                        AND NOT EXISTS (SELECT 1 FROM replica WHERE content_id = t.content_id)
                )
                WHERE \(position)
                ORDER BY gen, cid
                LIMIT :limit
                """
            var arguments: [String: (any DatabaseValueConvertible)?] = ["since": since, "limit": limit + 1]
            if let afterBlob { arguments["after"] = afterBlob }
            let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments))
            let entries = rows.prefix(limit).compactMap(Self.entry(from:))
            return CatalogDelta(
                epoch: try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'catalog_epoch'") ?? "",
                generation: try LibraryQueries.generation(db), entries: entries, more: rows.count > limit)
        }
    }

    /// Reads `date_taken` and `has_thumbnail` where the query has them (a query without them gives neither).
    static func entry(from row: Row) -> CatalogEntry? {
        guard let id = ContentID(bytes: row["cid"] as Data) else { return nil }
        let removed = (row["removed"] as Int) == 1
        if removed { return CatalogEntry(id: id, generation: row["gen"], removed: true, complete: false) }
        return CatalogEntry(
            id: id, generation: row["gen"], complete: (row["complete"] as Int) == 1, size: row["size"],
            kind: (row["kind"] as String?).flatMap(MediaKind.init(rawValue:)), mimeType: row["mime"], path: row["path"],
            title: row["title"], artist: row["artist"], album: row["album"], durationMilliseconds: row["duration_ms"],
            width: row["width"], height: row["height"], dateTaken: row["date_taken"],
            hasThumbnail: (row["has_thumbnail"] as Int?) == 1 ? true : nil)
    }

    /// The chunk manifest of an object this box holds (a media file or a replica, partial ones too).
    public func manifest(of id: ContentID) async throws(IndexError) -> ChunkManifest? {
        try await read { db in try Self.manifest(db, id: id) }
    }

    /// A `manifest` row.
    private struct ManifestRow: Decodable, FetchableRecord {
        var fileSize: Int64
        var chunkSize: Int
        var chunkHashes: Data
        static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    }

    static func manifest(_ db: Database, id: ContentID) throws -> ChunkManifest? {
        guard
            let row = try ManifestRow.fetchOne(
                db, sql: "SELECT file_size, chunk_size, chunk_hashes FROM manifest WHERE content_id = ?",
                arguments: [Data(id.bytes)])
        else { return nil }
        return try? ChunkManifest(
            fileSize: row.fileSize, chunkSize: row.chunkSize, packedChunkHashes: [UInt8](row.chunkHashes))
    }

    /// A media file holding some content, as recorded when it was hashed.
    private struct MediaFileRow: Decodable, FetchableRecord {
        var root: String
        var relPath: String
        var size: Int64
        var mtimeNs: Int64
        var inode: Int64
        var mime: String
        static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase

        var facts: FileFacts { FileFacts(size: size, mtimeNanoseconds: mtimeNs, inode: inode) }
        var path: String { root + "/" + relPath }
    }

    /// What this box holds of an object: a media file whose size, mtime and inode still match the hashed ones
    /// (checked with `stat` now, so an edited file is never served under its old id), else a replica.
    public func localObject(_ id: ContentID) async throws(IndexError) -> LocalObject? {
        let (files, replica) = try await read { db in
            let files = try MediaFileRow.fetchAll(
                db,
                sql: """
                    SELECT r.path AS root, m.rel_path, m.size, m.mtime_ns, m.inode, m.mime FROM media m
                    JOIN root r ON r.id = m.root_id WHERE m.content_id = ? LIMIT 8
                    """, arguments: [Data(id.bytes)])
            return (files, try Self.replica(db, id: id))
        }
        for file in files {
            if let current = TreeWalker.facts(ofFileAt: file.path), current.isRegularFile, current.facts == file.facts {
                return .mediaFile(path: file.path, size: file.size, mimeType: file.mime)
            }
            staleFile(file.root, file.relPath)
        }
        return replica.map(LocalObject.replica)
    }

    /// How this box describes an object it holds: its media file's row (the first of several), else its replica's;
    /// nil when this box holds none of it. Read inside ``playbackDescription(of:online:)``, before a player's file
    /// is looked up with ``localObject(_:)``.
    static func localDescription(_ db: Database, of id: ContentID) throws -> CatalogEntry? {
        try Row.fetchOne(
            db,
            sql: """
                SELECT * FROM (
                    SELECT content_id AS cid, 0 AS gen, 0 AS removed, 1 AS complete, size, kind, mime,
                        rel_path AS path, title, artist, album, duration_ms, width, height, 0 AS rank
                    FROM media WHERE content_id = :id
                    UNION ALL
                    SELECT content_id, 0, 0, complete, size, kind, mime, name, title, artist, album, duration_ms,
                        width, height, 1
                    FROM replica WHERE content_id = :id)
                ORDER BY rank LIMIT 1
                """, arguments: ["id": Data(id.bytes)]
        ).flatMap(Self.entry(from:))
    }

    /// GRDB's async access: the task waits for a connection without holding a cooperative thread.
    func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws(IndexError) -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw IndexError(error)
        }
    }

    @discardableResult
    func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws(IndexError) -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw IndexError(error)
        }
    }
}
