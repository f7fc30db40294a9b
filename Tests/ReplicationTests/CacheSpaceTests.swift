import Foundation
import MediapeerConfig
import Testing

@testable import Replication

/// The cache's room on disks larger than 32-bit block counts and sizes can describe (`statvfs64` through
/// CSystemShims, products in 64 bits).
@Suite struct CacheSpaceTests {
    private static let gib: Int64 = 1 << 30

    @Test func aDiskOf2To32BlocksHasItsFullSize() {
        let space = CacheSpace.FileSystemSpace(blockSize: 4096, blocks: 1 << 32, availableBlocks: 3 << 30)
        #expect(space.size == 16 << 40)
        #expect(space.available == 12 << 40)
    }

    @Test func aProductPastInt64ReadsAsInt64MaxInsteadOfTrapping() {
        let space = CacheSpace.FileSystemSpace(blockSize: 1 << 20, blocks: .max, availableBlocks: 1 << 43)
        #expect(space.size == .max)
        #expect(space.available == .max)
    }

    @Test func aPercentageOfA16TiBDiskFitsA10GiBObject() throws {
        let space = CacheSpace(folder: "/nonexistent", limit: .percentOfFilesystem(20))
        let disk = CacheSpace.FileSystemSpace(blockSize: 4096, blocks: 1 << 32, availableBlocks: 1 << 32)
        try space.check(
            objectSize: 10 * Self.gib, otherReplicas: 3_000 * Self.gib, stillToWrite: 10 * Self.gib, space: disk)
    }

    @Test func anObjectPastTheQuotaDoesNotFitAndSaysWhy() {
        let space = CacheSpace(folder: "/nonexistent", limit: .bytes(10 * Self.gib))
        let disk = CacheSpace.FileSystemSpace(blockSize: 4096, blocks: 1 << 32, availableBlocks: 1 << 32)
        #expect {
            try space.check(
                objectSize: 5 * Self.gib, otherReplicas: 6 * Self.gib, stillToWrite: 5 * Self.gib, space: disk)
        } throws: { error in
            guard case .doesNotFit(let needed, let available, _) = error as? ReplicationError else { return false }
            return needed == 5 * Self.gib && available == 4 * Self.gib
        }
    }

    @Test func anObjectPastTheFreeSpaceDoesNotFit() {
        let space = CacheSpace(folder: "/nonexistent", limit: .bytes(.max))
        let disk = CacheSpace.FileSystemSpace(blockSize: 4096, blocks: 1 << 32, availableBlocks: 1 << 20)
        #expect {
            try space.check(objectSize: 5 * Self.gib, otherReplicas: 0, stillToWrite: 5 * Self.gib, space: disk)
        } throws: { error in
            guard case .doesNotFit(_, let available, let reason) = error as? ReplicationError else { return false }
            return available == 4 * Self.gib - CacheSpace.reserve && reason.contains("free disk space")
        }
    }

    @Test func theQuotaOfThisMachinesDiskMatchesStatvfs() throws {
        let folder = NSTemporaryDirectory()
        var info = statvfs()
        try #require(statvfs(folder, &info) == 0)
        let (_, bytes) = try CacheSpace(folder: folder, limit: .percentOfFilesystem(100)).quota()
        #expect(bytes == Int64(info.f_blocks) * Int64(info.f_frsize))
    }
}
