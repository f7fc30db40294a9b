import Foundation
import GRDB
import Logging
import Testing

@testable import MediaIndex

/// The "subtitle-kind" migration on an index written before it: its rows stay, and the kind check takes subtitles.
@Suite struct SubtitleMigrationTests {
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
                    try db.execute(sql: insert, arguments: ["Film.srt", "subtitle", "application/x-subrip"])
                }
            }
            try old.close()
        }
        let opened = try IndexDatabase.open(stateDirectory: folder, logger: Logger(label: "test"))
        #expect(opened.movedAsideTo == nil)
        try opened.pool.write { db in
            try db.execute(sql: insert, arguments: ["Film.srt", "subtitle", "application/x-subrip"])
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
}
