import Foundation
import GRDB
import MediaProbe
import WireVocabulary

extension Catalog {
    /// Which of `photos` are files of this box whose EXIF block carries a thumbnail (as read with their metadata).
    /// Neighbours' photos are not included: their catalogs do not say, and the thumbnail is read from the file.
    public func photosWithThumbnails(among photos: [ContentID]) async throws(IndexError) -> Set<ContentID> {
        let ids = Array(Set(photos).prefix(Self.maximumLookups))
        guard !ids.isEmpty else { return [] }
        let list = "(" + Array(repeating: "?", count: ids.count).joined(separator: ", ") + ")"
        return try await read { db in
            Set(
                try Data.fetchAll(
                    db,
                    sql: "SELECT DISTINCT content_id FROM media WHERE content_id IN \(list) AND has_thumbnail = 1",
                    arguments: StatementArguments(ids.map { Data($0.bytes) })
                ).compactMap { ContentID(bytes: $0) })
        }
    }

    /// The EXIF thumbnail of a photo this box holds as a media file (unchanged since it was hashed): a JPEG of at
    /// most ``ExifThumbnail/maximumBytes``. Nil when this box has no such file or the file has no thumbnail.
    public func thumbnail(of photo: ContentID) async throws(IndexError) -> [UInt8]? {
        guard case .mediaFile(let path, _, "image/jpeg")? = try await localObject(photo) else { return nil }
        return ExifThumbnail.read(path: path)
    }
}
