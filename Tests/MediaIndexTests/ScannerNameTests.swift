import Foundation
import GRDB
import Logging
import Testing
import WireVocabulary

@testable import MediaIndex

/// A rescan knows a file by the exact bytes of its name.
@Suite struct ScannerNameTests {
    let media: String
    let opened: IndexDatabase.Opened

    init() throws {
        let base = NSTemporaryDirectory() + "scannames-" + UUID().uuidString
        media = base + "/media"
        try FileManager.default.createDirectory(atPath: media, withIntermediateDirectories: true)
        opened = try IndexDatabase.open(stateDirectory: base, logger: Logger(label: "test"))
    }

    private func scan() throws -> [[UInt8]] {
        let rootID = try opened.pool.write { db in try IndexWriter.rootID(db, path: media) }
        _ = try Scanner(pool: opened.pool, logger: Logger(label: "test"), progress: ProgressBox())
            .walk(root: media, rootID: rootID) { _, _ in }
        return try opened.pool.read { db in
            try String.fetchAll(db, sql: "SELECT rel_path FROM media").map { FileSystemName.bytes(of: $0) }
        }
    }

    @Test func aNameRenamedFromNFCToNFDWhileNobodyWatchedIsIndexedUnderItsNewBytes() throws {
        let composed = "caf\u{E9}.jpg"
        let decomposed = "cafe\u{301}.jpg"
        #expect(composed == decomposed)  // Swift's equality: why the scan compares bytes
        let jpeg = Data([0xFF, 0xD8, 0xFF, 0xE0] + [UInt8](repeating: 7, count: 100))
        try jpeg.write(to: URL(fileURLWithPath: media + "/" + composed))
        #expect(try scan() == [Array(composed.utf8)])
        let renamed = (media + "/" + composed).withCString { from in
            (media + "/" + decomposed).withCString { to in rename(from, to) }
        }
        #expect(renamed == 0)
        #expect(try scan() == [Array(decomposed.utf8)])
    }
}
