import CSystemShims
import Dispatch
import Logging
import Synchronization
import WireVocabulary

#if canImport(Glibc)
    import Glibc
#endif

/// A change to the media folders, as inotify reported it, in terms of a root and a path below it.
enum FileSystemChange: Sendable, Equatable {
    /// A file was written and closed, moved in from outside, or symlinked in.
    case fileChanged(root: String, path: String)
    case fileRemoved(root: String, path: String)
    case folderAppeared(root: String, path: String)
    case folderRemoved(root: String, path: String)
    case renamed(root: String, from: String, to: String, isFolder: Bool)
    /// The kernel dropped events; only a rescan can tell what happened.
    case overflow
}

/// Follows the media folders with inotify on a thread of its own that sleeps in `poll` until the kernel or
/// ``stop()`` wakes it: no timers, no periodic wake-ups.
final class InotifyWatcher: Sendable {
    private struct Watched: Sendable {
        var root: String
        var path: String
    }

    private struct State: Sendable {
        var byDescriptor: [Int32: Watched] = [:]
        /// Keyed by the exact bytes: Swift's `==` takes `café` in NFC and in NFD for one name, Linux for two.
        var byAbsolutePath: [[UInt8]: Int32] = [:]
        var limitReached = false
    }

    /// Opened by ``start()``, not before: an index that is only read (a test, a tool) holds no inotify instance,
    /// of which a user has 128 by default. -1 until then, and if it cannot be opened.
    private let descriptor = Atomic<Int32>(-1)
    private var inotifyFD: Int32 { descriptor.load(ordering: .acquiring) }
    private let wakeFD: Int32
    private let state = Mutex(State())
    private let maxWatches: Int
    private let logger: Logger
    private let deliver: @Sendable ([FileSystemChange]) -> Void
    private let onLimitReached: @Sendable () -> Void
    private let finished = DispatchSemaphore(value: 0)

    /// - parameter maxWatches: a cap below the kernel's `max_user_watches`, for tests of the fallback.
    init(
        maxWatches: Int?, logger: Logger,
        deliver: @escaping @Sendable ([FileSystemChange]) -> Void,
        onLimitReached: @escaping @Sendable () -> Void
    ) {
        wakeFD = mediapeer_eventfd()
        self.maxWatches = maxWatches ?? Int.max
        self.logger = logger
        self.deliver = deliver
        self.onLimitReached = onLimitReached
    }

    deinit {
        if inotifyFD >= 0 { close(inotifyFD) }
        close(wakeFD)
    }

    var limitReached: Bool { state.withLock { $0.limitReached } }
    var watchCount: Int { state.withLock { $0.byDescriptor.count } }

    /// Watches one folder (not its subfolders: the walk calls this for each).
    @discardableResult
    func watch(root: String, path: String, absolutePath: String) -> Bool {
        let mask = UInt32(
            IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF
                | IN_MOVE_SELF | IN_UNMOUNT | IN_ONLYDIR | IN_EXCL_UNLINK)
        return state.withLock { state -> Bool in
            if state.byAbsolutePath[Array(absolutePath.utf8)] != nil { return true }
            if state.byDescriptor.count >= maxWatches {
                return noteLimit(&state, reason: "configured cap of \(maxWatches) watches")
            }
            let descriptor = FileSystemName.withFileSystemPath(absolutePath) { inotify_add_watch(inotifyFD, $0, mask) }
            if descriptor < 0 {
                if errno == ENOSPC {
                    return noteLimit(&state, reason: "fs.inotify.max_user_watches is exhausted")
                }
                return false
            }
            if let previous = state.byDescriptor[descriptor] {
                // The same inode reached under another name (a bind mount): keep the first.
                state.byAbsolutePath[Array(absolutePath.utf8)] = descriptor
                _ = previous
                return true
            }
            state.byDescriptor[descriptor] = Watched(root: root, path: path)
            state.byAbsolutePath[Array(absolutePath.utf8)] = descriptor
            return true
        }
    }

    private func noteLimit(_ state: inout State, reason: String) -> Bool {
        if !state.limitReached {
            state.limitReached = true
            logger.warning(
                "inotify watch limit reached: live updates cover only part of the media folders; falling back to periodic rescans (raise fs.inotify.max_user_watches to fix)",
                metadata: ["reason": "\(reason)", "watches": "\(state.byDescriptor.count)"])
            onLimitReached()
        }
        return false
    }

    /// Forgets the watches of a folder and everything below it (after it was deleted or moved out).
    func unwatch(root: String, folder: String) {
        state.withLock { state in
            for (descriptor, watched) in state.byDescriptor
            where watched.root == root && Self.isSameOrBelow(watched.path, folder) {
                inotify_rm_watch(inotifyFD, descriptor)
                state.byDescriptor[descriptor] = nil
                state.byAbsolutePath[Array(Self.absolute(watched).utf8)] = nil
            }
        }
    }

    /// Opens the inotify instance and runs the event loop on a new thread until ``stop()``. Without an instance (the
    /// user's `fs.inotify.max_user_instances` are all taken) the folders are not watched: the index falls back to
    /// periodic rescans, as when the watches run out, rather than not starting.
    func start() {
        let opened = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        if opened >= 0 {
            descriptor.store(opened, ordering: .releasing)
        } else {
            let reason = String(cString: strerror(errno))
            state.withLock { state in
                state.limitReached = true
                logger.warning(
                    "cannot watch the media folders (inotify_init1: \(reason)); falling back to periodic rescans (raise fs.inotify.max_user_instances to fix)"
                )
            }
            onLimitReached()
        }
        startThread(name: "inotify") { [self] in
            run()
            finished.signal()
        }
    }

    /// Wakes the event loop and waits for it to end.
    func stop() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
        finished.wait()
    }

    private func run() {
        let bufferSize = 64 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 8)
        defer { buffer.deallocate() }
        var fds = [
            pollfd(fd: inotifyFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                logger.error(
                    "inotify poll failed; live updates stopped",
                    metadata: ["error": "\(String(cString: strerror(errno)))"])
                return
            }
            if fds[1].revents != 0 { return }
            var changes: [FileSystemChange] = []
            var pendingMoves: [UInt32: (Watched, String, Bool)] = [:]
            // Drain everything the kernel has, so the two halves of a rename are usually seen together.
            while true {
                let count = read(inotifyFD, buffer, bufferSize)
                if count <= 0 { break }
                parse(
                    buffer.assumingMemoryBound(to: CChar.self), length: count, into: &changes,
                    pendingMoves: &pendingMoves)
            }
            // A move whose other half never came left the tree.
            for (_, (watched, name, isFolder)) in pendingMoves {
                let path = Self.join(watched.path, name)
                if isFolder {
                    unwatch(root: watched.root, folder: path)
                    changes.append(.folderRemoved(root: watched.root, path: path))
                } else {
                    changes.append(.fileRemoved(root: watched.root, path: path))
                }
            }
            if !changes.isEmpty { deliver(changes) }
        }
    }

    private func parse(
        _ buffer: UnsafePointer<CChar>, length: Int, into changes: inout [FileSystemChange],
        pendingMoves: inout [UInt32: (Watched, String, Bool)]
    ) {
        var offset = 0
        while offset < length {
            var descriptor: Int32 = 0
            var mask: UInt32 = 0
            var cookie: UInt32 = 0
            var namePointer: UnsafePointer<CChar>? = nil
            let next = mediapeer_inotify_event_at(buffer, length, offset, &descriptor, &mask, &cookie, &namePointer)
            guard next > 0 else { return }
            offset = next
            if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                logger.warning("inotify queue overflowed; rescanning the media folders")
                changes.append(.overflow)
                continue
            }
            guard let watched = state.withLock({ $0.byDescriptor[descriptor] }) else { continue }
            if mask & UInt32(IN_IGNORED) != 0 {
                state.withLock { state in
                    state.byDescriptor[descriptor] = nil
                    state.byAbsolutePath[Array(Self.absolute(watched).utf8)] = nil
                }
                continue
            }
            if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT) != 0 {
                if watched.path.isEmpty {
                    // The watches now follow the moved inode elsewhere; drop them, a rescan adds them back.
                    unwatch(root: watched.root, folder: "")
                    logger.warning(
                        "a media folder was removed, moved or unmounted; its files stay in the index until a rescan finds it again",
                        metadata: ["folder": "\(watched.root)"])
                }
                continue
            }
            // Names are bytes, carried as the walk carries them (a Latin-1 name is a change like any other).
            guard let name = namePointer.map(FileSystemName.string(fromCString:)), !name.isEmpty,
                name.utf8.first != UInt8(ascii: ".")
            else { continue }
            let path = Self.join(watched.path, name)
            let isFolder = mask & UInt32(IN_ISDIR) != 0
            if mask & UInt32(IN_MOVED_FROM) != 0 {
                pendingMoves[cookie] = (watched, name, isFolder)
            } else if mask & UInt32(IN_MOVED_TO) != 0 {
                if let (from, fromName, _) = pendingMoves.removeValue(forKey: cookie), from.root == watched.root {
                    let fromPath = Self.join(from.path, fromName)
                    if isFolder { renameWatches(root: watched.root, from: fromPath, to: path) }
                    changes.append(.renamed(root: watched.root, from: fromPath, to: path, isFolder: isFolder))
                } else {
                    changes.append(
                        isFolder
                            ? .folderAppeared(root: watched.root, path: path)
                            : .fileChanged(root: watched.root, path: path))
                }
            } else if mask & UInt32(IN_CREATE) != 0 {
                if isFolder {
                    changes.append(.folderAppeared(root: watched.root, path: path))
                } else if Self.isSymlink(watched.root + "/" + path) {
                    // A symlink is complete when created; a regular file is indexed when its writer closes it.
                    changes.append(.fileChanged(root: watched.root, path: path))
                }
            } else if mask & UInt32(IN_CLOSE_WRITE) != 0 {
                changes.append(.fileChanged(root: watched.root, path: path))
            } else if mask & UInt32(IN_DELETE) != 0 {
                changes.append(
                    isFolder
                        ? .folderRemoved(root: watched.root, path: path) : .fileRemoved(root: watched.root, path: path))
            }
        }
    }

    private func renameWatches(root: String, from: String, to: String) {
        state.withLock { state in
            for (descriptor, watched) in state.byDescriptor
            where watched.root == root && Self.isSameOrBelow(watched.path, from) {
                let newPath = to + String(decoding: watched.path.utf8.dropFirst(from.utf8.count), as: UTF8.self)
                let renamed = Watched(root: root, path: newPath)
                state.byAbsolutePath[Array(Self.absolute(watched).utf8)] = nil
                state.byAbsolutePath[Array(Self.absolute(renamed).utf8)] = descriptor
                state.byDescriptor[descriptor] = renamed
            }
        }
    }

    private static func isSameOrBelow(_ path: String, _ folder: String) -> Bool {
        // By bytes, as the kernel names them (not by Swift's canonical equivalence).
        folder.isEmpty || path.utf8.elementsEqual(folder.utf8) || path.utf8.starts(with: (folder + "/").utf8)
    }

    private static func join(_ folder: String, _ name: String) -> String {
        folder.isEmpty ? name : folder + "/" + name
    }

    private static func absolute(_ watched: Watched) -> String {
        watched.path.isEmpty ? watched.root : watched.root + "/" + watched.path
    }

    private static func isSymlink(_ path: String) -> Bool {
        var info = mediapeer_file_status()
        let stated = FileSystemName.withFileSystemPath(path) { mediapeer_fstatat(AT_FDCWD, $0, 0, &info) }
        return stated == 0 && info.mode & S_IFMT == S_IFLNK
    }
}
