import Foundation

/// A small ext4 file system in an image file on a loop device, mounted at one path both on this machine and inside a
/// box of a simulated home: the same device mounted twice is one file system, so the box's daemon and the suite's
/// checks (run outside the box) see the same files. A box's mount namespace is private, so a mount made on only one
/// side would be invisible on the other.
final class LoopDrive {
    let home: SimulatedHome
    let box: Int
    let mountPoint: String
    let device: String
    private let image: String
    private(set) var mounted = false

    /// Whether this machine can make one: mkfs.ext4, and a free loop device (a container may have none).
    static let available: Bool = {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/mkfs.ext4"),
            FileManager.default.isExecutableFile(atPath: "/usr/sbin/losetup")
        else { return false }
        return (try? Command.run("/usr/sbin/losetup", ["--find"]))?.status == 0
    }()

    /// Makes an empty file system of `megabytes` MiB for box `box` at `mountPoint` (created if missing), not mounted.
    init(_ home: SimulatedHome, box: Int, at mountPoint: String, megabytes: Int) throws {
        self.home = home
        self.box = box
        self.mountPoint = mountPoint
        image = home.folder + "/drive-\(box)-" + (mountPoint as NSString).lastPathComponent + ".img"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: image, contents: nil), truncate(image, off_t(megabytes) << 20) == 0
        else { throw TestFailure("cannot make the image \(image)") }
        let made = try Command.run("/usr/sbin/mkfs.ext4", ["-q", "-F", "-m", "0", image], timeout: .seconds(60))
        guard made.status == 0 else { throw TestFailure("mkfs.ext4 \(image) failed: \(made.stderr)") }
        let attached = try Command.run("/usr/sbin/losetup", ["--find", "--show", image])
        guard attached.status == 0 else { throw TestFailure("losetup \(image) failed: \(attached.stderr)") }
        device = attached.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit {
        unmount()
        _ = try? Command.run("/usr/sbin/losetup", ["-d", device])
        try? FileManager.default.removeItem(atPath: image)
    }

    /// Mounts the file system on both sides (`options` as `mount -o` takes them).
    func mount(options: String = "rw") throws {
        let host = try Command.run("/usr/bin/mount", ["-o", options, device, mountPoint])
        guard host.status == 0 else { throw TestFailure("mount \(device) \(mountPoint) failed: \(host.stderr)") }
        let inBox = try home.exec(box, ["mount", "-o", options, device, mountPoint])
        guard inBox.status == 0 else {
            _ = try? Command.run("/usr/bin/umount", [mountPoint])
            throw TestFailure("mount \(device) \(mountPoint) in box \(box) failed: \(inBox.stderr)")
        }
        mounted = true
    }

    /// Unmounts it on both sides (lazily, so a daemon's open file does not keep it), as a drive pulled out.
    func unmount() {
        guard mounted else { return }
        _ = try? home.exec(box, ["umount", "-l", mountPoint])
        _ = try? Command.run("/usr/bin/umount", ["-l", mountPoint])
        mounted = false
    }

    /// Bytes an unprivileged writer may still write on it.
    func available() throws -> Int64 {
        var space = statvfs()
        guard statvfs(mountPoint, &space) == 0 else { throw TestFailure("statvfs \(mountPoint): errno \(errno)") }
        return Int64(space.f_bavail) * Int64(space.f_frsize)
    }

    /// Fills it with a file `name` at its root until `leaving` bytes or fewer are free.
    func fill(_ name: String, leaving: Int64) throws {
        let size = try available() - leaving
        guard size > 0 else { return }
        let path = mountPoint + "/" + name
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw TestFailure("cannot create \(path): errno \(errno)") }
        defer { close(descriptor) }
        guard posix_fallocate(descriptor, 0, off_t(size)) != 0 else { return }
        // A nearly full disk may refuse the allocation whole: then as much as fits, a block at a time.
        let block = [UInt8](repeating: 0, count: 1 << 16)
        var written: Int64 = 0
        while written < size, write(descriptor, block, block.count) > 0 { written += Int64(block.count) }
    }
}
