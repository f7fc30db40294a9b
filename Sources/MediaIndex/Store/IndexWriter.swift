import ContentID
import Foundation
import GRDB
import MediaProbe
import WireVocabulary

/// A file as the walk found it: enough to decide whether it changed since the last scan.
struct FileFacts: Sendable, Equatable {
    var size: Int64
    var mtimeNanoseconds: Int64
    var inode: Int64
}

/// Every write to the index goes through here, one transaction per batch, each bumping the catalog generation.
enum IndexWriter {
    struct Found: Sendable {
        var relativePath: String
        var sniffed: SniffResult
        var facts: FileFacts
    }

    struct MetadataResult: Sendable {
        var id: Int64
        var metadata: MediaMetadata
    }

    /// Runs `body` with the next catalog generation (to stamp on the rows it changes), and records that
    /// generation only if `body` changed rows: a transaction that turns out to change nothing leaves the
    /// generation (which peers watch) alone. Every write to the index goes through here.
    ///
    /// - returns: whether `body` changed anything.
    @discardableResult
    static func withNextGeneration(_ db: Database, _ body: (Int64) throws -> Void) throws -> Bool {
        let next = (try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'generation'") ?? 0) + 1
        let before = db.totalChangesCount
        try body(next)
        guard db.totalChangesCount != before else { return false }
        try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'generation'", arguments: [next])
        // `meta` is a WITHOUT ROWID table, whose changes SQLite's update hook (and so GRDB) never reports: without
        // this, `generationUpdates()` would deliver the first generation and no other, and the TXT record would
        // announce the generation of the daemon's start forever.
        try db.notifyChanges(in: Table("meta"))
        return true
    }

    /// Deletes rows through `body`; when any went, the generation moves and manifests no file refers to are dropped.
    private static func deleting(_ db: Database, _ body: () throws -> Void) throws {
        if try withNextGeneration(db, { _ in try body() }) { try deleteOrphanManifests(db) }
    }

    /// The device (`st_dev`) of a media folder's file system when its files were last walked; nil if never recorded.
    static func rootDevice(_ db: Database, rootID: Int64) throws -> UInt64? {
        try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: ["root-device:\(rootID)"])
            .map { UInt64(bitPattern: $0) }
    }

    /// Records a media folder's device once a walk found it on a new one (never when unchanged: no idle writes).
    static func recordRootDevice(_ db: Database, rootID: Int64, device: UInt64) throws {
        try db.execute(
            sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            arguments: ["root-device:\(rootID)", Int64(bitPattern: device)])
    }

    /// The file systems that were mounted below a media folder when its files were walked, relative to the folder.
    static func mountPointsBelow(_ db: Database, rootID: Int64) throws -> Set<String> {
        let prefix = "mount-point:\(rootID):"
        let keys = try String.fetchAll(
            db, sql: "SELECT key FROM meta WHERE substr(key, 1, ?) = ?", arguments: [prefix.utf8.count, prefix])
        return Set(keys.map { String($0.dropFirst(prefix.count)) })
    }

    /// Records the mount points below a media folder that a walk found mounted, and forgets `forgotten`.
    static func recordMountPointsBelow(
        _ db: Database, rootID: Int64, adding added: Set<String>, forgetting forgotten: Set<String>
    ) throws {
        for relative in added {
            try db.execute(
                sql: "INSERT OR IGNORE INTO meta (key, value) VALUES (?, 1)",
                arguments: ["mount-point:\(rootID):\(relative)"])
        }
        for relative in forgotten {
            try db.execute(sql: "DELETE FROM meta WHERE key = ?", arguments: ["mount-point:\(rootID):\(relative)"])
        }
    }

    /// The recorded facts of one file, and whether its metadata was read.
    static func facts(_ db: Database, rootID: Int64, relativePath: String) throws -> (
        facts: FileFacts, metadataRead: Bool
    )? {
        try Row.fetchOne(
            db, sql: "SELECT size, mtime_ns, inode, metadata_state FROM media WHERE root_id = ? AND rel_path = ?",
            arguments: [rootID, relativePath]
        ).map {
            (
                FileFacts(size: $0["size"], mtimeNanoseconds: $0["mtime_ns"], inode: $0["inode"]),
                ($0["metadata_state"] as Int) == 1
            )
        }
    }

    static func rootID(_ db: Database, path: String) throws -> Int64 {
        try db.execute(sql: "INSERT INTO root(path) VALUES (?) ON CONFLICT(path) DO NOTHING", arguments: [path])
        return try Int64.fetchOne(db, sql: "SELECT id FROM root WHERE path = ?", arguments: [path])!
    }

    /// Roots no longer configured are dropped with their rows.
    ///
    /// - returns: how many roots were dropped.
    static func removeRoots(_ db: Database, notIn paths: [String]) throws -> Int {
        let placeholders = paths.map { _ in "?" }.joined(separator: ",")
        let sql = paths.isEmpty ? "DELETE FROM root" : "DELETE FROM root WHERE path NOT IN (\(placeholders))"
        var removed = 0
        try deleting(db) {
            try db.execute(sql: sql, arguments: StatementArguments(paths))
            removed = db.changesCount
        }
        return removed
    }

    /// The rows of a root, keyed by relative path, for the walk to compare against.
    /// The rows of one media folder by the exact bytes of their relative paths: Swift compares strings by
    /// canonical equivalence, so a name in NFC (`café`, as Linux tools write it) and in NFD (as a Mac copies it) would
    /// be one key, though they are two file names.
    static func existingFacts(_ db: Database, rootID: Int64) throws -> [[UInt8]: (id: Int64, facts: FileFacts)] {
        var result: [[UInt8]: (id: Int64, facts: FileFacts)] = [:]
        let rows = try Row.fetchCursor(
            db, sql: "SELECT id, rel_path, size, mtime_ns, inode FROM media WHERE root_id = ?", arguments: [rootID])
        while let row = try rows.next() {
            let path: String = row["rel_path"]
            result[Array(path.utf8)] = (
                row["id"], FileFacts(size: row["size"], mtimeNanoseconds: row["mtime_ns"], inode: row["inode"])
            )
        }
        return result
    }

    /// Records new or changed files. A changed file keeps its row id but loses its content id and is queued for
    /// metadata again.
    static func upsert(_ db: Database, rootID: Int64, files: [Found]) throws {
        guard !files.isEmpty else { return }
        try withNextGeneration(db) { generation in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO media(root_id, rel_path, kind, mime, size, mtime_ns, inode, metadata_state, generation)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)
                    ON CONFLICT(root_id, rel_path) DO UPDATE SET
                        kind = excluded.kind, mime = excluded.mime, size = excluded.size, mtime_ns = excluded.mtime_ns,
                        inode = excluded.inode, metadata_state = 0, content_id = NULL, generation = excluded.generation
                    WHERE size != excluded.size OR mtime_ns != excluded.mtime_ns OR inode != excluded.inode
                        OR kind != excluded.kind
                    """)
            for file in files {
                try statement.execute(arguments: [
                    rootID, file.relativePath, file.sniffed.kind.rawValue, file.sniffed.mimeType,
                    file.facts.size, file.facts.mtimeNanoseconds, file.facts.inode, generation,
                ])
            }
        }
    }

    static func delete(_ db: Database, ids: [Int64]) throws {
        guard !ids.isEmpty else { return }
        try deleting(db) {
            let statement = try db.cachedStatement(sql: "DELETE FROM media WHERE id = ?")
            for id in ids { try statement.execute(arguments: [id]) }
        }
    }

    static func delete(_ db: Database, rootID: Int64, relativePath: String) throws {
        try deleting(db) {
            try db.execute(
                sql: "DELETE FROM media WHERE root_id = ? AND rel_path = ?", arguments: [rootID, relativePath])
        }
    }

    /// Deletes every row under a folder (its own path is not a file row, so only the prefix matters).
    static func delete(_ db: Database, rootID: Int64, folder: String) throws {
        try deleting(db) {
            try db.execute(
                sql: "DELETE FROM media WHERE root_id = ? AND substr(rel_path, 1, ?) = ?",
                // SQLite's substr counts the characters (scalars) of TEXT, not its bytes.
                arguments: [rootID, folder.unicodeScalars.count + 1, folder + "/"])
        }
    }

    /// A rename inside the tree: the row, its metadata and its content id move with the file, nothing is re-read.
    static func rename(_ db: Database, rootID: Int64, from: String, to: String) throws -> Bool {
        var renamed = false
        try withNextGeneration(db) { generation in
            try db.execute(sql: "DELETE FROM media WHERE root_id = ? AND rel_path = ?", arguments: [rootID, to])
            try db.execute(
                sql: "UPDATE media SET rel_path = ?, generation = ? WHERE root_id = ? AND rel_path = ?",
                arguments: [to, generation, rootID, from])
            renamed = db.changesCount > 0
        }
        return renamed
    }

    /// A folder renamed inside the tree: every row below it changes prefix.
    static func renameFolder(_ db: Database, rootID: Int64, from: String, to: String) throws -> Int {
        var count = 0
        try withNextGeneration(db) { generation in
            let oldPrefix = from + "/"
            // SQLite's substr counts the characters (scalars) of TEXT, not its bytes.
            try db.execute(
                sql: """
                    UPDATE media SET rel_path = ? || substr(rel_path, ?), generation = ?
                    WHERE root_id = ? AND substr(rel_path, 1, ?) = ?
                    """,
                arguments: [
                    to + "/", oldPrefix.unicodeScalars.count + 1, generation, rootID, oldPrefix.unicodeScalars.count,
                    oldPrefix,
                ])
            count = db.changesCount
        }
        return count
    }

    /// Stores metadata read for rows that still wait for it (a row changed again meanwhile is re-queued anyway).
    static func storeMetadata(_ db: Database, results: [MetadataResult]) throws {
        guard !results.isEmpty else { return }
        try withNextGeneration(db) { generation in
            let statement = try db.cachedStatement(
                sql: """
                    UPDATE media SET metadata_state = 1, generation = ?,
                        title = ?, artist = ?, album = ?, genre = ?, track = ?, year = ?, duration_ms = ?, width = ?,
                        height = ?, date_taken = ?, camera_make = ?, camera_model = ?, orientation = ?, video_codec = ?,
                        audio_codec = ?, has_thumbnail = ?
                    WHERE id = ? AND metadata_state = 0
                    """)
            for result in results {
                let m = result.metadata
                try statement.execute(arguments: [
                    generation, m.title, m.artist, m.album, m.genre, m.track, m.year, m.durationMilliseconds, m.width,
                    m.height, m.dateTaken, m.cameraMake, m.cameraModel, m.orientation, m.videoCodec, m.audioCodec,
                    m.hasThumbnail == true, result.id,
                ])
            }
        }
    }

    struct HashResult: Sendable {
        var id: Int64
        var facts: FileFacts
        var manifest: ChunkManifest
    }

    /// Records content ids, each only if its row still describes the file that was hashed.
    static func storeContentIDs(_ db: Database, _ results: [HashResult]) throws {
        try withNextGeneration(db) { generation in
            let insertManifest = try db.cachedStatement(
                sql: """
                    INSERT INTO manifest(content_id, file_size, chunk_size, chunk_hashes) VALUES (?, ?, ?, ?)
                    ON CONFLICT(content_id) DO NOTHING
                    """)
            let update = try db.cachedStatement(
                sql: """
                    UPDATE media SET content_id = ?, generation = ?
                    WHERE id = ? AND size = ? AND mtime_ns = ? AND inode = ? AND content_id IS NULL
                    """)
            for result in results {
                let contentID = Data(result.manifest.contentID.bytes)
                try insertManifest.execute(arguments: [
                    contentID, result.manifest.fileSize, result.manifest.chunkSize,
                    Data(result.manifest.packedChunkHashes),
                ])
                try update.execute(arguments: [
                    contentID, generation, result.id, result.facts.size,
                    result.facts.mtimeNanoseconds, result.facts.inode,
                ])
                if db.changesCount == 0 {
                    try db.execute(
                        sql: """
                            DELETE FROM manifest WHERE content_id = ?1
                            AND NOT EXISTS (SELECT 1 FROM media WHERE content_id = ?1)
                            AND NOT EXISTS (SELECT 1 FROM replica WHERE content_id = ?1)
                            """, arguments: [contentID])
                }
            }
        }
    }

    static func deleteOrphanManifests(_ db: Database) throws {
        try db.execute(
            sql: """
                DELETE FROM manifest WHERE NOT EXISTS (SELECT 1 FROM media WHERE media.content_id = manifest.content_id)
                AND NOT EXISTS (SELECT 1 FROM replica WHERE replica.content_id = manifest.content_id)
                """)
    }
}
