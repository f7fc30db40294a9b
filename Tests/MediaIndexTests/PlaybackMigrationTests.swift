import Foundation
import GRDB
import Logging
import Testing

@testable import MediaIndex

/// The migrations for subtitles, thumbnails and neighbours' photo dates, on indexes written before them.
@Suite struct SubtitleAndThumbnailMigrationTests {
    @Test func anIndexFromBeforeSubtitlesKeepsItsRowsAndAcceptsSubtitlesAfterMigrating() throws {
        let folder = NSTemporaryDirectory() + "subtitle-migration-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let insert = """
            INSERT INTO media (root_id, rel_path, kind, mime, size, mtime_ns, inode, generation)
            VALUES (1, ?, ?, ?, 10, 1, 1, 1)
            """
        do {
            let old = try DatabasePool(path: folder + "/" + IndexDatabase.fileName)
            try Schema.migrator.migrate(old, upTo: "remote-peer-unseen")
            try old.write { db in
                try db.execute(sql: "INSERT INTO root (id, path) VALUES (1, '/srv/media')")
                try db.execute(sql: insert, arguments: ["Film.mkv", "video", "video/x-matroska"])
                #expect(throws: (any Error).self) {
                    try db.execute(sql: insert, arguments: ["Film.srt", "subtitle", "text/srt"])
                }
            }
            try old.close()
        }
        let opened = try IndexDatabase.open(stateDirectory: folder, logger: Logger(label: "test"))
        #expect(opened.movedAsideTo == nil)
        try opened.pool.write { db in
            try db.execute(sql: insert, arguments: ["Film.srt", "subtitle", "text/srt"])
            #expect(throws: (any Error).self) {
                try db.execute(sql: insert, arguments: ["Film.txt", "text", "text/plain"])
            }
        }
        let rows = try opened.pool.read { db in
            try String.fetchAll(db, sql: "SELECT kind FROM media ORDER BY rel_path")
        }
        #expect(rows == ["video", "subtitle"])
        #expect(try opened.pool.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") } == "ok")
        try opened.pool.close()
    }

    /// Opens an index written by a version whose last migration was `last` (`setUp` writes its rows), migrating it
    /// to this version's schema.
    private func indexMigrated(from last: String, _ setUp: (Database) throws -> Void) throws -> (
        opened: IndexDatabase.Opened, folder: String
    ) {
        let folder = NSTemporaryDirectory() + "migration-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let old = try DatabasePool(path: folder + "/" + IndexDatabase.fileName)
        try Schema.migrator.migrate(old, upTo: last)
        try old.write(setUp)
        try old.close()
        return (try IndexDatabase.open(stateDirectory: folder, logger: Logger(label: "test")), folder)
    }

    @Test func photosIndexedBeforeThumbnailsAreReadAgainOnce() throws {
        let (opened, folder) = try indexMigrated(from: "subtitle-kind") { db in
            try db.execute(sql: "INSERT INTO root (id, path) VALUES (1, '/srv/media')")
            for (path, kind, mime) in [
                ("a.jpg", "image", "image/jpeg"), ("b.png", "image", "image/png"), ("c.mkv", "video", "video/webm"),
            ] {
                try db.execute(
                    sql: """
                        INSERT INTO media (root_id, rel_path, kind, mime, size, mtime_ns, inode, generation,
                            metadata_state)
                        VALUES (1, ?, ?, ?, 10, 1, 1, 1, 1)
                        """, arguments: [path, kind, mime])
            }
        }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let rows = try opened.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT rel_path, metadata_state, has_thumbnail FROM media ORDER BY rel_path")
                .map { "\($0["rel_path"] as String) \($0["metadata_state"] as Int) \($0["has_thumbnail"] as Int)" }
        }
        #expect(rows == ["a.jpg 0 0", "b.png 1 0", "c.mkv 1 0"])
        try opened.pool.close()
    }

    @Test func neighboursCatalogsStoredBeforePhotoDatesAreKeptAndSyncedAgainFromZero() throws {
        let (opened, folder) = try indexMigrated(from: "photo-thumbnails") { db in
            try db.execute(
                sql:
                    "INSERT INTO remote_peer (peer_id, name, epoch, synced_generation) VALUES ('p1', 'Den', 'e', 7)"
            )
            try db.execute(
                sql: """
                    INSERT INTO remote_object (peer_id, content_id, complete, size, kind, mime, name)
                    VALUES ('p1', x'01', 1, 10, 'image', 'image/jpeg', 'a.jpg')
                    """)
        }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let peer = try opened.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT epoch, synced_generation, object_count FROM remote_peer")
        }
        #expect(peer?["epoch"] == "e")
        #expect(peer?["synced_generation"] == 0)
        #expect(peer?["object_count"] == 1)
        let photo = try opened.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT name, date_taken, has_thumbnail FROM remote_object")
        }
        #expect(photo?["name"] == "a.jpg")
        #expect((photo?["date_taken"] as String?) == nil)
        #expect(photo?["has_thumbnail"] == 0)
        try opened.pool.close()
    }
}
