import Foundation
import GRDB
import WireVocabulary

/// This box's demand for one title: decayed counts of plays, fetches by hand and requests served to other boxes,
/// each the count at ``at`` (unix seconds; all three brought to the same instant when the row is written).
public struct LocalDemandRecord: Sendable, Equatable {
    public var id: ContentID
    public var plays: Double
    public var fetches: Double
    public var served: Double
    public var at: Double

    public init(id: ContentID, plays: Double, fetches: Double, served: Double, at: Double) {
        self.id = id
        self.plays = plays
        self.fetches = fetches
        self.served = served
        self.at = at
    }
}

/// A neighbour's demand for one title, as its latest digest stated it: the count at ``at`` (unix seconds).
public struct RemoteDemandRecord: Sendable, Equatable {
    public var peerID: String
    public var id: ContentID
    public var value: Double
    public var at: Double

    public init(peerID: String, id: ContentID, value: Double, at: Double) {
        self.peerID = peerID
        self.id = id
        self.value = value
        self.at = at
    }
}

/// How much of the time a neighbour has been online lately: decayed seconds it was seen online over decayed
/// seconds it was watched for, both as of ``at`` (unix seconds), and whether it was online then.
public struct PresenceRecord: Sendable, Equatable {
    public var peerID: String
    public var seenSeconds: Double
    public var knownSeconds: Double
    /// Nil: never watched.
    public var at: Double?
    public var present: Bool

    public init(peerID: String, seenSeconds: Double, knownSeconds: Double, at: Double?, present: Bool) {
        self.peerID = peerID
        self.seenSeconds = seenSeconds
        self.knownSeconds = knownSeconds
        self.at = at
        self.present = present
    }
}

/// What the home knows of a title in demand, for listing it: its title and kind, whether this box holds it whole,
/// and the neighbours whose catalogs list it complete.
public struct DemandTitleFacts: Sendable, Equatable {
    public var title: String
    public var kind: MediaKind?
    public var heldHere: Bool
    public var holders: [String]
}

/// Demand: the counts this box keeps of its own plays, fetches and served requests, the neighbours' digests, and
/// the neighbours' presence. The decay arithmetic is the caller's (`Replication`'s `DemandLedger`); these are
/// the rows. None of these writes moves the catalog generation.
extension Catalog {
    /// Every title this box has demand figures for.
    public func localDemand() async throws(IndexError) -> [LocalDemandRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT content_id, plays, fetches, served, at FROM demand").compactMap { row in
                guard let id = ContentID(bytes: row["content_id"] as Data) else { return nil }
                return LocalDemandRecord(
                    id: id, plays: row["plays"], fetches: row["fetches"], served: row["served"], at: row["at"])
            }
        }
    }

    /// The latest instant a demand figure was written at (unix seconds); nil when none was.
    public func lastDemandWrite() async throws(IndexError) -> Double? {
        try await read { db in try Double.fetchOne(db, sql: "SELECT max(at) FROM demand") }
    }

    /// Rewrites the demand rows of `ids` in one transaction: `merge` gets each stored row (nil when there is none)
    /// and returns the row to store, or nil to delete it.
    public func updateLocalDemand(
        _ ids: [ContentID], merge: @escaping @Sendable (ContentID, LocalDemandRecord?) -> LocalDemandRecord?
    ) async throws(IndexError) {
        try await write { db in
            let select = try db.cachedStatement(
                sql: "SELECT plays, fetches, served, at FROM demand WHERE content_id = ?")
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO demand(content_id, plays, fetches, served, at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(content_id) DO UPDATE SET plays = excluded.plays, fetches = excluded.fetches,
                        served = excluded.served, at = excluded.at
                    """)
            let delete = try db.cachedStatement(sql: "DELETE FROM demand WHERE content_id = ?")
            for id in ids {
                let key = Data(id.bytes)
                let stored = try Row.fetchOne(select, arguments: [key]).map { row in
                    LocalDemandRecord(
                        id: id, plays: row["plays"], fetches: row["fetches"], served: row["served"], at: row["at"])
                }
                if let merged = merge(id, stored) {
                    try upsert.execute(arguments: [key, merged.plays, merged.fetches, merged.served, merged.at])
                } else if stored != nil {
                    try delete.execute(arguments: [key])
                }
            }
        }
    }

    // MARK: The neighbours' digests

    /// The demand generation of the digest last stored for a neighbour; nil when none was.
    public func remoteDemandGeneration(peerID: String) async throws(IndexError) -> Int64? {
        try await read { db in
            try Int64.fetchOne(
                db, sql: "SELECT demand_generation FROM remote_peer WHERE peer_id = ?", arguments: [peerID])
        }
    }

    /// Replaces what is known of a neighbour's demand with its latest digest (checked by the caller).
    public func replaceRemoteDemand(
        peerID: String, name: String, generation: Int64, entries: [RemoteDemandRecord]
    ) async throws(IndexError) {
        try await write { db in
            try Self.ensureRemotePeer(db, peerID: peerID, name: name)
            try db.execute(sql: "DELETE FROM remote_demand WHERE peer_id = ?", arguments: [peerID])
            let insert = try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO remote_demand(peer_id, content_id, value, at) VALUES (?, ?, ?, ?)")
            for entry in entries {
                try insert.execute(arguments: [peerID, Data(entry.id.bytes), entry.value, entry.at])
            }
            try db.execute(
                sql: "UPDATE remote_peer SET demand_generation = ? WHERE peer_id = ?", arguments: [generation, peerID])
        }
    }

    /// Every neighbour's latest digest entries.
    public func remoteDemand() async throws(IndexError) -> [RemoteDemandRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT peer_id, content_id, value, at FROM remote_demand").compactMap { row in
                guard let id = ContentID(bytes: row["content_id"] as Data) else { return nil }
                return RemoteDemandRecord(peerID: row["peer_id"], id: id, value: row["value"], at: row["at"])
            }
        }
    }

    // MARK: Presence

    /// Every neighbour's presence record.
    public func presences() async throws(IndexError) -> [PresenceRecord] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT peer_id, seen_seconds, known_seconds, presence_at, present FROM remote_peer"
            ).map(Self.presence(from:))
        }
    }

    /// Rewrites a neighbour's presence in one transaction (creating its row, named `name`, if it has none):
    /// `update` gets the stored record and returns the one to store.
    public func updatePresence(
        peerID: String, name: String, _ update: @escaping @Sendable (PresenceRecord) -> PresenceRecord
    ) async throws(IndexError) {
        try await write { db in
            try Self.ensureRemotePeer(db, peerID: peerID, name: name)
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT peer_id, seen_seconds, known_seconds, presence_at, present FROM remote_peer
                        WHERE peer_id = ?
                        """, arguments: [peerID])
            else { return }
            let updated = update(Self.presence(from: row))
            try db.execute(
                sql: """
                    UPDATE remote_peer SET seen_seconds = ?, known_seconds = ?, presence_at = ?, present = ?
                    WHERE peer_id = ?
                    """,
                arguments: [updated.seenSeconds, updated.knownSeconds, updated.at, updated.present, peerID])
        }
    }

    /// Rewrites every presence record that `update` changes, in one transaction; writes nothing when none changes.
    public func updatePresences(_ update: @escaping @Sendable (PresenceRecord) -> PresenceRecord)
        async throws(IndexError)
    {
        let changed = try await presences().compactMap { record in
            let updated = update(record)
            return updated == record ? nil : updated
        }
        guard !changed.isEmpty else { return }
        try await write { db in
            for record in changed {
                try db.execute(
                    sql: """
                        UPDATE remote_peer SET seen_seconds = ?, known_seconds = ?, presence_at = ?, present = ?
                        WHERE peer_id = ?
                        """,
                    arguments: [record.seenSeconds, record.knownSeconds, record.at, record.present, record.peerID])
            }
        }
    }

    private static func presence(from row: Row) -> PresenceRecord {
        PresenceRecord(
            peerID: row["peer_id"], seenSeconds: row["seen_seconds"], knownSeconds: row["known_seconds"],
            at: row["presence_at"], present: (row["present"] as Int) == 1)
    }

    private static func ensureRemotePeer(_ db: Database, peerID: String, name: String) throws {
        try db.execute(
            sql: "INSERT INTO remote_peer(peer_id, name) VALUES (?, ?) ON CONFLICT(peer_id) DO NOTHING",
            arguments: [peerID, DisplayText.prefix(name, utf8Bytes: 255)])
    }

    // MARK: Listing

    /// The title, kind and holders of each of `ids` (those nobody here knows are left out): the holders are the
    /// neighbours whose catalogs list the title complete.
    public func demandTitleFacts(_ ids: [ContentID]) async throws(IndexError) -> [ContentID: DemandTitleFacts] {
        try await read { db in
            var facts: [ContentID: DemandTitleFacts] = [:]
            let described = try db.cachedStatement(
                sql: """
                    SELECT title, path, kind, rank FROM (
                        SELECT title, rel_path AS path, kind, 0 AS rank FROM media WHERE content_id = :id
                        UNION ALL SELECT title, name, kind, 2 - complete FROM replica WHERE content_id = :id
                        UNION ALL SELECT title, name, kind, 4 - complete FROM remote_object WHERE content_id = :id)
                    ORDER BY rank LIMIT 1
                    """)
            let holders = try db.cachedStatement(
                sql: "SELECT peer_id FROM remote_object WHERE content_id = ? AND complete = 1 ORDER BY peer_id")
            for id in ids {
                let key = Data(id.bytes)
                guard let row = try Row.fetchOne(described, arguments: ["id": key]) else { continue }
                let rank: Int = row["rank"]
                facts[id] = DemandTitleFacts(
                    title: DisplayTitle.of(title: row["title"], path: row["path"]) ?? id.hex,
                    kind: (row["kind"] as String?).flatMap(MediaKind.init(rawValue:)), heldHere: rank <= 1,
                    holders: try String.fetchAll(holders, arguments: [key]))
            }
            return facts
        }
    }
}
