import CSystemShims

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The file systems mounted below a media folder: a USB drive on `Films/usb` of a folder on the SD card. While such a
/// drive is out, its mount point is an empty folder on the media folder's own file system, which a walk alone cannot
/// tell from a folder emptied on purpose; the mount table can.
enum MountPoints {
    /// The mount points strictly below `root` (a resolved path), relative to it, in `mountinfo`'s order:
    /// `/proc/self/mountinfo`'s fifth field, with its octal escapes (`\040` for a space) undone.
    static func below(_ root: String, mountinfo: String) -> [String] {
        let prefix = root.hasSuffix("/") ? root : root + "/"
        var found: [String] = []
        for line in mountinfo.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: false)
            guard fields.count > 4 else { continue }
            let mountPoint = unescaped(fields[4])
            guard mountPoint.utf8.count > prefix.utf8.count, mountPoint.utf8.starts(with: prefix.utf8) else { continue }
            let relative = String(decoding: mountPoint.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
            if !found.contains(relative) { found.append(relative) }
        }
        return found
    }

    /// The mount points below the media folder at `root` now, relative to it (none when the table cannot be read).
    static func current(below root: String) -> Set<String> {
        current(below: [root])[root] ?? []
    }

    /// The mount points below each media folder now, relative to it, from one reading of the mount table.
    static func current(below roots: [String]) -> [String: Set<String>] {
        let table = readMountTable()
        var mounts: [String: Set<String>] = [:]
        for root in roots {
            guard let table, let resolved = TreeWalker.realPath(root) else {
                mounts[root] = []
                continue
            }
            mounts[root] = Set(below(resolved, mountinfo: table))
        }
        return mounts
    }

    /// `\ooo` (three octal digits) back to its byte; anything else as it is.
    private static func unescaped(_ field: Substring) -> String {
        var bytes: [UInt8] = []
        let utf8 = Array(field.utf8)
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "\\"), index + 3 < utf8.count,
                let value = octal(utf8[(index + 1)...(index + 3)])
            {
                bytes.append(value)
                index += 4
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func octal(_ digits: ArraySlice<UInt8>) -> UInt8? {
        var value = 0
        for digit in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(digit) else { return nil }
            value = value * 8 + Int(digit - UInt8(ascii: "0"))
        }
        return UInt8(exactly: value)
    }

    /// `/proc/self/mountinfo`, at most 4 MiB (a box has tens of mounts; a container host may have thousands).
    private static func readMountTable() -> String? {
        let descriptor = mediapeer_open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC, 0)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while bytes.count < 4 << 20 {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            bytes.append(contentsOf: buffer[..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
