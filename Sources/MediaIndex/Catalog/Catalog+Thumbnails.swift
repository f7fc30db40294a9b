import Foundation
import GRDB
import MediaProbe
import WireVocabulary

extension Catalog {
    /// Which of `photos` have an EXIF thumbnail: files of this box whose EXIF block carries one (as read with their
    /// metadata), and photos an `online` neighbour holds whole and says have one (its catalog's `hasThumbnail`;
    /// the thumbnail is read from its copy, ``thumbnailHolders(of:online:)``).
    public func photosWithThumbnails(among photos: [ContentID], online: [String]) async throws(IndexError)
        -> Set<ContentID>
    {
        let ids = Array(Set(photos).prefix(Self.maximumLookups))
        guard !ids.isEmpty else { return [] }
        // Numbered parameters, so both halves of the query use the same ones.
        let list = "(" + (1...ids.count).map { "?\($0)" }.joined(separator: ", ") + ")"
        let blobs = ids.map { Data($0.bytes) }
        let onlineJSON = String(decoding: (try? JSONEncoder().encode(online)) ?? Data(), as: UTF8.self)
        return try await read { db in
            Set(
                try Data.fetchAll(
                    db,
                    sql: """
                        SELECT content_id FROM media WHERE content_id IN \(list) AND has_thumbnail = 1
                        UNION
                        SELECT content_id FROM remote_object
                        WHERE content_id IN \(list) AND has_thumbnail = 1 AND complete = 1
                            AND peer_id IN (SELECT value FROM json_each(?\(ids.count + 1)))
                        """,
                    arguments: StatementArguments(blobs + [onlineJSON])
                ).compactMap { ContentID(bytes: $0) })
        }
    }

    /// The `online` neighbours that hold a photo whole and say its EXIF block has a thumbnail, with its size as
    /// they describe it: where a thumbnail this box has no file for is read.
    public func thumbnailHolders(of photo: ContentID, online: [String]) async throws(IndexError)
        -> [(peerID: String, size: Int64)]
    {
        let onlineJSON = String(decoding: (try? JSONEncoder().encode(online)) ?? Data(), as: UTF8.self)
        return try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT peer_id, size FROM remote_object
                    WHERE content_id = ? AND has_thumbnail = 1 AND complete = 1 AND kind = 'image'
                        AND peer_id IN (SELECT value FROM json_each(?))
                    ORDER BY peer_id
                    """, arguments: [Data(photo.bytes), onlineJSON]
            ).map { (peerID: $0["peer_id"], size: $0["size"]) }
        }
    }

    /// The EXIF thumbnail of a photo this box holds as a media file (unchanged since it was hashed): a JPEG of at
    /// most ``ExifThumbnail/maximumBytes``. Nil when this box has no such file or the file has no thumbnail.
    public func thumbnail(of photo: ContentID) async throws(IndexError) -> [UInt8]? {
        guard case .mediaFile(let path, _, "image/jpeg")? = try await localObject(photo) else { return nil }
        return ExifThumbnail.read(path: path)
    }
}
