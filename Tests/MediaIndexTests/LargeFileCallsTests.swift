import CSystemShims
import Dispatch
import Foundation
import Testing

@testable import MediaIndex

/// The index's file calls through CSystemShims' 64-bit wrappers (`readdir64`, `fstatat` with 64-bit `struct stat`):
/// on x86-64 they are the same calls as Glibc's, so these check the wrappers' behaviour; and the rescan deadline,
/// computed in 64-bit nanoseconds.
@Suite struct LargeFileCallsTests {
    @Test func readingAFolderListsEveryEntryWithItsInodeAndTypeThenEnds() throws {
        let folder = NSTemporaryDirectory() + "readdir-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Enough names for several getdents64 buffers (32 KiB each).
        let names = (0..<1500).map { "file-\($0)-" + String(repeating: "x", count: 40) }
        for name in names { FileManager.default.createFile(atPath: folder + "/" + name, contents: nil) }
        let directory = try #require(opendir(folder))
        defer { closedir(directory) }
        var listed: [String: (inode: UInt64, type: UInt8)] = [:]
        var entry = mediapeer_directory_entry()
        var result: Int32
        repeat {
            result = mediapeer_read_directory(directory, &entry)
            if result == 1 { listed[String(cString: entry.name)] = (entry.inode, entry.type) }
        } while result == 1
        #expect(result == 0)
        #expect(mediapeer_read_directory(directory, &entry) == 0)
        #expect(Set(listed.keys) == Set(names + ["sub", ".", ".."]))
        #expect(listed["sub"]?.type == UInt8(DT_DIR))
        var status = mediapeer_file_status()
        try #require(mediapeer_fstatat(AT_FDCWD, folder + "/" + names[700], 0, &status) == 0)
        #expect(listed[names[700]]?.inode == status.inode)
    }

    @Test func theWalkerListsAFolderOfManyEntriesCompletely() throws {
        let root = NSTemporaryDirectory() + "walker-many-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let names = (0..<1200).map { "track-\($0)-" + String(repeating: "y", count: 40) + ".mp3" }
        for name in names { FileManager.default.createFile(atPath: root + "/" + name, contents: Data([1])) }
        var files: [String] = []
        TreeWalker(root: root).walk(directory: { _, _ in }, file: { files.append($0.relativePath) }, skip: { _, _ in })
        #expect(files.sorted() == names.sorted())
    }

    @Test func theFileSystemSpaceMatchesStatvfs() throws {
        var space = mediapeer_file_system_space()
        try #require(mediapeer_file_system_space(NSTemporaryDirectory(), &space) == 0)
        var info = statvfs()
        try #require(statvfs(NSTemporaryDirectory(), &info) == 0)
        #expect(space.blocks == UInt64(info.f_blocks))
        #expect(space.fragment_size == UInt64(info.f_frsize))
    }

    @Test func theFileSystemSpaceOfAMissingPathIsAnError() {
        var space = mediapeer_file_system_space()
        #expect(mediapeer_file_system_space("/nonexistent-\(UUID().uuidString)", &space) == -1)
        #expect(errno == ENOENT)
    }

    // MARK: Rescan deadline

    private static let now = DispatchTime(uptimeNanoseconds: 1_000_000_000_000)

    @Test func aRescanDeadlineOfAYearIsAYearOfNanosecondsAway() {
        let deadline = MediaLibrary.deadline(after: .seconds(365 * 86_400), from: Self.now)
        #expect(deadline.uptimeNanoseconds - Self.now.uptimeNanoseconds == 365 * 86_400 * 1_000_000_000)
    }

    @Test func aRescanDeadlinePast32BitsOfSecondsIsExact() {
        let deadline = MediaLibrary.deadline(after: .seconds(Int64(1) << 32) + .milliseconds(5), from: Self.now)
        #expect(
            deadline.uptimeNanoseconds - Self.now.uptimeNanoseconds == (UInt64(1) << 32) * 1_000_000_000 + 5_000_000)
    }

    @Test func aRescanDeadlinePastWhatDispatchCountsIsNever() {
        #expect(MediaLibrary.deadline(after: .seconds(Int64.max), from: Self.now) == .distantFuture)
    }

    @Test func aNegativeRescanIntervalIsDueNow() {
        #expect(MediaLibrary.deadline(after: .seconds(-5), from: Self.now) == Self.now)
    }
}
