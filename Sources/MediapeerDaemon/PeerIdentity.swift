import Foundation

/// The box's stable peer id, kept in `state_dir/peer-id` apart from the index, so a rebuilt index keeps the id.
enum PeerIdentity {
    static func loadOrCreate(stateDirectory: String) throws -> String {
        let path = stateDirectory + "/peer-id"
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let id = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if id.utf8.count == 32, id.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) { return id }
        }
        var generator = SystemRandomNumberGenerator()
        let id = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        try AtomicFile.write(Data((id + "\n").utf8), to: path)
        return id
    }
}

/// Writes a small file so that a crash or power cut leaves either the old or the new content, never a torn one:
/// a temporary file in the same folder, fsync, rename, fsync of the folder.
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temporary]) }
        let written = data.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == data.count, synced == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        let folderFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderFD >= 0 {
            fsync(folderFD)
            close(folderFD)
        }
    }
}
