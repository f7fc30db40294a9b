import CSystemShims
import ControlWire
import Foundation

/// Why the control socket cannot be used.
public enum ControlSocketError: Error, CustomStringConvertible, Equatable {
    case alreadyInUse(path: String)
    case cannotPrepare(path: String, reason: String)

    public var description: String {
        switch self {
        case .alreadyInUse(let path): "another mediapeerd is already listening on \(path)"
        case .cannotPrepare(let path, let reason): "cannot use the control socket \(path): \(reason)"
        }
    }
}

enum ControlSocket {
    /// Creates the socket's folder and removes a stale socket left by a daemon that died, but never steals the
    /// socket of one that is still running.
    static func prepare(path: String) throws(ControlSocketError) {
        guard path.utf8.count < 108 else {
            throw .cannotPrepare(path: path, reason: "path longer than 107 bytes (the limit of a Unix socket address)")
        }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do {
                try FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o755])
            } catch {
                throw .cannotPrepare(path: path, reason: "cannot create \(folder): \(error.localizedDescription)")
            }
        }
        var info = mediapeer_file_status()
        guard mediapeer_fstatat(AT_FDCWD, path, 0, &info) == 0 else { return }
        guard info.mode & S_IFMT == S_IFSOCK else {
            throw .cannotPrepare(
                path: path,
                reason: "a file that is not a socket is in the way; remove it or choose another control_socket")
        }
        if ControlSocketProbe.isAcceptingConnections(path) { throw .alreadyInUse(path: path) }
        guard unlink(path) == 0 else {
            throw .cannotPrepare(
                path: path, reason: "cannot remove the stale socket: \(String(cString: strerror(errno)))")
        }
    }
}
