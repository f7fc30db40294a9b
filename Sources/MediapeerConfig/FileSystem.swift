import CSystemShims

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The few file-system questions validation asks, answered with POSIX
/// calls so that messages can carry the system's own reason (`errno`).
enum FileSystem {
    enum Kind {
        case directory
        case other
    }

    enum Lookup {
        case found(Kind)
        case missing
        /// Any other failure, such as permission denied on a parent, with the system's reason.
        case failed(String)
    }

    /// `stat` through CSystemShims: Glibc's own fails with EOVERFLOW on armhf for a path whose inode number or size
    /// does not fit 32 bits, which would read as a failure here.
    static func lookup(_ path: String) -> Lookup {
        var info = mediapeer_file_status()
        if mediapeer_fstatat(AT_FDCWD, path, 1, &info) == 0 {
            return .found((info.mode & S_IFMT) == S_IFDIR ? .directory : .other)
        }
        let code = errno
        return code == ENOENT ? .missing : .failed(reason(code))
    }

    /// Whether the current user can list and read a directory. A check run
    /// as root always passes, which is why messages say "by this user".
    static func readableDirectoryProblem(_ path: String) -> String? {
        access(path, R_OK | X_OK) == 0 ? nil : reason(errno)
    }

    /// The path with symbolic links, `.` and `..` resolved, or nil if it does not exist.
    static func resolved(_ path: String) -> String? {
        guard let pointer = realpath(path, nil) else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    static func reason(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// The host name, which is what a person calls this box when nothing else is configured.
    static func hostName() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return nil }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? nil : name
    }

    /// The file's bytes, or the system's reason for not reading them.
    static func contents(of path: String) -> Result<[UInt8], ReadFailure> {
        let fd = mediapeer_open(path, O_RDONLY | O_CLOEXEC, 0)
        guard fd >= 0 else {
            let code = errno
            return .failure(ReadFailure(isMissing: code == ENOENT, reason: reason(code)))
        }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { return .success(result) }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                return .failure(ReadFailure(isMissing: false, reason: reason(code)))
            }
            result.append(contentsOf: chunk[..<count])
        }
    }

    struct ReadFailure: Error {
        var isMissing: Bool
        var reason: String
    }
}

/// Path spellings that mean the same thing wherever they appear: `//` is
/// `/`, `/./` is `/`, and a trailing `/` changes nothing for a directory.
/// `..` is kept, because `a/link/..` need not be `a`.
func normalizedPath(_ path: String) -> String {
    guard path.hasPrefix("/") else { return path }
    let components = path.split(separator: "/").filter { $0 != "." }
    return "/" + components.joined(separator: "/")
}

/// The parent directory of a normalized absolute path.
func parentPath(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
    return String(path[..<slash])
}

/// Whether `inner` is strictly inside `outer`, both normalized or resolved.
func isPath(_ inner: String, inside outer: String) -> Bool {
    guard inner != outer else { return false }
    return outer == "/" || inner.hasPrefix(outer + "/")
}
