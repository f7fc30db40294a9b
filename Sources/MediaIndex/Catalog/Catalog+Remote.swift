import ContentID
import ControlWire
import Foundation
import GRDB
import MediaProbe
import PeerWire
import WireVocabulary

/// The neighbours' catalogs, kept in SQLite so that listing and searching the whole home is a local query, and so
/// that a restart syncs only what changed.
extension Catalog {
    public func remoteSyncState(peerID: String) async throws(IndexError) -> RemoteSyncState? {
        try await read { db in
            try RemotePeerRow.fetchOne(
                db, sql: "SELECT epoch, synced_generation FROM remote_peer WHERE peer_id = ?",
                arguments: [peerID]
            )
            .map { RemoteSyncState(epoch: $0.epoch, syncedGeneration: $0.syncedGeneration) }
        }
    }

    private struct RemotePeerRow: Decodable, FetchableRecord {
        var epoch: String?
        var syncedGeneration: Int64
        static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    }

    /// Applies one page of a neighbour's catalog delta in one transaction, within `limits`.
    ///
    /// Entries are applied in order until one would take the peer's catalog beyond a limit: that one and those
    /// after it are left out, and the outcome says which limit was reached. Updates and removals of objects already
    /// stored never count against the object limit. Strings are stored at most ``PeerLimits`` bytes long whatever
    /// the caller checked.
    ///
    /// - parameter restart: drop what is known of the peer first (its epoch changed, or it went backwards).
    /// - Once a page says no more entries follow and was applied whole, the peer counts as synced up to the page's
    ///   generation, and as seen.
    @discardableResult
    public func applyRemoteDelta(
        peerID: String, name: String, delta: CatalogDelta, restart: Bool, limits: RemoteCatalogLimits = .unlimited
    ) async throws(IndexError) -> RemoteDeltaOutcome {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO remote_peer(peer_id, name) VALUES (?, ?) ON CONFLICT(peer_id) DO UPDATE SET name = excluded.name
                    """, arguments: [peerID, DisplayText.prefix(name, utf8Bytes: PeerLimits.maxPeerNameBytes)])
            if restart {
                try db.execute(sql: "DELETE FROM remote_object WHERE peer_id = ?", arguments: [peerID])
                try db.execute(
                    sql: "UPDATE remote_peer SET synced_generation = 0, epoch = NULL WHERE peer_id = ?",
                    arguments: [peerID])
            }
            let counts = try Row.fetchOne(
                db, sql: "SELECT object_count, byte_count FROM remote_peer WHERE peer_id = ?", arguments: [peerID])
            var objects: Int = counts?["object_count"] ?? 0
            var bytes: Int64 = counts?["byte_count"] ?? 0
            let stored = try db.cachedStatement(
                sql: "SELECT \(Self.rowBytes) FROM remote_object WHERE peer_id = ? AND content_id = ?")
            let delete = try db.cachedStatement(sql: "DELETE FROM remote_object WHERE peer_id = ? AND content_id = ?")
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO remote_object(peer_id, content_id, complete, size, kind, mime, name, title, artist, album,
                        duration_ms, width, height, date_taken, has_thumbnail)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(peer_id, content_id) DO UPDATE SET
                        complete = excluded.complete, size = excluded.size, kind = excluded.kind, mime = excluded.mime,
                        name = excluded.name, title = excluded.title, artist = excluded.artist, album = excluded.album,
                        duration_ms = excluded.duration_ms, width = excluded.width, height = excluded.height,
                        date_taken = excluded.date_taken, has_thumbnail = excluded.has_thumbnail
                    """)
            var applied = 0
            var limitReached: RemoteDeltaOutcome.Limit?
            for entry in delta.entries {
                let id = Data(entry.id.bytes)
                let old = try Int64.fetchOne(stored, arguments: [peerID, id])
                guard !entry.removed, let kind = entry.kind else {
                    try delete.execute(arguments: [peerID, id])
                    if let old {
                        objects -= 1
                        bytes -= old
                    }
                    applied += 1
                    continue
                }
                let row = StoredRemoteStrings(entry)
                if old == nil, objects >= limits.maxObjects {
                    limitReached = .objects
                    break
                }
                if row.bytes > old ?? 0, bytes - (old ?? 0) + row.bytes > limits.maxBytes {
                    limitReached = .bytes
                    break
                }
                // Photos' only, and only in the form this box's EXIF reader writes (the browse month is its prefix).
                let isPhoto = kind == .image
                try upsert.execute(arguments: [
                    peerID, id, entry.complete, max(0, entry.size), kind.rawValue, row.mime, row.name, row.title,
                    row.artist, row.album, entry.durationMilliseconds, entry.width, entry.height,
                    entry.dateTaken.flatMap { isPhoto && PeerLimits.isValidDateTaken($0) ? $0 : nil },
                    isPhoto && entry.hasThumbnail == true,
                ])
                if old == nil { objects += 1 }
                bytes += row.bytes - (old ?? 0)
                applied += 1
            }
            if !delta.more, limitReached == nil {
                try db.execute(
                    sql: """
                        UPDATE remote_peer SET epoch = ?, synced_generation = ?, synced_at = ?, unseen_since = NULL
                        WHERE peer_id = ?
                        """, arguments: [delta.epoch, delta.generation, Int64(time(nil)), peerID])
            }
            return RemoteDeltaOutcome(applied: applied, limitReached: limitReached)
        }
    }

    /// What a stored row costs in the per-peer byte budget; the same sum as the triggers of the
    /// `remote-peer-unseen` migration.
    private static let rowBytes = """
        64 + length(CAST(mime AS BLOB)) + length(CAST(name AS BLOB)) + coalesce(length(CAST(title AS BLOB)), 0)
            + coalesce(length(CAST(artist AS BLOB)), 0) + coalesce(length(CAST(album AS BLOB)), 0)
        """

    /// The strings of a remote object as they are stored, and what they cost.
    private struct StoredRemoteStrings {
        var mime: String
        var name: String
        var title: String?
        var artist: String?
        var album: String?
        var bytes: Int64

        init(_ entry: CatalogEntry) {
            mime = DisplayText.prefix(
                entry.mimeType ?? "application/octet-stream", utf8Bytes: PeerLimits.maxMimeTypeBytes)
            name = DisplayText.prefix(entry.path ?? entry.id.hex, utf8Bytes: PeerLimits.maxCatalogPathBytes)
            title = entry.title.map { DisplayText.prefix($0, utf8Bytes: PeerLimits.maxCatalogTextBytes) }
            artist = entry.artist.map { DisplayText.prefix($0, utf8Bytes: PeerLimits.maxCatalogTextBytes) }
            album = entry.album.map { DisplayText.prefix($0, utf8Bytes: PeerLimits.maxCatalogTextBytes) }
            bytes =
                PeerLimits.catalogRowOverheadBytes + Int64(mime.utf8.count) + Int64(name.utf8.count)
                + Int64(title?.utf8.count ?? 0) + Int64(artist?.utf8.count ?? 0) + Int64(album?.utf8.count ?? 0)
        }
    }

    /// How many objects of a neighbour's catalog are stored, and what they cost in the byte budget of
    /// ``RemoteCatalogLimits``; nil for a peer never synced.
    public func remoteCatalogSize(peerID: String) async throws(IndexError) -> (objects: Int, bytes: Int64)? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT object_count, byte_count FROM remote_peer WHERE peer_id = ?", arguments: [peerID]
            ).map { (objects: $0["object_count"], bytes: $0["byte_count"]) }
        }
    }

    // MARK: Forgetting neighbours

    /// A neighbour was seen (its catalog found up to date): it is no longer counted as unseen. Writes only when
    /// it was.
    public func remotePeerSeen(peerID: String) async throws(IndexError) {
        let unseen = try await read { db in
            try Int64.fetchOne(db, sql: "SELECT unseen_since FROM remote_peer WHERE peer_id = ?", arguments: [peerID])
        }
        guard unseen != nil else { return }
        try await write { db in
            try db.execute(sql: "UPDATE remote_peer SET unseen_since = NULL WHERE peer_id = ?", arguments: [peerID])
        }
    }

    /// A neighbour left at `time` (unix seconds); a peer already unseen keeps the earlier time.
    public func remotePeerLeft(peerID: String, at time: Int64) async throws(IndexError) {
        try await write { db in
            try db.execute(
                sql: "UPDATE remote_peer SET unseen_since = ? WHERE peer_id = ? AND unseen_since IS NULL",
                arguments: [time, peerID])
        }
    }

    /// At start no neighbour is seen yet: those the last run did not see leave were seen last when it stopped,
    /// which `time` (unix seconds, now) stands for.
    public func remotePeersUnseen(since time: Int64) async throws(IndexError) {
        try await write { db in
            try db.execute(sql: "UPDATE remote_peer SET unseen_since = ? WHERE unseen_since IS NULL", arguments: [time])
        }
    }

    /// Deletes the catalogs of the neighbours unseen since before `time` (unix seconds), except those in `seen`,
    /// and returns their ids. Reads first, so a box with nothing to forget writes nothing.
    public func forgetRemotePeers(unseenBefore time: Int64, except seen: Set<String>) async throws(IndexError)
        -> [String]
    {
        let expired = try await read { db in
            try String.fetchAll(
                db, sql: "SELECT peer_id FROM remote_peer WHERE unseen_since < ? ORDER BY peer_id", arguments: [time])
        }.filter { !seen.contains($0) }
        guard !expired.isEmpty else { return [] }
        try await write { db in
            for peerID in expired {
                try db.execute(
                    sql: "DELETE FROM remote_peer WHERE peer_id = ? AND unseen_since < ?", arguments: [peerID, time])
            }
        }
        return expired
    }

    /// Deletes everything known of a neighbour's catalog at once.
    public func forgetRemotePeer(peerID: String) async throws(IndexError) {
        try await write { db in
            try db.execute(sql: "DELETE FROM remote_peer WHERE peer_id = ?", arguments: [peerID])
        }
    }

    /// The neighbours whose catalogs list an object, complete holders first.
    public func remoteHolders(of id: ContentID) async throws(IndexError) -> [RemoteHolder] {
        try await read { db in try Self.remoteHolders(db, of: id) }
    }

    static func remoteHolders(_ db: Database, of id: ContentID) throws -> [RemoteHolder] {
        try RemoteObjectRow.fetchAll(
            db,
            sql: """
                SELECT peer_id, complete FROM remote_object WHERE content_id = ? ORDER BY complete DESC, peer_id
                """, arguments: [Data(id.bytes)]
        ).map { RemoteHolder(peerID: $0.peerId, complete: $0.complete) }
    }

    private struct RemoteObjectRow: Decodable, FetchableRecord {
        var peerId: String
        var complete: Bool
        static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    }

    /// How a neighbour's catalog describes an object (for the replica's own catalog entry).
    public func remoteDescription(of id: ContentID) async throws(IndexError) -> CatalogEntry? {
        try await read { db in try Self.remoteDescription(db, of: id) }
    }

    static func remoteDescription(_ db: Database, of id: ContentID) throws -> CatalogEntry? {
        try Row.fetchOne(
            db,
            sql: """
                SELECT content_id AS cid, 0 AS gen, 0 AS removed, complete, size, kind, mime, name AS path, title, artist,
                    album, duration_ms, width, height, date_taken, has_thumbnail
                FROM remote_object WHERE content_id = ? ORDER BY complete DESC LIMIT 1
                """, arguments: [Data(id.bytes)]
        ).flatMap(Self.entry(from:))
    }

    /// The title an object is shown under: that of a file of this box, else of a replica, else of a neighbour's
    /// catalog entry (a complete holder's first); nil when nobody here knows the object.
    public func title(of id: ContentID) async throws(IndexError) -> String? {
        try await read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT title, path FROM (
                        SELECT title, rel_path AS path, 0 AS rank FROM media WHERE content_id = :id
                        UNION ALL SELECT title, name, 1 FROM replica WHERE content_id = :id
                        UNION ALL SELECT title, name, 3 - complete FROM remote_object WHERE content_id = :id)
                    ORDER BY rank LIMIT 1
                    """, arguments: ["id": Data(id.bytes)])
            return row.flatMap { DisplayTitle.of(title: $0["title"], path: $0["path"]) }
        }
    }

    /// The file name (path below its media folder) and MIME type an object is known by, chosen as ``title(of:)``
    /// chooses: a file of this box's, else a replica's, else a neighbour's catalog entry. Nil when nobody here knows
    /// the object.
    public func fileName(of id: ContentID) async throws(IndexError) -> (path: String, mimeType: String)? {
        try await read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT path, mime FROM (
                        SELECT rel_path AS path, mime, 0 AS rank FROM media WHERE content_id = :id
                        UNION ALL SELECT name, mime, 1 FROM replica WHERE content_id = :id
                        UNION ALL SELECT name, mime, 3 - complete FROM remote_object WHERE content_id = :id)
                    ORDER BY rank LIMIT 1
                    """, arguments: ["id": Data(id.bytes)])
            return row.map { (path: $0["path"] ?? "", mimeType: $0["mime"] ?? "") }
        }
    }

    /// Content ids known in the home (here or at a neighbour) that start with `prefix` (at least 8 hex digits).
    public func contentIDs(withPrefix prefix: String, limit: Int = 2) async throws(IndexError) -> [ContentID] {
        let hex = prefix.lowercased()
        guard hex.count >= 8, hex.count <= 64, hex.allSatisfy(\.isHexDigit) else { return [] }
        return try await read { db in
            try Data.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT content_id FROM (
                        SELECT content_id FROM media WHERE content_id IS NOT NULL
                        UNION ALL SELECT content_id FROM replica
                        UNION ALL SELECT content_id FROM remote_object)
                    WHERE hex(content_id) LIKE ? LIMIT ?
                    """, arguments: [hex.uppercased() + "%", limit]
            ).compactMap { ContentID(bytes: $0) }
        }
    }

    /// Every object in the home: this box's files and complete replicas, and what the `online` neighbours' catalogs
    /// list, one entry per content, ordered by title.
    public func listHome(kind: MediaKind?, limit: Int, offset: Int, online: [String]) async throws(IndexError) -> (
        items: [HomeItem], total: Int
    ) {
        try await read { db in
            var (objects, arguments) = try Self.homeObjects(online: online, kind: kind)
            let total =
                try Int.fetchOne(
                    db, sql: "SELECT count(DISTINCT key) FROM (\(objects))", arguments: StatementArguments(arguments))
                ?? 0
            arguments["limit"] = limit
            arguments["offset"] = offset
            let rows = try Row.fetchAll(
                db,
                sql: Self.homeGrouping(objects)
                    + " ORDER BY lower(coalesce(title, path)), key LIMIT :limit OFFSET :offset",
                arguments: StatementArguments(arguments))
            return (rows.compactMap(Self.homeItem(from:)), total)
        }
    }

    /// Full-text search over this box and the `online` neighbours' catalogs (titles, artists, albums, paths).
    public func searchHome(_ text: String, kind: MediaKind?, limit: Int, online: [String]) async throws(IndexError)
        -> [HomeItem]
    {
        guard let match = LibraryQueries.ftsQuery(text) else { return [] }
        return try await read { db in
            var (objects, arguments) = try Self.homeObjects(online: online, kind: kind, match: match)
            arguments["limit"] = limit
            let rows = try Row.fetchAll(
                db, sql: Self.homeGrouping(objects) + " ORDER BY lower(coalesce(title, path)), key LIMIT :limit",
                arguments: StatementArguments(arguments))
            return rows.compactMap(Self.homeItem(from:))
        }
    }

    private static func homeObjects(online: [String], kind: MediaKind?, match: String? = nil) throws -> (
        String, [String: (any DatabaseValueConvertible)?]
    ) {
        let onlineJSON = String(decoding: try JSONEncoder().encode(online), as: UTF8.self)
        let columns = "kind, mime, size, title, artist, album, duration_ms, width, height"
        // Without a kind, subtitles are left out: they are offered with their videos.
        let kindFilter = kind == nil ? " AND kind <> '\(MediaKind.subtitle.rawValue)'" : " AND kind = :kind"
        let localMatch =
            match == nil ? "" : " AND id IN (SELECT rowid FROM media_search WHERE media_search MATCH :match)"
        let remoteMatch =
            match == nil ? "" : " AND id IN (SELECT rowid FROM remote_search WHERE remote_search MATCH :match)"
        let replicaMatch = match == nil ? " AND 1" : " AND 0"  // replicas are found through the holders' catalogs
        let sql = """
            SELECT coalesce(hex(content_id), 'local:' || id) AS key, content_id, rel_path AS path, \(columns),
                1 AS local, NULL AS holder
            FROM media WHERE 1\(kindFilter)\(localMatch)
            UNION ALL
            SELECT hex(content_id), content_id, name, \(columns), 1, NULL
            FROM replica WHERE complete = 1\(kindFilter)\(replicaMatch)
            UNION ALL
            SELECT hex(content_id), content_id, name, \(columns), 0, CASE complete WHEN 1 THEN peer_id END
            FROM remote_object WHERE peer_id IN (SELECT value FROM json_each(:online))\(kindFilter)\(remoteMatch)
            """
        var arguments: [String: (any DatabaseValueConvertible)?] = ["online": onlineJSON]
        if let kind { arguments["kind"] = kind.rawValue }
        if let match { arguments["match"] = match }
        return (sql, arguments)
    }

    private static func homeGrouping(_ objects: String) -> String {
        """
        SELECT key, content_id, max(local) AS local, group_concat(DISTINCT holder) AS holders,
            min(path) AS path, kind, mime, size, max(title) AS title, max(artist) AS artist, max(album) AS album,
            max(duration_ms) AS duration_ms, max(width) AS width, max(height) AS height
        FROM (\(objects)) GROUP BY key
        """
    }

    private static func homeItem(from row: Row) -> HomeItem? {
        guard let kind = MediaKind(rawValue: row["kind"]) else { return nil }
        let id = (row["content_id"] as Data?).flatMap { ContentID(bytes: $0) }
        let holders = (row["holders"] as String?).map { $0.split(separator: ",").map(String.init).sorted() } ?? []
        return HomeItem(
            id: id, kind: kind, mimeType: row["mime"], size: row["size"], path: row["path"], title: row["title"],
            artist: row["artist"], album: row["album"], durationMilliseconds: row["duration_ms"], width: row["width"],
            height: row["height"], local: (row["local"] as Int) == 1, holders: holders)
    }
}
