import Foundation
import Synchronization
import TestChildProcess

/// A simulated home network (`scripts/home-sim`) for one test: its own prefix, so tests run side by side.
///
/// Everything here awaits processes without blocking a thread: the tests share Swift's small cooperative pool
/// (one thread per core) with the other tests.
struct HomeSim: Sendable {
    let prefix: String
    let boxes: Int

    /// The repository's `scripts/home-sim`, found from this file's real path (the test folder may be symlinked
    /// into a scratch package), or `MEDIAPEER_HOME_SIM`.
    static let script: String = {
        if let path = ProcessInfo.processInfo.environment["MEDIAPEER_HOME_SIM"] { return path }
        var url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        for _ in 0..<4 { url.deleteLastPathComponent() }  // Support, DiscoveryTests, Tests, repository
        return url.appendingPathComponent("scripts/home-sim").path
    }()

    /// Why the simulation cannot run here, or nil when it can (root, the script and the daemons are there).
    static let unavailableReason: String? = {
        if getuid() != 0 { return "needs root for network namespaces" }
        if !FileManager.default.isExecutableFile(atPath: script) { return "\(script) not found" }
        for tool in ["ip", "nsenter", "unshare", "dbus-daemon", "avahi-daemon", "avahi-browse", "avahi-publish"] {
            let found = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].contains {
                FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)")
            }
            if !found { return "\(tool) is not installed (apt-get install iproute2 dbus avahi-daemon avahi-utils)" }
        }
        return nil
    }()

    static var isAvailable: Bool { unavailableReason == nil }

    /// Runs `body` on a fresh network of `boxes` boxes, and takes the network down afterwards, whatever happens.
    /// The prefix is unique to this process and `tag`, so concurrent tests and test runs do not meet.
    static func with<R>(boxes: Int, tag: String, _ body: (HomeSim) async throws -> R) async throws -> R {
        let sim = HomeSim(prefix: "d\(getpid())\(tag)", boxes: boxes)
        do {
            let result = try await run(["up", String(boxes), "--prefix", sim.prefix], timeout: 60)
            guard result.status == 0 else {
                throw SimError.command("home-sim up \(boxes) --prefix \(sim.prefix)", result.output)
            }
            let value = try await body(sim)
            await sim.down()
            // Kept after a failure: the avahi and probe logs of each box are the post-mortem.
            try? FileManager.default.removeItem(atPath: "/tmp/mediapeer-home-\(sim.prefix)")
            return value
        } catch {
            await sim.down()
            throw error
        }
    }

    /// Stops everything; safe to call more than once.
    func down() async {
        _ = try? await Self.run(["down", "--prefix", prefix], timeout: 60)
    }

    /// The box's folder on the host.
    func directory(box: Int) -> String {
        "/tmp/mediapeer-home-\(prefix)/box\(box)"
    }

    /// Runs a command inside a box and waits for it.
    func run(box: Int, _ command: [String], timeout: TimeInterval = 30) async throws -> (status: Int32, output: String)
    {
        try await Self.run(["exec", "--prefix", prefix, "box\(box)"] + command, timeout: timeout)
    }

    /// Stops (SIGTERM), kills (SIGKILL) or starts the box's avahi-daemon.
    func avahi(_ action: String, box: Int) async throws {
        let result = try await Self.run(["avahi", action, "--prefix", prefix, "box\(box)"], timeout: 30)
        guard result.status == 0 else { throw SimError.command("home-sim avahi \(action) box\(box)", result.output) }
    }

    /// Starts a command inside a box without waiting for it (its output is discarded).
    func spawn(box: Int, _ command: [String]) throws -> ChildProcess {
        try ChildProcess(Self.script, ["exec", "--prefix", prefix, "box\(box)"] + command)
    }

    /// Runs `scripts/home-sim` with its output in a file (no pipe to drain) and awaits its exit.
    static func run(_ arguments: [String], timeout: TimeInterval) async throws -> (status: Int32, output: String) {
        let outputPath = NSTemporaryDirectory() + "home-sim-\(UUID().uuidString).out"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let process = try ChildProcess(script, arguments, stdout: .file(outputPath), stderr: .file(outputPath))
        // A hung command is killed rather than hanging the whole test run.
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { process.signal(SIGKILL) }
            try? await Task.sleep(for: .milliseconds(10))
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return (process.waitUntilExit(), text)
    }
}

enum SimError: Error, CustomStringConvertible {
    case command(String, String)
    case timeout(String, String)

    var description: String {
        switch self {
        case .command(let command, let output): "\(command) failed:\n\(output)"
        case .timeout(let what, let context): "timed out waiting for \(what)\n\(context)"
        }
    }
}
