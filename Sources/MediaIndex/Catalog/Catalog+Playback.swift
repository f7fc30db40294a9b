import GRDB
import PeerWire
import WireVocabulary

/// What a player's request for a title needs to know from the index before it can be answered.
public struct PlaybackDescription: Sendable {
    /// How the title is described: by this box's media file or replica, else by a neighbour's catalog.
    public var entry: CatalogEntry
    /// The subtitles beside it, when it is a video (``Catalog/subtitles(forVideos:online:)``).
    public var subtitles: [SubtitleRef]
}

extension Catalog {
    /// How a player's request for `id` is answered, read in one transaction: this box's own description
    /// (``localDescription(_:of:)``: a media file, else a replica, partial ones too) when it has a kind, else a
    /// neighbour's catalog entry (``remoteDescription(of:)``) when one of the `online` neighbours lists the object
    /// and the entry has a kind; a video comes with the subtitles beside it. Nil when nothing a box here can send
    /// is described as media.
    ///
    /// One read rather than one for each question: every read is a hop to a database connection and a
    /// transaction, and a play's first byte waits for all of them.
    public func playbackDescription(of id: ContentID, online: [String]) async throws(IndexError)
        -> PlaybackDescription?
    {
        let onlineJSON = Self.jsonArray(online)
        return try await read { db in
            var entry = try Self.localDescription(db, of: id)
            if entry?.kind == nil {
                let holders = try Self.remoteHolders(db, of: id)
                guard holders.contains(where: { online.contains($0.peerID) }) else { return nil }
                entry = try Self.remoteDescription(db, of: id)
            }
            guard let entry, let kind = entry.kind else { return nil }
            let subtitles =
                kind == .video ? try Self.subtitles(db, forVideos: [id], onlineJSON: onlineJSON)[id, default: []] : []
            return PlaybackDescription(entry: entry, subtitles: subtitles)
        }
    }
}
