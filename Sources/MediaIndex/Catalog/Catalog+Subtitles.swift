import Foundation
import GRDB
import WireVocabulary

/// A subtitle file offered with a video: `Film.srt` or `Film.en.srt` in the folder of `Film.mkv`, on the same box.
public struct SubtitleRef: Sendable, Equatable, Hashable {
    public var id: ContentID
    /// `text/srt`, `text/vtt` or `text/x-ssa`.
    public var mimeType: String
    /// The language tag of the file name (`en` in `Film.en.srt`, `pt-BR` in `Film.pt-BR.srt`), if it has one.
    public var language: String?
    /// The path below its media folder on the box that holds it.
    public var path: String

    public init(id: ContentID, mimeType: String, language: String?, path: String) {
        self.id = id
        self.mimeType = mimeType
        self.language = language
        self.path = path
    }
}

extension Catalog {
    /// The most content ids one call of the page queries looks up (a page of a TV's browse is 50 to 200).
    public static let maximumLookups = 1000
    /// The most subtitles offered with one video file.
    static let maximumSubtitlesPerVideo = 32

    /// The subtitles beside each of `videos`: files of kind subtitle, hashed, in the same folder on the same box
    /// (this one, or an `online` neighbour, by its catalog's paths), whose name is the video's without its
    /// extension, plus an extension, or plus a language tag and an extension (`Film.mkv`: `Film.srt`,
    /// `Film.en.vtt`). Videos without any are left out of the answer; each list is ordered by language (untagged
    /// first), then path. At most ``maximumLookups`` videos are looked up; the rest are ignored.
    public func subtitles(forVideos videos: [ContentID], online: [String]) async throws(IndexError)
        -> [ContentID: [SubtitleRef]]
    {
        let ids = Array(Set(videos).prefix(Self.maximumLookups))
        guard !ids.isEmpty else { return [:] }
        let onlineJSON = Self.jsonArray(online)
        return try await read { db in try Self.subtitles(db, forVideos: ids, onlineJSON: onlineJSON) }
    }

    /// The neighbours' ids as the JSON array the queries read with `json_each`.
    static func jsonArray(_ peerIDs: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(peerIDs)) ?? Data("[]".utf8), as: UTF8.self)
    }

    /// ``subtitles(forVideos:online:)`` inside a read: at most ``maximumLookups`` distinct `ids`.
    static func subtitles(_ db: Database, forVideos ids: [ContentID], onlineJSON: String) throws
        -> [ContentID: [SubtitleRef]]
    {
        let blobs = ids.map { Data($0.bytes) }
        let list = "(" + Array(repeating: "?", count: blobs.count).joined(separator: ", ") + ")"
        var found: [ContentID: Set<SubtitleRef>] = [:]
        // Where each video is: a file of this box's (by media folder) or a neighbour's (by peer), and its path.
        // By the content id index: on (peer_id, kind) SQLite read all of a neighbour's videos for each page.
        let places = try Row.fetchAll(
            db,
            sql: """
                SELECT content_id, 'local' AS source, root_id AS place, rel_path AS path FROM media
                WHERE content_id IN \(list) AND kind = 'video'
                UNION ALL
                SELECT content_id, 'remote', peer_id, name FROM remote_object INDEXED BY remote_by_content
                WHERE content_id IN \(list) AND kind = 'video' AND peer_id IN (SELECT value FROM json_each(?))
                """, arguments: StatementArguments(blobs + blobs as [any DatabaseValueConvertible] + [onlineJSON]))
        for place in places {
            guard let video = ContentID(bytes: [UInt8](place["content_id"] as Data)),
                let prefix = SubtitleName.prefix(ofVideo: place["path"])
            else { continue }
            let isLocal = (place["source"] as String) == "local"
            let rows = try Row.fetchAll(
                db,
                sql: isLocal
                    ? """
                    SELECT content_id, rel_path AS path, mime FROM media
                    WHERE root_id = :place AND rel_path > :from AND rel_path < :to AND kind = 'subtitle'
                        AND content_id IS NOT NULL LIMIT :limit
                    """
                    : """
                    SELECT content_id, name AS path, mime FROM remote_object
                    WHERE peer_id = :place AND name > :from AND name < :to AND kind = 'subtitle' LIMIT :limit
                    """,
                arguments: [
                    "place": place["place"] as DatabaseValue, "from": prefix, "to": SubtitleName.end(of: prefix),
                    "limit": Self.maximumSubtitlesPerVideo,
                ])
            for row in rows {
                guard let id = ContentID(bytes: [UInt8](row["content_id"] as Data)),
                    let match = SubtitleName.match(row["path"], after: prefix, videoPath: place["path"])
                else { continue }
                found[video, default: []].insert(
                    SubtitleRef(id: id, mimeType: row["mime"], language: match.language, path: row["path"]))
            }
        }
        return found.mapValues { subtitles in
            subtitles.sorted { ($0.language ?? "", $0.path) < ($1.language ?? "", $1.path) }
        }
    }
}

/// How a subtitle's file name goes with a video's.
enum SubtitleName {
    /// The video's path without its extension, with the dot: `Films/Film.` for `Films/Film.mkv`. Nil when the name
    /// has no extension.
    static func prefix(ofVideo path: String) -> String? {
        guard let dot = path.lastIndex(of: "."), path[dot...].firstIndex(of: "/") == nil else { return nil }
        let name = path[(path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex)...]
        guard name.first != "." || name.dropFirst().contains(".") else { return nil }
        return String(path[...dot])
    }

    /// Just past every text that starts with `prefix` (which ends with a dot) in SQLite's binary order: the same
    /// text with the dot replaced by the next byte, `/`.
    static func end(of prefix: String) -> String {
        String(prefix.dropLast()) + "/"
    }

    /// A subtitle's name that goes with a video's, and the language tag it carries, if any.
    struct Match: Equatable {
        var language: String?
    }

    /// Whether `path` is `prefix` + extension or `prefix` + language tag + `.` + extension. The video's own
    /// extension in place of a tag (`Film.mkv.srt`) is no language.
    static func match(_ path: String, after prefix: String, videoPath: String) -> Match? {
        guard path.hasPrefix(prefix) else { return nil }
        let rest = path.dropFirst(prefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard !rest.contains(where: { $0.isEmpty || $0.contains("/") }) else { return nil }
        switch rest.count {
        case 1: return Match(language: nil)
        case 2 where videoPath.dropFirst(prefix.count).lowercased() == rest[0].lowercased():
            return Match(language: nil)
        case 2 where isLanguageTag(rest[0]): return Match(language: String(rest[0]))
        default: return nil
        }
    }

    /// A BCP 47 language tag as file names carry them: 2 or 3 letters, optionally `-` and a region or script of 2 to
    /// 8 letters or digits (`en`, `deu`, `pt-BR`, `zh-Hans`).
    static func isLanguageTag(_ text: Substring) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), (2...3).contains(parts[0].count),
            parts[0].allSatisfy({ $0.isASCII && $0.isLetter })
        else { return false }
        return parts.count == 1
            || (2...8).contains(parts[1].count) && parts[1].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }
}
