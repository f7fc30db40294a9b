import Foundation
import GRDB
import Logging
import Testing

@testable import MediaIndex

/// A rescan drops the row of a known file that changed into something no player can play, and keeps the rest.
@Suite struct ScannerChangedFileTests {
    let media: String
    let opened: IndexDatabase.Opened
    static let jpeg = Data([0xFF, 0xD8, 0xFF, 0xE0] + [UInt8](repeating: 7, count: 100))

    init() throws {
        let base = NSTemporaryDirectory() + "scanchanged-" + UUID().uuidString
        media = base + "/media"
        try FileManager.default.createDirectory(atPath: media, withIntermediateDirectories: true)
        opened = try IndexDatabase.open(stateDirectory: base, logger: Logger(label: "test"))
        try Self.jpeg.write(to: URL(fileURLWithPath: media + "/kept.jpg"))
        try Self.jpeg.write(to: URL(fileURLWithPath: media + "/changing.jpg"))
    }

    private func scan() throws -> Set<String> {
        let rootID = try opened.pool.write { db in try IndexWriter.rootID(db, path: media) }
        _ = try Scanner(pool: opened.pool, logger: Logger(label: "test"), progress: ProgressBox())
            .walk(root: media, rootID: rootID) { _, _ in }
        return Set(try opened.pool.read { db in try String.fetchAll(db, sql: "SELECT rel_path FROM media") })
    }

    @Test func aKnownFileEmptiedWhileNobodyWatchedIsDroppedByTheRescan() throws {
        #expect(try scan() == ["kept.jpg", "changing.jpg"])
        #expect(truncate(media + "/changing.jpg", 0) == 0)
        #expect(try scan() == ["kept.jpg"])
    }

    @Test func aKnownFileOverwrittenWithOtherContentIsDroppedByTheRescan() throws {
        #expect(try scan() == ["kept.jpg", "changing.jpg"])
        try Data("a shopping list, not a photo\n".utf8).write(to: URL(fileURLWithPath: media + "/changing.jpg"))
        #expect(try scan() == ["kept.jpg"])
    }

    @Test func aKnownFileThatTurnedIntoAPipeIsDroppedByTheRescan() throws {
        #expect(try scan() == ["kept.jpg", "changing.jpg"])
        try FileManager.default.removeItem(atPath: media + "/changing.jpg")
        #expect(mkfifo(media + "/changing.jpg", 0o644) == 0)
        #expect(try scan() == ["kept.jpg"])
    }

    @Test func aFileThatIsMediaAgainIsIndexedAgain() throws {
        #expect(truncate(media + "/changing.jpg", 0) == 0)
        #expect(try scan() == ["kept.jpg"])
        try Self.jpeg.write(to: URL(fileURLWithPath: media + "/changing.jpg"))
        #expect(try scan() == ["kept.jpg", "changing.jpg"])
    }
}
