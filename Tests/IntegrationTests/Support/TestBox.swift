import ControlWire
import Foundation

/// One box for a test: its own media folder, state, config and control socket under a temporary folder, and a
/// real `mediapeerd` started in a loopback-only network namespace (`unshare -n`), driven by the real `mediapeerctl`.
final class TestBox {
    let folder: String
    var media: String { folder + "/media" }
    var state: String { folder + "/state" }
    var socket: String { folder + "/control.sock" }
    var configPath: String { folder + "/mediapeer.toml" }
    var logPath: String { folder + "/mediapeerd.log" }
    private(set) var daemon: ChildProcess?

    let name: String

    init(name: String = "Test Box") throws {
        self.name = name
        folder = NSTemporaryDirectory() + "mediapeer-it-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: media, withIntermediateDirectories: true)
        try writeConfig(mediaFolders: [media])
    }

    /// The box's usual configuration with these media folders.
    func writeConfig(mediaFolders: [String]) throws {
        try writeConfig(
            """
            name = "\(name)"
            media_dirs = [\(mediaFolders.map { "\"\($0)\"" }.joined(separator: ", "))]
            state_dir = "\(state)"
            cache_dir = "\(folder)/cache"
            control_socket = "\(socket)"
            log_level = "debug"
            """)
    }

    deinit {
        if let daemon, daemon.isRunning {
            daemon.signal(SIGKILL)
            daemon.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: folder)
    }

    func writeConfig(_ text: String) throws {
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Starts the daemon (`binary`, by default the one built) and waits until its control API answers.
    func start(environment: [String: String] = [:], binary: String = Binaries.daemon) throws {
        // Each start begins a fresh log, so a test reads only what this run printed.
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let process = try ChildProcess(
            "/usr/bin/unshare",
            ["-n", "/bin/sh", "-c", #"ip link set lo up && exec "$0" "$@""#, binary, "--config", configPath],
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            stdout: .file(logPath), stderr: .file(logPath))
        daemon = process
        try eventually("mediapeerd answers on \(socket)\n\(log)") {
            guard process.isRunning else {
                throw TestFailure("mediapeerd exited with \(process.terminationStatus ?? -1):\n\(log)")
            }
            return (try? ctl(["status"]).status) == 0
        }
    }

    /// Stops the daemon with `signal` and returns its exit status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) throws -> Int32 {
        guard let daemon else { return 0 }
        daemon.signal(signal)
        try eventually("mediapeerd exits after signal \(signal)") { !daemon.isRunning }
        self.daemon = nil
        return daemon.terminationStatus ?? -1
    }

    /// Sends SIGHUP, as `systemctl reload` does: the daemon reads its configuration again.
    func reload() throws {
        guard let daemon, daemon.isRunning else { throw TestFailure("mediapeerd is not running") }
        daemon.signal(SIGHUP)
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    @discardableResult
    func ctl(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        try Command.run(Binaries.control, ["--socket", socket] + arguments, environment: environment)
    }

    /// Runs `mediapeerctl … --json` and decodes its output.
    func ctlJSON<T: Decodable>(_ type: T.Type, _ arguments: [String]) throws -> T {
        let result = try ctl(arguments + ["--json"])
        guard result.status == 0 else {
            throw TestFailure("mediapeerctl \(arguments) failed (\(result.status)): \(result.stderr)")
        }
        do {
            return try ControlJSON.decoder().decode(T.self, from: Data(result.stdout.utf8))
        } catch {
            throw TestFailure("mediapeerctl \(arguments) printed undecodable JSON: \(error)\n\(result.stdout)")
        }
    }

    func status() throws -> DaemonStatus { try ctlJSON(DaemonStatus.self, ["status"]) }

    func items() throws -> [MediaItem] { try ctlJSON(LibraryPage.self, ["library", "list", "--limit", "10000"]).items }

    func item(at path: String) throws -> MediaItem? { try items().first { $0.path == path } }

    /// Waits for the scan requested at start to finish and for every file to have its content id.
    func waitUntilIndexed(hashed: Bool = true) throws {
        try eventually("the first scan finishes") {
            let status = try status()
            return status.scan.completedScans >= 1 && status.scan.phase == .idle
                && (!hashed || status.hashing.pendingFiles == 0)
        }
    }
}
