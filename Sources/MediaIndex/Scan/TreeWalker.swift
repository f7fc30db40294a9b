import CSystemShims
import WireVocabulary

#if canImport(Glibc)
    import Glibc
#endif

/// Why the walk passed over an entry. Counted per scan and logged, never fatal.
enum SkipReason: String, Sendable, CaseIterable {
    case hidden = "hidden file or folder"
    case unreadable = "unreadable"
    case symlinkLeavesRoot = "symlink leading outside the media folder"
    case symlinkedFolder = "symlinked folder (not followed, to avoid loops and duplicates)"
    case brokenSymlink = "broken symlink"
    case notRegularFile = "not a regular file (device, socket or pipe)"
    case contentMismatch = "content does not match its media extension"

    /// The short name used in status output and JSON.
    var key: String { String(describing: self) }
}

/// Walks one media folder with `readdir` and `fstatat`, depth first, without following symlinked folders. Both go
/// through CSystemShims, whose 64-bit calls list and stat entries with 64-bit inode numbers and sizes on 32-bit ARM
/// too (XFS inode64, large network shares), where Glibc's own `readdir` would end the listing early.
///
/// Directories are reported before their entries are read, so an inotify watch added in the callback can never
/// miss a file created while the folder is being listed.
///
/// Names are bytes: each is carried as a ``FileSystemName`` (a Latin-1 `caf\xE9.jpg` is indexed, not skipped), and
/// every path is handed back to the kernel through ``FileSystemName/withFileSystemPath(_:_:)``, so the file opened
/// again is exactly the one listed.
struct TreeWalker {
    struct File {
        var relativePath: String
        var absolutePath: String
        var facts: FileFacts
    }

    let root: String
    let rootRealPath: String

    init(root: String) {
        self.root = root
        self.rootRealPath = Self.realPath(root) ?? root
    }

    /// Walks `root/start` (or the whole root when `start` is empty).
    func walk(
        from start: String = "",
        directory: (_ absolutePath: String, _ relativePath: String) -> Void,
        file: (File) -> Void,
        skip: (SkipReason, _ relativePath: String) -> Void
    ) {
        var pending: [String] = [start]
        while let relativeDirectory = pending.popLast() {
            let absoluteDirectory = relativeDirectory.isEmpty ? root : root + "/" + relativeDirectory
            directory(absoluteDirectory, relativeDirectory)
            guard let handle = FileSystemName.withFileSystemPath(absoluteDirectory, { opendir($0) }) else {
                if errno != ENOENT { skip(.unreadable, relativeDirectory) }
                continue
            }
            defer { closedir(handle) }
            let directoryFD = dirfd(handle)
            var entry = mediapeer_directory_entry()
            while true {
                let read = mediapeer_read_directory(handle, &entry)
                if read < 0 { skip(.unreadable, relativeDirectory) }
                if read <= 0 { break }
                let name = FileSystemName.string(fromCString: entry.name)
                if name == "." || name == ".." { continue }
                let relativePath = relativeDirectory.isEmpty ? name : relativeDirectory + "/" + name
                if name.utf8.first == UInt8(ascii: ".") {
                    skip(.hidden, relativePath)
                    continue
                }
                let type = entry.type
                if type == DT_DIR {
                    pending.append(relativePath)
                    continue
                }
                if type != DT_REG, type != DT_LNK, type != DT_UNKNOWN {
                    skip(.notRegularFile, relativePath)
                    continue
                }
                var info = mediapeer_file_status()
                guard FileSystemName.withFileSystemPath(name, { mediapeer_fstatat(directoryFD, $0, 0, &info) }) == 0
                else { continue }
                let absolutePath = absoluteDirectory + "/" + name
                switch info.mode & S_IFMT {
                case S_IFDIR:
                    pending.append(relativePath)
                case S_IFREG:
                    file(File(relativePath: relativePath, absolutePath: absolutePath, facts: Self.facts(info)))
                case S_IFLNK:
                    guard let target = Self.realPath(absolutePath) else {
                        skip(.brokenSymlink, relativePath)
                        continue
                    }
                    guard Self.isSameOrBelow(target, rootRealPath) else {
                        skip(.symlinkLeavesRoot, relativePath)
                        continue
                    }
                    var targetInfo = mediapeer_file_status()
                    let stated = FileSystemName.withFileSystemPath(absolutePath) {
                        mediapeer_fstatat(AT_FDCWD, $0, 1, &targetInfo)
                    }
                    guard stated == 0 else {
                        skip(.brokenSymlink, relativePath)
                        continue
                    }
                    switch targetInfo.mode & S_IFMT {
                    case S_IFREG:
                        file(
                            File(relativePath: relativePath, absolutePath: absolutePath, facts: Self.facts(targetInfo)))
                    case S_IFDIR: skip(.symlinkedFolder, relativePath)
                    default: skip(.notRegularFile, relativePath)
                    }
                default:
                    skip(.notRegularFile, relativePath)
                }
            }
        }
    }

    static func facts(_ info: mediapeer_file_status) -> FileFacts {
        FileFacts(size: info.size, mtimeNanoseconds: info.mtime_ns, inode: Int64(bitPattern: info.inode))
    }

    /// `stat` of a path, following symlinks.
    static func facts(ofFileAt path: String) -> (facts: FileFacts, isRegularFile: Bool, isDirectory: Bool)? {
        var info = mediapeer_file_status()
        guard FileSystemName.withFileSystemPath(path, { mediapeer_fstatat(AT_FDCWD, $0, 1, &info) }) == 0 else {
            return nil
        }
        let type = info.mode & S_IFMT
        return (facts(info), type == S_IFREG, type == S_IFDIR)
    }

    /// The device of the file system holding the folder at `path` (`st_dev`), or nil if there is none.
    static func device(ofFolderAt path: String) -> UInt64? {
        var info = mediapeer_file_status()
        guard FileSystemName.withFileSystemPath(path, { mediapeer_fstatat(AT_FDCWD, $0, 1, &info) }) == 0,
            info.mode & S_IFMT == S_IFDIR
        else { return nil }
        return info.device
    }

    /// Whether the folder at `path` has no entries at all (an unmounted drive's mount point has none).
    static func isEmptyFolder(_ path: String) -> Bool {
        guard let folder = FileSystemName.withFileSystemPath(path, { opendir($0) }) else { return false }
        defer { closedir(folder) }
        var entry = mediapeer_directory_entry()
        while mediapeer_read_directory(folder, &entry) > 0 {
            let name = FileSystemName.string(fromCString: entry.name)
            if name != "." && name != ".." { return false }
        }
        return true
    }

    /// True when `path`, with every symlink resolved, is inside `root`.
    static func staysInside(_ path: String, root: String) -> Bool {
        guard let resolved = realPath(path), let resolvedRoot = realPath(root) else { return false }
        return resolved.utf8.starts(with: (resolvedRoot + "/").utf8)
    }

    /// Compared by bytes, as the kernel names files: Swift's `==` and `hasPrefix` take `café` in NFC and in NFD
    /// for one name, which Linux keeps as two.
    private static func isSameOrBelow(_ path: String, _ folder: String) -> Bool {
        path.utf8.elementsEqual(folder.utf8) || path.utf8.starts(with: (folder + "/").utf8)
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = FileSystemName.withFileSystemPath(path, { realpath($0, nil) }) else { return nil }
        defer { free(resolved) }
        return FileSystemName.string(fromCString: resolved)
    }
}
