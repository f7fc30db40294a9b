import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A child process started with `posix_spawn` and reaped with `waitpid`, for the test harnesses.
///
/// Foundation's `Process` watches its children through a libdispatch event source; under the suite's parallel load
/// that path crashed the test runner now and then (`_dispatch_event_loop_drain`, about one run in eight). This type
/// touches no dispatch source and no run loop: the caller polls `isRunning` or waits.
public final class ChildProcess: @unchecked Sendable {
    /// Where one of the child's standard streams goes.
    public enum Stream: Sendable {
        /// `/dev/null`.
        case null
        /// A pipe whose other end the parent holds (`stdinWriter` / `stdoutReader` / `stderrReader`).
        case pipe
        /// A file opened for appending, created if missing.
        case file(String)
    }

    public let pid: pid_t
    /// The parent's end of the child's standard input, when it is `.pipe`.
    public let stdinWriter: FileHandle?
    /// The parent's end of the child's standard output, when it is `.pipe`.
    public let stdoutReader: FileHandle?
    /// The parent's end of the child's standard error, when it is `.pipe`.
    public let stderrReader: FileHandle?

    private let lock = NSLock()
    private var exitStatus: Int32?

    /// Starts `executable` (an absolute path) with `arguments`.
    ///
    /// - Parameter environment: the child's whole environment; `nil` passes the test process's own.
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        stdin: Stream = .null, stdout: Stream = .null, stderr: Stream = .null
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        // The test process ignores SIGPIPE and its threads may block signals; ignored and blocked signals survive
        // exec, and a daemon under test must see SIGPIPE, SIGTERM and SIGHUP as it would under systemd.
        var defaults = sigset_t()
        var empty = sigset_t()
        sigfillset(&defaults)
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var parentEnds: [Int32: Int32] = [:]
        var childEnds: [Int32] = []
        defer { for fd in childEnds { close(fd) } }
        for (target, stream) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch stream {
            case .null:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, target, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            case .pipe:
                var fds: [Int32] = [-1, -1]
                // Close-on-exec from creation: a child spawned by another thread at the same moment must not inherit
                // this end and keep it open past this child's exit. (A socket pair: Glibc's pipe2 is not imported.)
                guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0
                else {
                    let code = errno
                    for fd in parentEnds.values { close(fd) }
                    throw ChildProcessError.spawn(executable, code)
                }
                let (parentEnd, childEnd) = target == 0 ? (fds[1], fds[0]) : (fds[0], fds[1])
                parentEnds[target] = parentEnd
                childEnds.append(childEnd)
                posix_spawn_file_actions_adddup2(&actions, childEnd, target)
            }
        }

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let environment = environment ?? ProcessInfo.processInfo.environment
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid = pid_t()
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            for fd in parentEnds.values { close(fd) }
            throw ChildProcessError.spawn(executable, result)
        }
        self.pid = pid
        stdinWriter = parentEnds[0].map { FileHandle(fileDescriptor: $0, closeOnDealloc: true) }
        stdoutReader = parentEnds[1].map { FileHandle(fileDescriptor: $0, closeOnDealloc: true) }
        stderrReader = parentEnds[2].map { FileHandle(fileDescriptor: $0, closeOnDealloc: true) }
    }

    /// Kills a child still running when its owner lets go of it, so no test leaves one behind.
    deinit {
        if isRunning {
            kill(pid, SIGKILL)
            _ = waitUntilExit()
        }
    }

    /// Whether the child has not exited yet (reaps it if it has).
    public var isRunning: Bool { reap(blocking: false) == nil }

    /// The exit status, or 128 + the signal that ended it (as a shell reports it); `nil` while running.
    public var terminationStatus: Int32? { reap(blocking: false) }

    @discardableResult
    public func waitUntilExit() -> Int32 {
        reap(blocking: true) ?? -1
    }

    public func signal(_ signal: Int32) {
        lock.lock()
        defer { lock.unlock() }
        // Once reaped, the pid may belong to someone else.
        if exitStatus == nil { kill(pid, signal) }
    }

    public func terminate() { signal(SIGTERM) }

    private func reap(blocking: Bool) -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            if result == -1 && errno == EINTR { continue }
            if result == -1 {
                // ECHILD: reaped elsewhere. Not running, status unknown; and never signalled again.
                exitStatus = -1
                return exitStatus
            }
            guard result == pid else { return nil }
            break
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as macros.
        let signal = status & 0x7f
        exitStatus = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        return exitStatus
    }
}

public enum ChildProcessError: Error, CustomStringConvertible {
    case spawn(String, Int32)
    case timedOut(String, Duration)

    public var description: String {
        switch self {
        case .spawn(let executable, let code): "could not start \(executable): \(String(cString: strerror(code)))"
        case .timedOut(let command, let limit): "\(command) did not finish within \(limit)"
        }
    }
}

/// What a command printed and how it ended.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

extension ChildProcess {
    /// Runs a command to completion with a hard time limit, so a hung child fails the test instead of hanging the
    /// suite. Both outputs are read as they come (a chatty child cannot block on a full pipe).
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        timeout: Duration = .seconds(60)
    ) throws -> CommandResult {
        let child = try ChildProcess(
            executable, arguments,
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            stdout: .pipe, stderr: .pipe)
        let command = ([executable] + arguments).joined(separator: " ")
        var outputs: [Int32: Data] = [:]
        var open = [child.stdoutReader!.fileDescriptor, child.stderrReader!.fileDescriptor]
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 65536)
        var exited = false
        // After the child's exit, what is already in the pipes is read, a bounded number of times: a daemon it
        // left behind may go on writing to them.
        var drainsAfterExit = 0
        while !open.isEmpty, drainsAfterExit < 64 {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else {
                child.signal(SIGKILL)
                throw ChildProcessError.timedOut(command, timeout)
            }
            // Once the child has exited, only what is already in the pipes is read: a daemon it left behind may
            // hold them open for good.
            exited = exited || !child.isRunning
            if exited { drainsAfterExit += 1 }
            var polled = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&polled, nfds_t(polled.count), exited ? 0 : 20)
            if ready < 0 && errno != EINTR { throw ChildProcessError.spawn(executable, errno) }
            if ready == 0 && exited { break }
            for entry in polled where entry.revents != 0 {
                let count = read(entry.fd, &buffer, buffer.count)
                if count > 0 {
                    outputs[entry.fd, default: Data()].append(contentsOf: buffer[0..<count])
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        while child.isRunning {
            guard ContinuousClock.now < deadline else {
                child.signal(SIGKILL)
                throw ChildProcessError.timedOut(command, timeout)
            }
            usleep(2000)
        }
        return CommandResult(
            status: child.terminationStatus ?? -1,
            stdout: String(decoding: outputs[child.stdoutReader!.fileDescriptor] ?? Data(), as: UTF8.self),
            stderr: String(decoding: outputs[child.stderrReader!.fileDescriptor] ?? Data(), as: UTF8.self))
    }
}
