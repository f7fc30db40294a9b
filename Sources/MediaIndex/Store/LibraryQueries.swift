import ContentID
import ControlWire
import Foundation
import GRDB
import WireVocabulary

/// Read-only queries behind `mediapeerctl library …` and `status`.
enum LibraryQueries {
    static let itemColumns = """
        m.id, r.path AS root, m.rel_path, m.kind, m.mime, m.size, m.mtime_ns, m.content_id, m.metadata_state,
        m.title, m.artist, m.album, m.genre, m.track, m.year, m.duration_ms, m.width, m.height,
        m.date_taken, m.camera_make, m.camera_model, m.orientation, m.video_codec, m.audio_codec
        """

    static func item(from row: Row) -> MediaItem {
        var metadata = MediaMetadata()
        metadata.title = row["title"]
        metadata.artist = row["artist"]
        metadata.album = row["album"]
        metadata.genre = row["genre"]
        metadata.track = row["track"]
        metadata.year = row["year"]
        metadata.durationMilliseconds = row["duration_ms"]
        metadata.width = row["width"]
        metadata.height = row["height"]
        metadata.dateTaken = row["date_taken"]
        metadata.cameraMake = row["camera_make"]
        metadata.cameraModel = row["camera_model"]
        metadata.orientation = row["orientation"]
        metadata.videoCodec = row["video_codec"]
        metadata.audioCodec = row["audio_codec"]
        let contentBytes: [UInt8]? =
            (row["content_id"] as DatabaseValue).isNull ? nil : [UInt8](row["content_id"] as Data)
        let mtime: Int64 = row["mtime_ns"]
        return MediaItem(
            id: row["id"], root: row["root"], path: row["rel_path"],
            kind: MediaKind(rawValue: row["kind"]) ?? .video, mimeType: row["mime"], size: row["size"],
            modified: mtime / 1_000_000_000,
            contentID: contentBytes.flatMap { ContentID(bytes: $0) },
            metadataRead: (row["metadata_state"] as Int) == 1, metadata: metadata)
    }

    static func list(_ db: Database, kind: MediaKind?, limit: Int, offset: Int) throws -> [MediaItem] {
        var sql = "SELECT \(itemColumns) FROM media m JOIN root r ON r.id = m.root_id"
        var arguments: StatementArguments = []
        sql += " WHERE " + kindFilter(kind, column: "m.kind", &arguments)
        sql += " ORDER BY r.path, m.rel_path LIMIT ? OFFSET ?"
        arguments += [limit, offset]
        return try Row.fetchAll(db, sql: sql, arguments: arguments).map(item(from:))
    }

    static func count(_ db: Database, kind: MediaKind?) throws -> Int {
        var arguments: StatementArguments = []
        let filter = kindFilter(kind, column: "kind", &arguments)
        return try Int.fetchOne(db, sql: "SELECT count(*) FROM media WHERE " + filter, arguments: arguments) ?? 0
    }

    /// The condition for `kind`; without one, every kind but subtitles, which are offered with their videos.
    static func kindFilter(_ kind: MediaKind?, column: String, _ arguments: inout StatementArguments) -> String {
        if let kind {
            arguments += [kind.rawValue]
            return "\(column) = ?"
        }
        return "\(column) <> '\(MediaKind.subtitle.rawValue)'"
    }

    /// Full-text search: every word of `text` must match the start of a word in the title, artist, album or path.
    static func search(_ db: Database, text: String, kind: MediaKind?, limit: Int) throws -> [MediaItem] {
        guard let match = ftsQuery(text) else { return [] }
        var sql = """
            SELECT \(itemColumns) FROM media_search s
            JOIN media m ON m.id = s.rowid JOIN root r ON r.id = m.root_id
            WHERE media_search MATCH ?
            """
        var arguments: StatementArguments = [match]
        sql += " AND " + kindFilter(kind, column: "m.kind", &arguments)
        sql += " ORDER BY bm25(media_search, 10.0, 5.0, 5.0, 1.0) LIMIT ?"
        arguments += [limit]
        return try Row.fetchAll(db, sql: sql, arguments: arguments).map(item(from:))
    }

    /// Turns user text into an FTS5 query of quoted prefix terms, so no user input is parsed as FTS syntax.
    static func ftsQuery(_ text: String) -> String? {
        let words = text.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "_" })
        guard !words.isEmpty else { return nil }
        return words.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"*" }.joined(separator: " ")
    }

    /// Finds an item by local id, by full content id, or by a unique content-id prefix of at least 8 hex digits.
    static func item(_ db: Database, reference: String) throws -> MediaItem? {
        if let id = Int64(reference) {
            return try Row.fetchOne(
                db, sql: "SELECT \(itemColumns) FROM media m JOIN root r ON r.id = m.root_id WHERE m.id = ?",
                arguments: [id]
            ).map(item(from:))
        }
        let hex = reference.lowercased()
        guard hex.count >= 8, hex.count <= 64, hex.allSatisfy(\.isHexDigit) else { return nil }
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT \(itemColumns) FROM media m JOIN root r ON r.id = m.root_id
                WHERE hex(m.content_id) LIKE ? ORDER BY m.id LIMIT 2
                """, arguments: [hex.uppercased() + "%"])
        // Several files may share content: they are the same object, so the first is as good as any.
        return rows.first.map(item(from:))
    }

    static func statistics(_ db: Database, databaseBytes: Int64) throws -> LibraryStatistics {
        var kinds: [LibraryStatistics.KindCount] = []
        for row in try Row.fetchAll(
            db,
            sql: "SELECT kind, count(*) AS n, coalesce(sum(size), 0) AS bytes FROM media GROUP BY kind ORDER BY kind")
        {
            if let kind = MediaKind(rawValue: row["kind"]) {
                kinds.append(.init(kind: kind, files: row["n"], bytes: row["bytes"]))
            }
        }
        let awaiting = try Int.fetchOne(db, sql: "SELECT count(*) FROM media WHERE content_id IS NULL") ?? 0
        return LibraryStatistics(
            kinds: kinds, files: kinds.reduce(0) { $0 + $1.files }, bytes: kinds.reduce(0) { $0 + $1.bytes },
            awaitingHash: awaiting, generation: try generation(db), databaseBytes: databaseBytes)
    }

    static func generation(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'generation'") ?? 0
    }
}
