import Foundation
import Testing
import WireVocabulary

@testable import MediaIndex

@Suite struct TreeWalkerTests {
    let root: String

    init() throws {
        root = NSTemporaryDirectory() + "walker-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root + "/a/b", withIntermediateDirectories: true)
    }

    private func touch(_ path: String, bytes: Int = 1) {
        FileManager.default.createFile(atPath: root + "/" + path, contents: Data(repeating: 1, count: bytes))
    }

    private func walk(from start: String = "") -> (files: [String], folders: [String], skipped: [SkipReason: [String]])
    {
        var files: [String] = []
        var folders: [String] = []
        var skipped: [SkipReason: [String]] = [:]
        TreeWalker(root: root).walk(
            from: start, directory: { _, relative in folders.append(relative) },
            file: { files.append($0.relativePath) }, skip: { skipped[$0, default: []].append($1) })
        return (files.sorted(), folders.sorted(), skipped)
    }

    @Test func reportsEveryFileAndFolderBelowTheRoot() {
        touch("top.jpg")
        touch("a/b/deep.mp3", bytes: 42)
        let result = walk()
        #expect(result.files == ["a/b/deep.mp3", "top.jpg"])
        #expect(result.folders == ["", "a", "a/b"])
    }

    @Test func reportsFileFactsFromStat() throws {
        touch("a/x.wav", bytes: 1234)
        var facts: FileFacts?
        TreeWalker(root: root).walk(directory: { _, _ in }, file: { facts = $0.facts }, skip: { _, _ in })
        let inode = try FileManager.default.attributesOfItem(atPath: root + "/a/x.wav")[.systemFileNumber] as? Int
        #expect(facts?.size == 1234 && facts?.inode == Int64(inode ?? -1))
    }

    @Test func skipsHiddenEntriesWithoutDescending() {
        touch(".hidden.jpg")
        try? FileManager.default.createDirectory(atPath: root + "/.cache/deep", withIntermediateDirectories: true)
        touch(".cache/deep/x.jpg")
        let result = walk()
        #expect(result.files.isEmpty)
        #expect(result.skipped[.hidden]?.sorted() == [".cache", ".hidden.jpg"])
    }

    @Test func followsSymlinksInsideTheRootButNotOutOrIntoFolders() throws {
        touch("real.jpg")
        let outside = NSTemporaryDirectory() + "outside-" + UUID().uuidString + ".jpg"
        FileManager.default.createFile(atPath: outside, contents: Data([1]))
        try FileManager.default.createSymbolicLink(atPath: root + "/in.jpg", withDestinationPath: root + "/real.jpg")
        try FileManager.default.createSymbolicLink(atPath: root + "/out.jpg", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: root + "/loop", withDestinationPath: root)
        try FileManager.default.createSymbolicLink(
            atPath: root + "/dangling.jpg", withDestinationPath: root + "/nothing")
        let result = walk()
        #expect(result.files == ["in.jpg", "real.jpg"])
        #expect(result.skipped[.symlinkLeavesRoot] == ["out.jpg"])
        #expect(result.skipped[.symlinkedFolder] == ["loop"])
        #expect(result.skipped[.brokenSymlink] == ["dangling.jpg"])
    }

    @Test func skipsDevicesPipesAndSockets() {
        #expect(mkfifo(root + "/pipe.mp3", 0o644) == 0)
        #expect(walk().skipped[.notRegularFile] == ["pipe.mp3"])
    }

    @Test func walksOnlyTheRequestedSubtree() {
        touch("top.jpg")
        touch("a/b/deep.jpg")
        #expect(walk(from: "a").files == ["a/b/deep.jpg"])
    }

    @Test func aMissingRootReportsNothingAndDoesNotCrash() {
        var count = 0
        TreeWalker(root: root + "/gone").walk(
            directory: { _, _ in }, file: { _ in count += 1 }, skip: { _, _ in count += 1 })
        #expect(count == 0)
    }

    /// Creates a file or folder whose name is `bytes` (any bytes but `/` and NUL), as an old drive holds it.
    private func create(rawName bytes: [UInt8], in folder: String = "", folderToo: Bool = false) {
        let parent = Array(root.utf8) + (folder.isEmpty ? [] : [UInt8(ascii: "/")] + FileSystemName.bytes(of: folder))
        let path = parent + [UInt8(ascii: "/")] + bytes + [0]
        path.withUnsafeBytes { raw in
            let cPath = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            if folderToo {
                #expect(mkdir(cPath, 0o755) == 0)
            } else {
                let fd = open(cPath, O_WRONLY | O_CREAT | O_EXCL, 0o644)
                #expect(fd >= 0)
                close(fd)
            }
        }
    }

    @Test func namesThatAreNotUTF8AreListedLosslessly() {
        let folder: [UInt8] = Array("M".utf8) + [0xFC] + Array("ller".utf8)
        create(rawName: folder, folderToo: true)
        let file: [UInt8] = Array("caf".utf8) + [0xE9] + Array(".jpg".utf8)
        create(rawName: file, in: FileSystemName.string(fromBytes: folder))
        var found: [(relative: String, absolute: String)] = []
        TreeWalker(root: root).walk(
            directory: { _, _ in }, file: { found.append(($0.relativePath, $0.absolutePath)) }, skip: { _, _ in })
        #expect(found.count == 1)
        #expect(found.first.map { FileSystemName.bytes(of: $0.relative) } == folder + [UInt8(ascii: "/")] + file)
        #expect(found.first.map { FileSystemName.displayText($0.relative) } == "Müller/café.jpg")
        #expect(found.first.flatMap { TreeWalker.facts(ofFileAt: $0.absolute)?.isRegularFile } == true)
    }

    @Test func namesWithControlCharactersAreListed() {
        touch("two\nlines\u{1B}[2J.mp3")
        #expect(walk().files == ["two\nlines\u{1B}[2J.mp3"])
    }
}
