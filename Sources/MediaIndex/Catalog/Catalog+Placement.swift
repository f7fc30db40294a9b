import Foundation
import GRDB
import WireVocabulary

/// Where a title is in the home, as this box's index knows it: what the replicator gives the replication policy.
public struct TitlePlacement: Sendable, Equatable {
    public var id: ContentID
    /// The size this box or a holder's catalog gives.
    public var size: Int64
    public var title: String
    /// One of this box's media files has these bytes (the index's view: not `stat`ed again).
    public var isMediaFileHere: Bool
    /// This box's replica, complete or partial.
    public var replica: ReplicaRecord?
    /// The neighbours whose catalogs list it, complete holders first.
    public var holders: [RemoteHolder]

    public init(
        id: ContentID, size: Int64, title: String, isMediaFileHere: Bool, replica: ReplicaRecord?,
        holders: [RemoteHolder]
    ) {
        self.id = id
        self.size = size
        self.title = title
        self.isMediaFileHere = isMediaFileHere
        self.replica = replica
        self.holders = holders
    }
}

extension Catalog {
    /// Where each of `ids` is, read in one transaction; a title nobody here knows (no file, replica or catalog entry
    /// lists it) is left out.
    public func placements(of ids: [ContentID]) async throws(IndexError) -> [ContentID: TitlePlacement] {
        try await read { db in
            var placements: [ContentID: TitlePlacement] = [:]
            for id in ids {
                let key = Data(id.bytes)
                guard
                    let described = try Row.fetchOne(
                        db,
                        sql: """
                            SELECT size, title, path, here FROM (
                                SELECT size, title, rel_path AS path, 1 AS here, 0 AS rank
                                FROM media WHERE content_id = :id
                                UNION ALL SELECT size, title, name, 0, 1 FROM replica WHERE content_id = :id
                                UNION ALL SELECT size, title, name, 0, 3 - complete
                                FROM remote_object WHERE content_id = :id)
                            ORDER BY rank LIMIT 1
                            """, arguments: ["id": key])
                else { continue }
                placements[id] = TitlePlacement(
                    id: id, size: described["size"],
                    title: DisplayTitle.of(title: described["title"], path: described["path"]) ?? id.hex,
                    isMediaFileHere: described["here"] == 1, replica: try Self.replica(db, id: id),
                    holders: try Self.remoteHolders(db, of: id))
            }
            return placements
        }
    }
}
