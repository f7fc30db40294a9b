import Foundation
import GRDB
import Logging
import Testing

@testable import MediaIndex

@Suite struct IndexDatabaseTests {
    let folder: String
    let logger = Logger(label: "test")

    init() throws {
        folder = NSTemporaryDirectory() + "indexdb-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    private var path: String { folder + "/" + IndexDatabase.fileName }

    @Test func aNewDatabaseGetsTheSchemaInWALModeWithForeignKeys() throws {
        let opened = try IndexDatabase.open(stateDirectory: folder, logger: logger)
        #expect(opened.movedAsideTo == nil)
        let (journal, foreignKeys, tables, generation) = try opened.pool.read { db in
            (
                try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA foreign_keys"),
                try ["media", "manifest", "media_search"].allSatisfy { try db.tableExists($0) },
                try Int.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'generation'")
            )
        }
        #expect(journal == "wal" && foreignKeys == 1 && tables && generation == 0)
        try opened.pool.close()
    }

    @Test func reopeningKeepsTheData() throws {
        var opened = try IndexDatabase.open(stateDirectory: folder, logger: logger)
        try opened.pool.write { db in _ = try IndexWriter.rootID(db, path: "/srv/media") }
        try opened.pool.close()
        opened = try IndexDatabase.open(stateDirectory: folder, logger: logger)
        #expect(try opened.pool.read { db in try String.fetchAll(db, sql: "SELECT path FROM root") } == ["/srv/media"])
        #expect(opened.movedAsideTo == nil)
        try opened.pool.close()
    }

    @Test func garbageIsMovedAsideAndReplacedByAnEmptyIndex() throws {
        let garbage = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try garbage.write(to: URL(fileURLWithPath: path))
        let opened = try IndexDatabase.open(stateDirectory: folder, logger: logger)
        let aside = try #require(opened.movedAsideTo)
        #expect(try Data(contentsOf: URL(fileURLWithPath: aside)) == garbage, "the unusable file is kept as it was")
        #expect(try opened.pool.read { db in try db.tableExists("media") })
        try opened.pool.close()
    }

    @Test func aTruncatedDatabaseIsMovedAside() throws {
        var opened = try IndexDatabase.open(stateDirectory: folder, logger: logger)
        try opened.pool.write { db in
            let root = try IndexWriter.rootID(db, path: "/m")
            for index in 0..<2000 {
                try db.execute(
                    sql:
                        "INSERT INTO media(root_id, rel_path, kind, mime, size, mtime_ns, inode, generation) VALUES (?, ?, 'image', 'image/jpeg', 1, 1, ?, 1)",
                    arguments: [root, "file-\(index)-" + String(repeating: "x", count: 100), index])
            }
        }
        try IndexDatabase.close(opened.pool)
        let walSize = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        #expect(walSize == 0, "closing checkpoints the WAL into the main file")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 3 * 4096)
        try handle.close()
        opened = try IndexDatabase.open(stateDirectory: folder, logger: logger)
        #expect(opened.movedAsideTo != nil)
        try opened.pool.close()
    }

    @Test func aDatabaseWithAnUnknownMigrationIsMovedAside() throws {
        var opened = try IndexDatabase.open(stateDirectory: folder, logger: logger)
        try opened.pool.write { db in try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('v99')") }
        try opened.pool.close()
        opened = try IndexDatabase.open(stateDirectory: folder, logger: logger)
        #expect(opened.movedAsideTo != nil)
        let migrations = try opened.pool.read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        }
        #expect(!migrations.contains("v99"))
        try opened.pool.close()
    }

    @Test func everyChangingWriteBumpsTheGenerationAndAnEmptyOneDoesNot() throws {
        let opened = try IndexDatabase.open(stateDirectory: folder, logger: logger)
        let generations = try opened.pool.write { db -> [Int64] in
            var stamped: [Int64] = []
            try IndexWriter.withNextGeneration(db) {
                stamped.append($0)
                _ = try IndexWriter.rootID(db, path: "/a")
            }
            try IndexWriter.withNextGeneration(db) {
                stamped.append($0)
                _ = try IndexWriter.rootID(db, path: "/b")
            }
            let changed = try IndexWriter.withNextGeneration(db) { _ in _ = try IndexWriter.rootID(db, path: "/a") }
            #expect(!changed)
            return stamped + [try LibraryQueries.generation(db)]
        }
        #expect(generations == [1, 2, 2])
        try opened.pool.close()
    }
}
