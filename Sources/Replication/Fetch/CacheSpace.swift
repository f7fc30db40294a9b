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
        let info = try fileSystem()
        let limit = settings.current.cacheLimit
        return (limit, limit.resolved(filesystemSize: Int64(info.f_blocks) * Int64(info.f_frsize)))
    }

    private func fileSystem() throws(ReplicationError) -> statvfs {
        var info = statvfs()
        guard statvfs(folder, &info) == 0 else {
            throw .cache("cannot read the free space of \(folder): \(String(cString: strerror(errno)))")
        }
        return info
    }

    /// - parameter objectSize: the object to fit; `otherReplicas`: bytes the other replicas take;
    ///   `stillToWrite`: bytes of this object not on disk yet.
    func check(objectSize: Int64, otherReplicas: Int64, stillToWrite: Int64) throws(ReplicationError) {
        let info = try fileSystem()
        let limit = settings.current.cacheLimit
        let blockSize = Int64(info.f_frsize)
        let quota = limit.resolved(filesystemSize: Int64(info.f_blocks) * blockSize)
        if otherReplicas + objectSize > quota {
            throw .doesNotFit(
                needed: objectSize, available: max(0, quota - otherReplicas),
                reason: "cache_max (\(limit), \(quota) bytes here) with \(otherReplicas) bytes of other replicas")
        }
        let free = Int64(info.f_bavail) * blockSize
        if stillToWrite + Self.reserve > free {
            throw .doesNotFit(
                needed: stillToWrite, available: max(0, free - Self.reserve),
                reason: "the free disk space of \(folder) (keeping \(Self.reserve >> 20) MiB spare)")
        }
    }
}
