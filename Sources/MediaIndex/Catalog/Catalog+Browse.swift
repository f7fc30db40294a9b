import ContentID
import ControlWire
import Foundation
import GRDB
import Synchronization
import WireVocabulary

/// A list of the home's objects, as a media browser (the DLNA tree) shows one container.
public enum HomeShelf: Sendable, Hashable {
    /// Every object of a kind.
    case kind(MediaKind)
    /// The audio tracks of an artist (`""`: tracks without one).
    case artist(String)
    /// The audio tracks of an album (`""`: tracks without one).
    case album(String)
    /// The photos taken in a month, `2024-06` (`""`: photos without a date, and a neighbour's photo whose box is
    /// older than the catalog's `dateTaken`).
    case month(String)
    /// What a box holds completely: this box (nil: its files and complete replicas) or an online neighbour.
    case box(peerID: String?)
}

/// How a media browser groups tracks and photos.
public enum HomeGrouping: Sendable, Equatable {
    case artists, albums, months
}

/// A group of a ``HomeGrouping`` and how many objects it has.
public struct HomeGroup: Sendable, Equatable {
    /// The artist or album as stored, or `2024-06`; `""` for the objects without one.
    public var key: String
    public var count: Int

    public init(key: String, count: Int) {
        self.key = key
        self.count = count
    }
}

/// One object of the home with what a media browser shows beyond a ``HomeItem``.
public struct HomeEntry: Sendable, Equatable {
    public var item: HomeItem
    /// When a photo was taken (ISO 8601, as the EXIF reader normalised it; a neighbour's from its catalog).
    public var dateTaken: String?

    public init(item: HomeItem, dateTaken: String?) {
        self.item = item
        self.dateTaken = dateTaken
    }
}

/// The queries of the DLNA tree: pages and counts of the home's objects (this box's hashed files and complete
/// replicas, and the `online` neighbours' catalogs), one entry per content, by kind, artist, album, month and box.
///
/// Each page is ordered by title then content id, so paging through a container sees every object once. The
/// media kinds are the three a browser shows; a kind the index learns later is left out until asked for.
extension Catalog {
    /// A page of a shelf, and the size of the whole shelf (`limit` 0 asks only for that).
    public func browseHome(_ shelf: HomeShelf, online: [String], limit: Int, offset: Int) async throws(IndexError)
        -> (entries: [HomeEntry], total: Int)
    {
        try await page(of: Self.shelfQuery(shelf, online: online), limit: limit, offset: offset)
    }

    /// Every object of a shelf, in the order ``browseHome(_:online:limit:offset:)`` pages them. A browser that
    /// pages a large shelf keeps this list (while ``homeVersion()`` stays the same) and asks
    /// ``homeEntries(_:online:)`` for each page: one ordering of 20,000 objects instead of one per page.
    public func homeOrder(_ shelf: HomeShelf, online: [String]) async throws(IndexError) -> [ContentID] {
        let query = Self.shelfQuery(shelf, online: online)
        return try await read { db in
            try Data.fetchAll(
                db, sql: "SELECT content_id \(query.sql) ORDER BY sort_key, content_id", arguments: query.arguments
            ).compactMap { ContentID(bytes: $0) }
        }
    }

    /// The entries of these objects, in the same order; those no longer in the home are left out.
    public func homeEntries(_ ids: [ContentID], online: [String]) async throws(IndexError) -> [HomeEntry] {
        guard !ids.isEmpty else { return [] }
        let query = Self.homeQuery(kind: nil, online: online, contentIDs: ids)
        let entries = try await read { db in
            try Self.homeEntries(db, sql: "SELECT * \(query.sql)", arguments: query.arguments)
        }
        let byID = Dictionary(entries.map { ($0.item.id, $0) }, uniquingKeysWith: { first, _ in first })
        return ids.compactMap { byID[$0] }
    }

    /// A text that changes whenever what the browse queries answer may have: this box's catalog generation, and
    /// the neighbours' synced generations and stored objects.
    public func homeVersion() async throws(IndexError) -> String {
        try await read { db in
            try String.fetchOne(
                db,
                sql: """
                    SELECT (SELECT value FROM meta WHERE key = 'generation') || '/' || count(*) || '/'
                        || coalesce(sum(synced_generation), 0) || '/' || coalesce(sum(object_count), 0) || '/'
                        || coalesce(sum(byte_count), 0)
                    FROM remote_peer
                    """) ?? ""
        }
    }

    /// A page of a shelf as ``browseHome(_:online:limit:offset:)`` gives it, through the shelf's order kept in
    /// `orders`: a TV paging a container of 20,000 objects 50 to 200 at a time has it ordered once per catalog
    /// version, and each page reads only its own objects.
    public func browseHome(
        _ shelf: HomeShelf, online: [String], limit: Int, offset: Int, orders: HomeShelfOrders
    ) async throws(IndexError) -> (entries: [HomeEntry], total: Int) {
        let key = HomeShelfOrders.Key(shelf: shelf, online: online.sorted(), version: try await homeVersion())
        let order: [ContentID]
        if let kept = orders.order(for: key) {
            order = kept
        } else if limit <= 0 {
            // A child count: counted, without keeping an order nobody pages.
            return ([], try await countHome(shelf, online: online))
        } else {
            order = try await homeOrder(shelf, online: online)
            orders.keep(order, for: key)
        }
        let ids = Array(order.dropFirst(max(0, offset)).prefix(max(0, limit)))
        return (try await homeEntries(ids, online: online), order.count)
    }

    /// How many objects a shelf has.
    public func countHome(_ shelf: HomeShelf, online: [String]) async throws(IndexError) -> Int {
        try await browseHome(shelf, online: online, limit: 0, offset: 0).total
    }

    /// A page of the groups (artists and albums by name, months newest first with the undated last), and how many
    /// there are.
    public func homeGroups(_ grouping: HomeGrouping, online: [String], limit: Int, offset: Int)
        async throws(IndexError) -> (groups: [HomeGroup], total: Int)
    {
        let (kind, key) = Self.grouping(grouping)
        let query = Self.homeQuery(kind: kind, online: online)
        let order = grouping == .months ? "key = '', key DESC" : "key = '', lower(key), key"
        return try await read { db in
            let total =
                try Int.fetchOne(
                    db, sql: "SELECT count(DISTINCT \(key)) \(query.sql)", arguments: query.arguments) ?? 0
            guard limit > 0 else { return ([], total) }
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT \(key) AS key, count(*) AS n \(query.sql) GROUP BY 1 ORDER BY \(order) LIMIT ? OFFSET ?",
                arguments: query.arguments + [limit, max(0, offset)])
            return (rows.map { HomeGroup(key: $0["key"], count: $0["n"]) }, total)
        }
    }

    /// One group; nil when it has no object.
    public func homeGroup(_ grouping: HomeGrouping, key: String, online: [String]) async throws(IndexError)
        -> HomeGroup?
    {
        let shelf: HomeShelf =
            switch grouping {
            case .artists: .artist(key)
            case .albums: .album(key)
            case .months: .month(key)
            }
        let count = try await countHome(shelf, online: online)
        return count == 0 ? nil : HomeGroup(key: key, count: count)
    }

    /// One object of the home; nil when neither this box nor an online neighbour holds it.
    public func homeEntry(_ id: ContentID, online: [String]) async throws(IndexError) -> HomeEntry? {
        let query = Self.homeQuery(kind: nil, online: online, contentIDs: [id])
        return try await read { db in
            try Self.homeEntries(db, sql: "SELECT * \(query.sql)", arguments: query.arguments).first
        }
    }

    /// A page of the objects of `kinds` whose titles, artists, albums or paths hold every word of `text` (all of
    /// them when it has none), and how many there are.
    public func searchHome(_ text: String, kinds: Set<MediaKind>, online: [String], limit: Int, offset: Int)
        async throws(IndexError) -> (entries: [HomeEntry], total: Int)
    {
        let match = LibraryQueries.ftsQuery(text)
        var matching = Self.homeQuery(kind: nil, online: online, match: match)
        let kindList = String(
            decoding: (try? JSONEncoder().encode(kinds.map(\.rawValue).sorted())) ?? Data(), as: UTF8.self)
        matching.sql += " WHERE kind IN (SELECT value FROM json_each(?))"
        matching.arguments += [kindList]
        return try await page(of: matching, limit: limit, offset: offset)
    }

    /// A page of a query's objects in title order, and how many it has in all.
    private func page(of query: HomeQuery, limit: Int, offset: Int) async throws(IndexError)
        -> (entries: [HomeEntry], total: Int)
    {
        try await read { db in
            let total = try Int.fetchOne(db, sql: "SELECT count(*) \(query.sql)", arguments: query.arguments) ?? 0
            guard limit > 0 else { return ([], total) }
            let entries = try Self.homeEntries(
                db, sql: "SELECT * \(query.sql) ORDER BY sort_key, content_id LIMIT ? OFFSET ?",
                arguments: query.arguments + [limit, max(0, offset)])
            return (entries, total)
        }
    }

    // MARK: SQL

    /// A `FROM … [WHERE …]` clause over the home's objects, one row per content.
    struct HomeQuery {
        var sql: String
        var arguments: StatementArguments
    }

    private static let browsedKinds = "('video', 'audio', 'image')"

    private static func grouping(_ grouping: HomeGrouping) -> (MediaKind, String) {
        switch grouping {
        case .artists: (.audio, "coalesce(artist, '')")
        case .albums: (.audio, "coalesce(album, '')")
        case .months: (.image, "coalesce(substr(date, 1, 7), '')")
        }
    }

    static func shelfQuery(_ shelf: HomeShelf, online: [String]) -> HomeQuery {
        switch shelf {
        case .kind(let kind):
            return homeQuery(kind: kind, online: online)
        case .artist(let key), .album(let key), .month(let key):
            let grouping: HomeGrouping =
                switch shelf {
                case .artist: .artists
                case .album: .albums
                default: .months
                }
            let (kind, column) = Self.grouping(grouping)
            var query = homeQuery(kind: kind, online: online)
            query.sql += " WHERE \(column) = ?"
            query.arguments += [key]
            return query
        case .box(let peerID):
            return homeQuery(kind: nil, online: online, box: .some(peerID))
        }
    }

    /// The home's objects grouped by content.
    ///
    /// - parameter box: `.some(nil)`: this box's objects only; `.some(peer)`: what that neighbour holds completely.
    /// - parameter match: an FTS5 query: local files through `media_search`, neighbours' objects through
    ///   `remote_search` (replicas are found through their holders' catalogs, as `searchHome` does).
    static func homeQuery(
        kind: MediaKind?, online: [String], box: String?? = nil, contentIDs: [ContentID] = [], match: String? = nil
    ) -> HomeQuery {
        let kinds = kind.map { "('\($0.rawValue)')" } ?? browsedKinds
        var local: [String] = ["content_id IS NOT NULL", "kind IN \(kinds)"]
        var replica: [String] = ["complete = 1", "kind IN \(kinds)"]
        var remote: [String] = ["kind IN \(kinds)"]
        var localArguments: [(any DatabaseValueConvertible)?] = []
        var replicaArguments: [(any DatabaseValueConvertible)?] = []
        var remoteArguments: [(any DatabaseValueConvertible)?] = []
        switch box {
        case .none:
            let onlineJSON = String(decoding: (try? JSONEncoder().encode(online)) ?? Data(), as: UTF8.self)
            remote.append("peer_id IN (SELECT value FROM json_each(?))")
            remoteArguments.append(onlineJSON)
        case .some(.none):
            remote.append("0")
        case .some(.some(let peerID)):
            local.append("0")
            replica.append("0")
            remote += ["peer_id = ?", "complete = 1"]
            remoteArguments.append(online.contains(peerID) ? peerID : "")
        }
        // The neighbours' objects of a page are looked up by the content id index, not by the peer's: SQLite
        // otherwise chose the index on (peer_id, kind) and read the neighbour's whole catalog for each Browse page
        // of 100 objects (9 ms of a 20,000-title catalog, against 0.4 ms).
        let remoteTable = contentIDs.isEmpty ? "remote_object" : "remote_object INDEXED BY remote_by_content"
        if !contentIDs.isEmpty {
            // Placeholders rather than json_each: the content id indexes are used, and the system SQLite may be
            // older than unhex().
            let blobs = contentIDs.map { Data($0.bytes) }
            let condition = "content_id IN (" + Array(repeating: "?", count: blobs.count).joined(separator: ", ") + ")"
            local.append(condition)
            localArguments += blobs
            replica.append(condition)
            replicaArguments += blobs
            remote.append(condition)
            remoteArguments += blobs
        }
        if let match {
            local.append("id IN (SELECT rowid FROM media_search WHERE media_search MATCH ?)")
            localArguments.append(match)
            replica.append("0")
            remote.append("id IN (SELECT rowid FROM remote_search WHERE remote_search MATCH ?)")
            remoteArguments.append(match)
        }
        let columns = "content_id, kind, mime, size, title, artist, album, duration_ms, width, height"
        let sql = """
            FROM (
                SELECT content_id, max(local) AS local, group_concat(DISTINCT holder) AS holders, min(path) AS path,
                    kind, mime, size, max(title) AS title, max(artist) AS artist, max(album) AS album,
                    max(duration_ms) AS duration_ms, max(width) AS width, max(height) AS height, max(date) AS date,
                    lower(coalesce(max(title), min(path))) AS sort_key
                FROM (
                    SELECT \(columns), rel_path AS path, date_taken AS date, 1 AS local, NULL AS holder
                    FROM media WHERE \(local.joined(separator: " AND "))
                    UNION ALL
                    SELECT \(columns), name, NULL, 1, NULL FROM replica WHERE \(replica.joined(separator: " AND "))
                    UNION ALL
                    SELECT \(columns), name, date_taken, 0, CASE complete WHEN 1 THEN peer_id END
                    FROM \(remoteTable) WHERE \(remote.joined(separator: " AND "))
                )
                GROUP BY content_id
            )
            """
        return HomeQuery(
            sql: sql, arguments: StatementArguments(localArguments + replicaArguments + remoteArguments))
    }

    /// The objects of a home query (`SELECT * FROM` ``homeQuery(kind:online:contentIDs:match:)``); rows that are
    /// not objects (no kind or content id) are left out.
    private static func homeEntries(_ db: Database, sql: String, arguments: StatementArguments) throws
        -> [HomeEntry]
    {
        let statement = try db.makeStatement(sql: sql)
        let columns = try HomeColumns(statement)
        return try Row.fetchAll(statement, arguments: arguments).compactMap(columns.entry(from:))
    }
}

/// The orders of the shelves paged last, for as long as the catalog's version stays the same. A few only: each
/// costs about 70 bytes per object.
public final class HomeShelfOrders: Sendable {
    struct Key: Hashable, Sendable {
        var shelf: HomeShelf
        var online: [String]
        var version: String
    }

    static let capacity = 3
    /// Most recently used last.
    private let entries = Mutex<[(key: Key, order: [ContentID])]>([])

    public init() {}

    func order(for key: Key) -> [ContentID]? {
        entries.withLock { entries in
            guard let index = entries.firstIndex(where: { $0.key == key }) else { return nil }
            let entry = entries.remove(at: index)
            entries.append(entry)
            return entry.order
        }
    }

    func keep(_ order: [ContentID], for key: Key) {
        entries.withLock { entries in
            entries.removeAll { $0.key == key || $0.key.version != key.version }
            entries.append((key, order))
            if entries.count > Self.capacity { entries.removeFirst(entries.count - Self.capacity) }
        }
    }
}

/// Where each field of a home query's rows is, found once per statement. GRDB finds a column by name
/// case-insensitively, lowercasing every column name at each lookup: on a Browse page of 100 objects, that cost
/// more than the query.
private struct HomeColumns {
    let kind, contentID, holders, mime, size, path, title, artist, album, duration, width, height, local, date: Int

    init(_ statement: Statement) throws {
        func index(_ name: String) throws -> Int {
            guard let index = statement.index(ofColumn: name) else {
                throw DatabaseError(message: "the home query has no column \(name)")
            }
            return index
        }
        (kind, contentID, holders, mime, size, path) = (
            try index("kind"), try index("content_id"), try index("holders"), try index("mime"), try index("size"),
            try index("path")
        )
        (title, artist, album, duration, width, height, local, date) = (
            try index("title"), try index("artist"), try index("album"), try index("duration_ms"),
            try index("width"), try index("height"), try index("local"), try index("date")
        )
    }

    func entry(from row: Row) -> HomeEntry? {
        guard let kind = MediaKind(rawValue: row[kind]), let id = ContentID(bytes: row[contentID] as Data) else {
            return nil
        }
        let holders = (row[holders] as String?).map { $0.split(separator: ",").map(String.init).sorted() } ?? []
        let item = HomeItem(
            id: id, kind: kind, mimeType: row[mime], size: row[size], path: row[path], title: row[title],
            artist: row[artist], album: row[album], durationMilliseconds: row[duration], width: row[width],
            height: row[height], local: (row[local] as Int) == 1, holders: holders)
        return HomeEntry(item: item, dateTaken: row[date])
    }
}
