import CSystemShims
import MediapeerConfig

#if canImport(Glibc)
    import Glibc
#endif

/// The cache's room: the `cache_max` quota (bytes, or a share of the file system) and the disk's free space,
/// checked before a fetch starts and while it runs, so a fetch that cannot fit fails early and cleanly. The quota
/// is read from the shared settings at each check, so a `cache_max` lowered by SIGHUP applies to running fetches.
struct CacheSpace: Sendable {
    let folder: String
    let settings: ReplicationSettings
    /// Space left free on the file system for everything else on the box.
    static let reserve: Int64 = 64 << 20

    init(folder: String, settings: ReplicationSettings) {
        self.folder = folder
        self.settings = settings
    }

    /// A space with a fixed limit (tests).
    init(folder: String, limit: CacheLimit) {
        self.init(folder: folder, settings: ReplicationSettings(.init(cacheLimit: limit)))
    }

    /// The quota now: `cache_max` as configured and in bytes on this file system.
    func quota() throws(ReplicationError) -> (limit: CacheLimit, bytes: Int64) {
        let space = try fileSystem()
        let limit = settings.current.cacheLimit
        return (limit, limit.resolved(filesystemSize: space.size))
    }

    /// Sizes in bytes of the file system holding the cache.
    struct FileSystemSpace: Equatable {
        var size: Int64
        /// What an unprivileged process may still write.
        var available: Int64

        /// Block counts times the block size, in 64 bits on every architecture (`statvfs64` through CSystemShims:
        /// Glibc's own `statvfs` fails with EOVERFLOW on armhf for a disk of 2^32 blocks or more). A product past
        /// `Int64.max` (no real disk) reads as `Int64.max` rather than trapping.
        init(blockSize: UInt64, blocks: UInt64, availableBlocks: UInt64) {
            size = Self.bytes(blocks, of: blockSize)
            available = Self.bytes(availableBlocks, of: blockSize)
        }

        private static func bytes(_ blocks: UInt64, of blockSize: UInt64) -> Int64 {
            let (product, overflow) = blocks.multipliedReportingOverflow(by: blockSize)
            return overflow ? .max : Int64(clamping: product)
        }
    }

    private func fileSystem() throws(ReplicationError) -> FileSystemSpace {
        var space = mediapeer_file_system_space()
        guard mediapeer_file_system_space(folder, &space) == 0 else {
            throw .cache("cannot read the free space of \(folder): \(String(cString: strerror(errno)))")
        }
        return FileSystemSpace(
            blockSize: space.fragment_size, blocks: space.blocks, availableBlocks: space.available_blocks)
    }

    /// - parameter objectSize: the object to fit; `otherReplicas`: bytes the other replicas take;
    ///   `stillToWrite`: bytes of this object not on disk yet.
    func check(objectSize: Int64, otherReplicas: Int64, stillToWrite: Int64) throws(ReplicationError) {
        try check(
            objectSize: objectSize, otherReplicas: otherReplicas, stillToWrite: stillToWrite, space: fileSystem())
    }

    /// The check against a given file system's space (tests give disks larger than this machine's).
    func check(objectSize: Int64, otherReplicas: Int64, stillToWrite: Int64, space: FileSystemSpace)
        throws(ReplicationError)
    {
        let limit = settings.current.cacheLimit
        let quota = limit.resolved(filesystemSize: space.size)
        if objectSize > quota - otherReplicas {
            throw .doesNotFit(
                needed: objectSize, available: max(0, quota - otherReplicas),
                reason: "cache_max (\(limit), \(quota) bytes here) with \(otherReplicas) bytes of other replicas")
        }
        let free = space.available
        if stillToWrite > free - Self.reserve {
            throw .doesNotFit(
                needed: stillToWrite, available: max(0, free - Self.reserve),
                reason: "the free disk space of \(folder) (keeping \(Self.reserve >> 20) MiB spare)")
        }
    }
}
