import Foundation
import GRDB
import Logging
import MediaProbe
import Testing
import WireVocabulary

@testable import MediaIndex

/// Folders removed or renamed under names that are not ASCII (`Müller`) or not UTF-8 (a Latin-1 `M\xFCller`).
@Suite struct IndexWriterNameTests {
    let folder: String
    let opened: IndexDatabase.Opened

    init() throws {
        folder = NSTemporaryDirectory() + "indexnames-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        opened = try IndexDatabase.open(stateDirectory: folder, logger: Logger(label: "test"))
    }

    static let folderNames = [
        "Müller", FileSystemName.string(fromBytes: Array("M".utf8) + [0xFC] + Array("ller".utf8)),
    ]

    private func insert(_ paths: [String]) throws -> Int64 {
        try opened.pool.write { db in
            let rootID = try IndexWriter.rootID(db, path: "/media")
            let files = paths.enumerated().map { index, path in
                IndexWriter.Found(
                    relativePath: path, sniffed: SniffResult(kind: .image, mimeType: "image/jpeg"),
                    facts: FileFacts(size: 1, mtimeNanoseconds: 1, inode: Int64(index)))
            }
            try IndexWriter.upsert(db, rootID: rootID, files: files)
            return rootID
        }
    }

    private func paths(_ rootID: Int64) throws -> [String] {
        try opened.pool.read { db in
            try IndexWriter.existingFacts(db, rootID: rootID).keys.map { String(decoding: $0, as: UTF8.self) }.sorted()
        }
    }

    @Test(arguments: folderNames)
    func removingAFolderRemovesTheRowsBelowIt(_ name: String) throws {
        let rootID = try insert([name + "/a.jpg", name + "/b/c.jpg", "other.jpg"])
        try opened.pool.write { db in try IndexWriter.delete(db, rootID: rootID, folder: name) }
        #expect(try paths(rootID) == ["other.jpg"])
    }

    @Test(arguments: folderNames)
    func renamingAFolderMovesTheRowsBelowIt(_ name: String) throws {
        let rootID = try insert([name + "/a.jpg", "other.jpg"])
        let moved = try opened.pool.write { db in try IndexWriter.renameFolder(db, rootID: rootID, from: name, to: "é")
        }
        #expect(moved == 1)
        #expect(try paths(rootID) == ["other.jpg", "é/a.jpg"])
    }
}
