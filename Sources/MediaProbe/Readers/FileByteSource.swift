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
/// can neither be opened nor read at its end. There we open with
/// `O_LARGEFILE` and call glibc's `pread64`/`lseek64`, looked up once at run
/// time because the module does not declare them.
final class FileByteSource: ByteSource {
    let descriptor: Int32
    let path: String
    private(set) var size: Int64 = 0
    /// The errno of the last failed read, for callers that report it.
    private(set) var lastError: Int32 = 0

    /// Opens `path` for reading; `measure` also finds its length (one more syscall).
    init(path: String, measure: Bool) throws(MediaProbeError) {
        let fd = path.withCString { LargeFile.openReadOnly($0) }
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

private enum LargeFile {
    #if canImport(Glibc) && (arch(arm) || arch(i386))
        private typealias PRead64 = @convention(c) (Int32, UnsafeMutableRawPointer?, Int, Int64) -> Int
        private typealias LSeek64 = @convention(c) (Int32, Int64, Int32) -> Int64

        // Immutable after their one-time initialisation; C function pointers are
        // simply not declared Sendable.
        private nonisolated(unsafe) static let pread64: PRead64? = symbol("pread64")
        private nonisolated(unsafe) static let lseek64: LSeek64? = symbol("lseek64")

        private static func symbol<F>(_ name: String) -> F? {
            // A null handle is RTLD_DEFAULT on glibc.
            guard MemoryLayout<off_t>.size < 8, let address = dlsym(nil, name) else { return nil }
            return unsafeBitCast(address, to: F.self)
        }

        #if arch(arm)
            private static let largeFileFlag: Int32 = 0o400000
        #else
            private static let largeFileFlag: Int32 = 0o100000
        #endif
    #else
        private static let largeFileFlag: Int32 = 0
    #endif

    static func openReadOnly(_ path: UnsafePointer<CChar>) -> Int32 {
        var fd: Int32
        repeat {
            // O_NONBLOCK: a FIFO named like a movie must not hang the scan; regular files ignore it.
            fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | largeFileFlag)
        } while fd < 0 && errno == EINTR
        return fd
    }

    static func readAt(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ offset: Int64) -> Int {
        #if canImport(Glibc) && (arch(arm) || arch(i386))
            if let pread64 { return pread64(fd, buffer, count, offset) }
            guard offset <= Int64(off_t.max) else {
                errno = EOVERFLOW
                return -1
            }
        #endif
        return pread(fd, buffer, count, off_t(offset))
    }

    /// The file's length, or -1 with errno set.
    static func fileSize(_ fd: Int32) -> Int64 {
        #if canImport(Glibc) && (arch(arm) || arch(i386))
            if let lseek64 { return lseek64(fd, 0, SEEK_END) }
        #endif
        var info = stat()
        guard fstat(fd, &info) == 0 else { return -1 }
        return Int64(info.st_size)
    }
}
