import Crypto
import WireVocabulary

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Computes a file's ``ChunkManifest`` by reading it once, sequentially, in chunk-sized reads.
public enum FileHasher {
    /// Hashes the file at `path`.
    ///
    /// - parameter shouldContinue: asked before each chunk; returning false stops early with
    ///   ``HashingError/cancelled``, so a shutdown never waits for a multi-gigabyte file.
    /// - returns: the manifest, and the file's size as read (which may differ from an earlier `stat` if the file
    ///   was being written: callers compare it).
    public static func manifest(
        ofFileAt path: String,
        chunkSize: Int = ChunkManifest.standardChunkSize,
        shouldContinue: () -> Bool = { true }
    ) throws(HashingError) -> ChunkManifest {
        let fd = FileSystemName.withFileSystemPath(path) { open($0, O_RDONLY | O_CLOEXEC | largeFile) }
        guard fd >= 0 else { throw .cannotRead(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        #if os(Linux)
            _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        #endif

        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 4096)
        defer { buffer.deallocate() }
        var hashes = [UInt8]()
        var total: Int64 = 0
        while true {
            guard shouldContinue() else { throw .cancelled }
            let filled = try readFully(fd: fd, into: buffer, path: path)
            if filled == 0 { break }
            hashes.append(contentsOf: SHA256.hash(data: UnsafeRawBufferPointer(rebasing: buffer[..<filled])))
            total += Int64(filled)
            if filled < chunkSize { break }
        }
        do {
            return try ChunkManifest(fileSize: total, chunkSize: chunkSize, packedChunkHashes: hashes)
        } catch {
            // The manifest is built from our own counts, so this is unreachable unless the arithmetic above is wrong.
            fatalError("inconsistent manifest for \(path): \(error)")
        }
    }

    /// Reads until the buffer is full or the file ends: a short read mid-file (signals, network file systems) must
    /// not end a chunk early.
    private static func readFully(fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String)
        throws(HashingError) -> Int
    {
        var filled = 0
        while filled < buffer.count {
            let n = read(fd, buffer.baseAddress! + filled, buffer.count - filled)
            if n > 0 {
                filled += n
            } else if n == 0 {
                break
            } else if errno != EINTR {
                throw .cannotRead(path: path, reason: String(cString: strerror(errno)))
            }
        }
        return filled
    }
}

/// Why a file could not be hashed.
public enum HashingError: Error, Equatable, CustomStringConvertible {
    case cannotRead(path: String, reason: String)
    case cancelled

    public var description: String {
        switch self {
        case .cannotRead(let path, let reason): "cannot read \(path): \(reason)"
        case .cancelled: "hashing cancelled"
        }
    }
}

/// O_LARGEFILE where Swift's Glibc module has 32-bit file offsets (32-bit ARM): without it, open() refuses a file
/// past 2 GiB with EOVERFLOW. Sequential read() needs nothing more.
#if canImport(Glibc) && arch(arm)
    private let largeFile: Int32 = 0o400000
#elseif canImport(Glibc) && arch(i386)
    private let largeFile: Int32 = 0o100000
#else
    private let largeFile: Int32 = 0
#endif
