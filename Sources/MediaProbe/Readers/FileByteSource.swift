import CSystemShims
import WireVocabulary

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A read-only file descriptor read with `pread`, with 64-bit offsets on
/// every platform. The descriptor is closed when the source is released.
///
/// Swift's Glibc module is imported without `_FILE_OFFSET_BITS=64`, so on
/// 32-bit ARM `off_t`, `pread` and `fstat` are 32-bit and a file past 2 GiB
/// can neither be opened nor read at its end: the calls go through
/// CSystemShims, compiled with 64-bit offsets.
final class FileByteSource: ByteSource {
    let descriptor: Int32
    let path: String
    private(set) var size: Int64 = 0
    /// The errno of the last failed read, for callers that report it.
    private(set) var lastError: Int32 = 0

    /// Opens `path` for reading; `measure` also finds its length (one more syscall).
    init(path: String, measure: Bool) throws(MediaProbeError) {
        let fd = FileSystemName.withFileSystemPath(path, LargeFile.openReadOnly)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: errnoDescription(errno)) }
        self.descriptor = fd
        self.path = path
        if measure {
            let end = LargeFile.fileSize(fd)
            guard end >= 0 else { throw .readFailed(path: path, reason: errnoDescription(errno)) }
            size = end
        }
    }

    deinit {
        _ = close(descriptor)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int? {
        var total = 0
        while total < buffer.count {
            let n = LargeFile.readAt(
                descriptor, buffer.baseAddress.map { $0 + total }, buffer.count - total, offset &+ Int64(total))
            if n < 0 {
                if errno == EINTR { continue }
                lastError = errno
                return nil
            }
            if n == 0 { break }
            total += n
        }
        return total
    }

    /// Up to `count` bytes from the start of the file, in one `pread` for a regular file.
    func readPrefix(count: Int) throws(MediaProbeError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let got = buffer.withUnsafeMutableBytes { read(into: $0, at: 0) }
        guard let got else { throw .readFailed(path: path, reason: errnoDescription(errno)) }
        buffer.removeLast(count - got)
        return buffer
    }
}

/// The text of an errno value (`strerror_r`, since `strerror` may share a buffer between threads).
func errnoDescription(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    // Swift imports the XSI variant (no _GNU_SOURCE): it fills the buffer and returns 0.
    guard strerror_r(code, &buffer, buffer.count) == 0 else { return "errno \(code)" }
    return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// `open`, `pread` and the length of a file with 64-bit offsets on every architecture, through CSystemShims (compiled
/// with `_FILE_OFFSET_BITS=64`: Swift's Glibc module has the 32-bit `off_t`, `pread` and `fstat` on armhf).
private enum LargeFile {
    static func openReadOnly(_ path: UnsafePointer<CChar>) -> Int32 {
        var fd: Int32
        repeat {
            // O_NONBLOCK: a FIFO named like a movie must not hang the scan; regular files ignore it.
            fd = mediapeer_open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0)
        } while fd < 0 && errno == EINTR
        return fd
    }

    static func readAt(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ offset: Int64) -> Int {
        // narrowing: checked because count is what is left of a buffer, never negative
        mediapeer_pread(fd, buffer, UInt(count), offset)
    }

    /// The file's length, or -1 with errno set.
    static func fileSize(_ fd: Int32) -> Int64 {
        mediapeer_file_size(fd)
    }
}
