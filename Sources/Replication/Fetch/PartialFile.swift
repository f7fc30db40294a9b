import CSystemShims
import NIOConcurrencyHelpers
import WireVocabulary

#if canImport(Glibc)
    import Glibc
#endif

/// The cache's files for one object: `objects/<id>.partial` while chunks arrive, `objects/<id>` once complete.
///
/// A reader only ever sees a complete, verified object under its final name: the partial file is written in
/// place, made durable before its chunks are recorded as held, and renamed after a final `fsync`, with the folder
/// synced too so that the rename survives a power cut.
public struct ReplicaLayout: Sendable {
    public let objectsFolder: String

    public init(cacheDirectory: String) {
        objectsFolder = cacheDirectory + "/objects"
    }

    public func completePath(_ id: ContentID) -> String { objectsFolder + "/" + id.hex }
    public func partialPath(_ id: ContentID) -> String { objectsFolder + "/" + id.hex + ".partial" }

    public func prepare() throws(ReplicationError) {
        for folder in [parentFolder(of: objectsFolder), objectsFolder]
        where mkdir(folder, 0o755) != 0 && errno != EEXIST {
            throw .cache("cannot create \(folder): \(String(cString: strerror(errno)))")
        }
    }

    /// Deletes the partial file of an object, if any (never anything outside the cache's objects folder).
    public func removePartial(_ id: ContentID) {
        unlink(partialPath(id))
    }

    /// Deletes both files of an object (never anything outside the cache's objects folder).
    public func remove(_ id: ContentID) {
        unlink(partialPath(id))
        unlink(completePath(id))
    }
}

/// Writes verified chunks into `<id>.partial`.
final class PartialFile: @unchecked Sendable {
    // The descriptor is only used through pwrite/fdatasync, which are safe to call from several threads.
    private let fd: Int32
    let path: String
    /// One write at a time: concurrent writes to one file contend for its inode lock in the kernel, whose waiters
    /// spin on the CPU (11 % of a fetch's CPU in a profile). This lock's waiters sleep: a plain pthread mutex
    /// (`Synchronization.Mutex` is a priority-inheritance futex on Linux, whose waiters spin in the kernel too).
    private let writing = NIOLock()

    /// Opens (or creates, sized to `size`, sparse) the partial file.
    init(path: String, size: Int64) throws(ReplicationError) {
        fd = mediapeer_open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cache("cannot open \(path): \(String(cString: strerror(errno)))") }
        self.path = path
        // 64-bit sizes and offsets through the C shim: on a 32-bit box the Glibc module's off_t is 32 bits.
        let current = mediapeer_file_size(fd)
        guard current >= 0 else {
            close(fd)
            throw .cache("cannot stat \(path): \(String(cString: strerror(errno)))")
        }
        if current != size, mediapeer_ftruncate(fd, size) != 0 {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .cache("cannot size \(path) to \(size) bytes: \(reason)")
        }
    }

    deinit { close(fd) }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(ReplicationError) {
        writing.lock()
        defer { writing.unlock() }
        try writeAll(bytes, at: offset)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(ReplicationError) {
        var done = 0
        while done < bytes.count {
            // narrowing: checked because done < bytes.count here, so bytes.count - done is positive
            let written = mediapeer_pwrite(
                fd, bytes.baseAddress! + done, UInt(bytes.count - done), offset + Int64(done))
            if written < 0 {
                if errno == EINTR { continue }
                throw .cache("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            done += written
        }
    }

    /// Makes every chunk written so far durable (called before recording them as held).
    func sync() throws(ReplicationError) {
        guard fdatasync(fd) == 0 else { throw .cache("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }

    /// fsync, rename to the final name, fsync the folder: the object appears complete or not at all.
    func publish(as finalPath: String) throws(ReplicationError) {
        guard fsync(fd) == 0 else { throw .cache("cannot sync \(path): \(String(cString: strerror(errno)))") }
        guard rename(path, finalPath) == 0 else {
            throw .cache("cannot rename \(path): \(String(cString: strerror(errno)))")
        }
        let folder = open(parentFolder(of: finalPath), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            _ = fsync(folder)
            close(folder)
        }
    }
}

/// The folder a path is in.
func parentFolder(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}
