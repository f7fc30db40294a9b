import ControlWire
import Foundation

/// A simulated home from `scripts/home-sim`: N boxes, each with its own network namespace, avahi-daemon and a real
/// `mediapeerd`, driven from the host by the real `mediapeerctl` through each box's control socket.
final class SimulatedHome {
    let prefix: String
    let folder: String
    let count: Int
    /// The `home-sim exec` wrappers of the daemons started, reaped (and killed if still there) with the home.
    private var launched: [ChildProcess] = []
    static let script: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.path + "/scripts/home-sim") {
                return url.path + "/scripts/home-sim"
            }
        }
        return FileManager.default.currentDirectoryPath + "/scripts/home-sim"
    }()

    /// Brings up `count` boxes; `names[i]` is box i+1's friendly name (default "Box N").
    init(boxes count: Int, tag: String) throws {
        prefix = "it\(getpid() % 10000)\(tag)"
        self.count = count
        let up = try Command.run(Self.script, ["up", String(count), "--prefix", prefix], timeout: .seconds(120))
        guard up.status == 0 else {
            _ = try? Command.run(Self.script, ["down", "--prefix", prefix])
            throw TestFailure("home-sim up failed: \(up.stderr)")
        }
        folder = try Command.run(Self.script, ["dir", "--prefix", prefix]).stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)
        HomeTeardown.register(prefix: prefix, folder: folder)
    }

    deinit {
        _ = try? Command.run(Self.script, ["down", "--prefix", prefix], timeout: .seconds(60))
        HomeTeardown.unregister(prefix: prefix)
        // The boxes' media, indexes and caches: a test that fed a box a large catalog leaves gigabytes here.
        try? FileManager.default.removeItem(atPath: folder)
    }

    func box(_ index: Int) -> String { folder + "/box\(index)" }
    func socket(_ index: Int) -> String { box(index) + "/control.sock" }

    /// Writes box `index`'s configuration and starts its daemon inside the box.
    func startDaemon(
        _ index: Int, name: String? = nil, healthIntervalMilliseconds: Int = 1000, extraConfig: String = "",
        environment: [String: String] = [:], openFileLimit: Int? = nil, waitUntilAnswering: Bool = true
    ) throws {
        let box = box(index)
        try FileManager.default.createDirectory(atPath: box + "/media", withIntermediateDirectories: true)
        try """
        name = "\(name ?? "Box \(index)")"
        media_dirs = ["\(box)/media"]
        state_dir = "\(box)/state"
        cache_dir = "\(box)/cache"
        control_socket = "\(socket(index))"
        log_level = "debug"
        \(extraConfig)
        """.write(toFile: box + "/mediapeer.toml", atomically: true, encoding: .utf8)
        let log = box + "/mediapeerd.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        // A box's file descriptor limit (`ulimit -n`), when the test needs one like a real box's.
        let limit = openFileLimit.map { ["/bin/sh", "-c", "ulimit -n \($0) && exec \"$0\" \"$@\""] } ?? []
        launched.append(
            try ChildProcess(
                Self.script,
                ["exec", "--prefix", prefix, String(index)] + limit
                    + [Binaries.daemon, "--config", box + "/mediapeer.toml"],
                environment: ProcessInfo.processInfo.environment
                    .merging(["MEDIAPEER_HEALTH_INTERVAL_MS": String(healthIntervalMilliseconds)]) { $1 }
                    .merging(environment) { $1 },
                stdout: .file(log), stderr: .file(log)))
        guard waitUntilAnswering else { return }
        try eventually("box \(index)'s mediapeerd answers\n\(self.log(index))") {
            (try? ctl(index, ["status"]).status) == 0
        }
    }

    func log(_ index: Int) -> String {
        (try? String(contentsOfFile: box(index) + "/mediapeerd.log", encoding: .utf8)) ?? ""
    }

    @discardableResult
    func ctl(_ index: Int, _ arguments: [String]) throws -> CommandResult {
        try Command.run(Binaries.control, ["--socket", socket(index)] + arguments)
    }

    func status(_ index: Int) throws -> DaemonStatus {
        try decode(DaemonStatus.self, index, ["status"])
    }

    func peers(_ index: Int) throws -> PeerList {
        try decode(PeerList.self, index, ["peers"])
    }

    /// The names of the peers box `index` knows by id.
    func peerNames(_ index: Int) throws -> Set<String> {
        Set(try peers(index).peers.filter { $0.id != nil }.map(\.name))
    }

    func decode<T: Decodable>(_ type: T.Type, _ index: Int, _ arguments: [String]) throws -> T {
        let result = try ctl(index, arguments + ["--json"])
        guard result.status == 0 else {
            throw TestFailure("box \(index): mediapeerctl \(arguments) failed: \(result.stderr)")
        }
        return try ControlJSON.decoder().decode(T.self, from: Data(result.stdout.utf8))
    }

    /// Runs a command inside box `index`.
    @discardableResult
    func exec(_ index: Int, _ command: [String], timeout: Duration = .seconds(60)) throws -> CommandResult {
        try Command.run(Self.script, ["exec", "--prefix", prefix, String(index)] + command, timeout: timeout)
    }

    func avahi(_ action: String, _ index: Int) throws {
        let result = try Command.run(
            Self.script, ["avahi", action, "--prefix", prefix, String(index)], timeout: .seconds(60))
        guard result.status == 0 else {
            throw TestFailure("home-sim avahi \(action) \(index) failed: \(result.stderr)")
        }
    }

    func signalDaemon(_ index: Int, _ signal: Int32) throws {
        try signalDaemon(index, pid: try status(index).pid, signal)
    }

    /// Signals box `index`'s daemon known by `pid` at once (no status round trip first) and waits until it exits.
    func signalDaemon(_ index: Int, pid: Int32, _ signal: Int32) throws {
        kill(pid, signal)
        try eventually("box \(index)'s mediapeerd exits") {
            // `home-sim exec` execs all the way down: the daemon is our child, and stays a zombie until reaped.
            for child in launched { _ = child.isRunning }
            return kill(pid, 0) != 0
        }
    }
}
