import ControlWire
import Foundation
import WireVocabulary

/// `mediapeer-hostile-peer` running inside a box of a simulated home: a misbehaving peer (`--mode`) or a load
/// (`--load`). What it did is read from its counters file, in the box's folder (shared with the host).
final class HostileProcess {
    private let process: ChildProcess
    let statsPath: String
    let logPath: String

    struct Snapshot: Decodable {
        var peerID: String
        var object: String?
        var counters: [String: Int]
    }

    static var binary: String { Binaries.folder + "/mediapeer-hostile-peer" }

    /// Starts it in box `index` with `arguments` (a `--stats` file is added) and, for a peer, waits until it listens.
    init(_ home: SimulatedHome, box index: Int, name: String = "hostile", _ arguments: [String]) throws {
        statsPath = home.box(index) + "/\(name).json"
        logPath = home.box(index) + "/\(name).log"
        try? FileManager.default.removeItem(atPath: statsPath)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process = try ChildProcess(
            SimulatedHome.script,
            ["exec", "--prefix", home.prefix, String(index), Self.binary, "--stats", statsPath] + arguments,
            environment: ProcessInfo.processInfo.environment, stdout: .file(logPath), stderr: .file(logPath))
        if arguments.contains("--mode") {
            try eventually(timeout: .seconds(60), "the hostile peer in box \(index) listens\n\(log)") {
                guard process.isRunning else { throw TestFailure("the hostile peer exited:\n\(log)") }
                return counter("ready") == 1
            }
        }
    }

    deinit {
        if process.isRunning { process.signal(SIGKILL) }
        _ = process.waitUntilExit()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    var isRunning: Bool { process.isRunning }

    /// Kills it at once, as a device pulled from the network.
    func stop() {
        process.signal(SIGKILL)
        _ = process.waitUntilExit()
    }

    /// The last counters written; empty before the first.
    func snapshot() -> Snapshot {
        guard let data = FileManager.default.contents(atPath: statsPath),
            let snapshot = try? JSONDecoder().decode(Snapshot.self, from: data)
        else { return Snapshot(peerID: "", counters: [:]) }
        return snapshot
    }

    func counter(_ name: String) -> Int { snapshot().counters[name] ?? 0 }

    var peerID: String { snapshot().peerID }

    /// The object the peer offers (huge-chunks, tiny-chunks).
    func offeredObject() throws -> ContentID {
        guard let hex = snapshot().object, let id = ContentID(hex: hex) else {
            throw TestFailure("the hostile peer offers no object")
        }
        return id
    }

    /// Waits until `name` has grown by `amount` from now: a number of the victim's own requests, used as the
    /// clock of "the victim had the time to do it again", instead of a sleep.
    func waitFor(_ name: String, increasedBy amount: Int, timeout: Duration = .seconds(30)) throws {
        let start = counter(name)
        try eventually(timeout: timeout, "\(amount) more \(name) at the hostile peer (from \(start))") {
            counter(name) >= start + amount
        }
    }

    /// Waits for a load to finish (it stops by itself after its `--duration`).
    func waitUntilDone(timeout: Duration = .seconds(90)) throws {
        try eventually(timeout: timeout, "the load finishes\n\(log)") { counter("done") == 1 }
    }
}

/// What a daemon uses, read by the test from /proc and the file system, to assert the stated limits.
enum Footprint {
    /// VmRSS and VmHWM (peak) of `pid`, in bytes.
    static func memory(_ pid: Int32) throws -> (resident: Int64, peak: Int64) {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        func field(_ name: String) -> Int64? {
            status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .flatMap { $0.split(whereSeparator: \.isWhitespace).dropFirst().first }
                .flatMap { Int64($0) }
                .map { $0 * 1024 }
        }
        guard let resident = field("VmRSS"), let peak = field("VmHWM") else {
            throw TestFailure("no VmRSS/VmHWM in /proc/\(pid)/status")
        }
        return (resident, peak)
    }

    /// Starts counting VmHWM again from the current resident size (`clear_refs` 5), so that a peak read later is the
    /// peak of what the test did, not of the start-up scan.
    static func resetPeak(_ pid: Int32) throws {
        try "5".write(toFile: "/proc/\(pid)/clear_refs", atomically: false, encoding: .utf8)
    }

    static func openDescriptors(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
    }

    /// The bytes the files under `folder` occupy.
    static func diskUsage(_ folder: String) throws -> Int64 {
        let result = try Command.run("/usr/bin/du", ["-s", "-B1", folder])
        guard result.status == 0,
            let bytes = result.stdout.split(whereSeparator: \.isWhitespace).first.flatMap({
                Int64($0)
            })
        else { throw TestFailure("du \(folder) failed: \(result.stderr)") }
        return bytes
    }
}

extension SimulatedHome {
    /// The victim of every hostile-LAN test: box 1, holding one photo, configured with `extraConfig`. Returns the
    /// photo's content id once hashed.
    func startVictim(extraConfig: String, environment: [String: String] = [:], openFileLimit: Int? = nil) throws
        -> ContentID
    {
        try MediaFixtures.copy(MediaFixtures.photo, to: box(1) + "/media/victim.jpg")
        try startDaemon(1, extraConfig: extraConfig, environment: environment, openFileLimit: openFileLimit)
        return try contentID(of: "victim.jpg", in: 1)
    }

    /// Starts the victim's daemon again after it died, with the same configuration.
    func startVictimAgain(extraConfig: String) throws {
        try startDaemon(1, extraConfig: extraConfig)
    }

    /// Runs SQL on box `index`'s index (a reader beside the daemon, as WAL allows) and returns the one number.
    func indexCount(_ index: Int, _ sql: String) throws -> Int {
        let result = try Command.run(
            "/usr/bin/sqlite3", ["-cmd", ".timeout 10000", box(index) + "/state/index.sqlite", sql])
        guard result.status == 0, let count = Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestFailure("sqlite3 \(sql) failed: \(result.stderr)")
        }
        return count
    }

    /// The catalog rows box `index` keeps for peers other than `honest` (ids).
    func foreignRows(_ index: Int, except honest: [String]) throws -> (peers: Int, objects: Int) {
        let list = honest.map { "'\($0)'" }.joined(separator: ",")
        return (
            try indexCount(index, "SELECT count(*) FROM remote_peer WHERE peer_id NOT IN (\(list));"),
            try indexCount(index, "SELECT count(*) FROM remote_object WHERE peer_id NOT IN (\(list));")
        )
    }

    /// The victim still answers `mediapeerctl` and still serves the honest box 3: box 3 lists the victim's photo
    /// and fetches it, byte-identical.
    func expectVictimServes(photo: ContentID) throws {
        _ = try status(1)
        do {
            try waitUntilListed(photo, in: 3, heldBy: ["Box 1"], timeout: .seconds(60))
        } catch {
            throw TestFailure(
                "\(error)\nbox 1's log ends:\n\(log(1).suffix(3000))\nbox 3's log ends:\n\(log(3).suffix(3000))")
        }
        let fetch = try ctl(3, ["fetch", photo.hex, "--wait"])
        guard fetch.status == 0 else {
            throw TestFailure("box 3 could not fetch the victim's photo: \(fetch.stdout) \(fetch.stderr)")
        }
        let original = box(1) + "/media/victim.jpg"
        guard try sha256(replicaPath(photo, in: 3)) == (try sha256(original)) else {
            throw TestFailure("box 3's copy of the victim's photo differs")
        }
    }
}
