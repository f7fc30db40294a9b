import ControlWire
import Foundation
import WireVocabulary

/// The fault suite's settings, from the environment `scripts/fault-suite` sets: the seed that decides every fault
/// moment, the runs per scenario, and where each scenario's results go (one JSON line each, for RELIABILITY.md).
enum FaultSuiteSettings {
    private static let environment = ProcessInfo.processInfo.environment

    /// `MEDIAPEER_FAULT_SEED`; a fixed one otherwise, so the short subset `scripts/test` runs is reproducible.
    static let seed: UInt64 = environment["MEDIAPEER_FAULT_SEED"].flatMap { UInt64($0) } ?? 13

    /// `MEDIAPEER_FAULT_RUNS`: the faults per scenario (1 in the short subset, 20 or more in the full suite).
    static let runs: Int = environment["MEDIAPEER_FAULT_RUNS"].flatMap { Int($0) }.map { max(1, $0) } ?? 1

    /// `MEDIAPEER_FAULT_ENVIRONMENT_RUNS`: the faults per scenario of the faults around the daemon (index damage,
    /// avahi, the network), each of which costs a whole transfer or rebuild; `runs` when unset.
    static let environmentRuns: Int =
        environment["MEDIAPEER_FAULT_ENVIRONMENT_RUNS"].flatMap { Int($0) }.map { max(1, $0) } ?? runs

    static let resultsPath: String? = environment["MEDIAPEER_FAULT_RESULTS"]
    /// `MEDIAPEER_FAULT_HOSTILE=1` (`scripts/fault-suite --full`): every scenario's boxes have a hostile device
    /// beside them on the LAN, one of `FaultHarness.hostileModes` chosen by the seed, through all the scenario's runs.
    static let hostileNeighbour = environment["MEDIAPEER_FAULT_HOSTILE"] == "1"

    /// How long a daemon may take to answer `mediapeerctl status` once a fault ended.
    static let statusBound: Duration = .seconds(10)
}

/// SplitMix64: the same seed gives the same fault moments on every machine (the standard library's generator is
/// seeded randomly).
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    /// The generator of run `run` of `scenario` under `seed`: each run replays alone with the same seed.
    init(seed: UInt64, scenario: String, run: Int) {
        var state = seed ^ 0x9E37_79B9_7F4A_7C15
        for byte in scenario.utf8 { state = (state ^ UInt64(byte)) &* 0x100_0000_01B3 }
        self.state = state &+ UInt64(run) &* 0xBF58_476D_1CE4_E5B9
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// What one scenario did, written as one JSON line to `MEDIAPEER_FAULT_RESULTS`.
struct ScenarioResult: Codable {
    var scenario: String
    var seed: UInt64
    var runs = 0
    var faultsInjected = 0
    /// Faults that landed after the phase they aimed at had ended (the daemon was still killed and checked).
    var faultsAfterPhase = 0
    var filesChecked = 0
    var bytesVerified: Int64 = 0
    var violations: [String] = []
    var crashes = 0
    var longestRecoveryMilliseconds = 0
    /// The hostile device's mode beside the boxes (`FaultSuiteSettings.hostileNeighbour`), or nil.
    var hostileNeighbour: String?
    var date = ISO8601DateFormatter().string(from: Date())

    func append(to path: String) throws {
        var line = try JSONEncoder().encode(self)
        line.append(UInt8(ascii: "\n"))
        guard
            let handle = FileHandle(forWritingAtPath: path)
                ?? {
                    FileManager.default.createFile(atPath: path, contents: nil)
                    return FileHandle(forWritingAtPath: path)
                }()
        else { throw TestFailure("cannot write \(path)") }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
    }
}

/// One scenario's simulated home, its faults and its checks: the boxes' configurations (kept across restarts),
/// the seeded moments and the results.
final class FaultHarness {
    let home: SimulatedHome
    let scenario: String
    let cacheMaxBytes: Int64 = 256 << 20
    private var extraConfig: [Int: String] = [:]
    private var environment: [Int: [String: String]] = [:]
    private var pids: [Int: Int32] = [:]
    private(set) var result: ScenarioResult
    /// The generator of the current run.
    var random: SeededRandom

    /// Whether the scenario's faults are around the daemon (`environmentRuns` of them) rather than kills of it.
    private let aroundTheDaemon: Bool

    /// The hostile device beside the boxes, in the home's last box (`FaultSuiteSettings.hostileNeighbour`).
    private let hostile: HostileProcess?
    private let hostileBox: Int?

    /// What a hostile device does beside any scenario's boxes, without knowing the scenario: the hostile-LAN suite's
    /// misbehaviours of a peer's catalog, identity and objects (`mediapeer-hostile-peer --mode`).
    static let hostileModes = [
        "endless-catalog", "repeated-last-entry", "new-id-per-info", "combining-marks", "escape-sequences",
        "huge-chunks", "stall-bytes",
    ]

    init(scenario: String, boxes: Int, tag: String, aroundTheDaemon: Bool = false) throws {
        self.scenario = scenario
        self.aroundTheDaemon = aroundTheDaemon
        hostileBox = FaultSuiteSettings.hostileNeighbour ? boxes + 1 : nil
        home = try SimulatedHome(boxes: boxes + (hostileBox == nil ? 0 : 1), tag: tag)
        result = ScenarioResult(scenario: scenario, seed: FaultSuiteSettings.seed)
        random = SeededRandom(seed: FaultSuiteSettings.seed, scenario: scenario, run: 0)
        if let hostileBox {
            // Drawn from a generator of its own, so that a scenario's fault moments are the same with or without it.
            var draw = SeededRandom(seed: FaultSuiteSettings.seed, scenario: scenario + "/hostile", run: 0)
            let mode = Self.hostileModes[Int.random(in: 0..<Self.hostileModes.count, using: &draw)]
            hostile = try HostileProcess(home, box: hostileBox, ["--mode", mode])
            result.hostileNeighbour = mode
        } else {
            hostile = nil
        }
    }

    /// Starts box `index`'s daemon with the suite's cache quota and `extraConfig`, kept for its restarts.
    func start(_ index: Int, extraConfig: String = "", environment: [String: String] = [:]) throws {
        configure(index, extraConfig: extraConfig, environment: environment)
        try home.startDaemon(index, extraConfig: self.extraConfig[index]!, environment: environment)
        pids[index] = try home.status(index).pid
    }

    /// Box `index`'s configuration for its starts: the suite's cache quota and `extraConfig`.
    func configure(_ index: Int, extraConfig: String = "", environment: [String: String] = [:]) {
        var config = "cache_max = \"\(cacheMaxBytes >> 20)MiB\"\n" + extraConfig
        // Every box knows the hostile device as a static peer (it does not announce itself), unless the scenario
        // brings hostile peers of its own; a bounded catalog from it, as the hostile-LAN tests have.
        if let hostileBox, !extraConfig.contains("static_peers") {
            config += "\nstatic_peers = [\"\(home.address(hostileBox)):8737\"]\npeer_catalog_max_objects = 2000\n"
        }
        self.extraConfig[index] = config
        self.environment[index] = environment
    }

    /// Starts box `index`'s daemon again without waiting for it to answer, so that a moment early in its start
    /// (the scan, hashing) can still be caught; `kill` learns its pid from its first answer.
    func launch(_ index: Int) throws {
        if extraConfig[index] == nil { configure(index) }
        try home.startDaemon(
            index, extraConfig: extraConfig[index] ?? "", environment: environment[index] ?? [:],
            waitUntilAnswering: false)
        pids[index] = nil
    }

    /// Kills box `index`'s daemon as set-up (a stop no one should notice), not counted as a fault.
    func stop(_ index: Int) throws {
        guard pids[index] != nil else { return }
        try kill(index)
        result.faultsInjected -= 1
    }

    /// Runs `body` `FaultSuiteSettings.runs` times, each with its own seeded generator, and writes the results.
    /// A run that finds a violation stops the scenario, with the seed and run to replay it.
    func runs(_ body: (_ run: Int) throws -> Void) throws {
        defer {
            if let path = FaultSuiteSettings.resultsPath { try? result.append(to: path) }
        }
        for run in 0..<(aroundTheDaemon ? FaultSuiteSettings.environmentRuns : FaultSuiteSettings.runs) {
            random = SeededRandom(seed: FaultSuiteSettings.seed, scenario: scenario, run: run)
            do {
                try body(run)
            } catch {
                result.violations.append("run \(run): \(error)")
                throw TestFailure(
                    "fault suite, scenario \(scenario), seed \(FaultSuiteSettings.seed), run \(run): \(error)\n"
                        + "replay: scripts/fault-suite --seed \(FaultSuiteSettings.seed) --scenario \(scenario)")
            }
            result.runs += 1
        }
        if let hostile, !hostile.isRunning {
            throw TestFailure("fault suite, scenario \(scenario): the hostile neighbour exited\n\(hostile.log)")
        }
    }

    /// A seeded whole number in `range`.
    func pick(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }

    /// SIGKILLs box `index`'s daemon at once (its pid is known from its start, so no round trip delays the moment).
    func kill(_ index: Int) throws {
        guard let pid = pids[index] else { throw TestFailure("box \(index) has no daemon to kill") }
        guard Foundation.kill(pid, 0) == 0 else {
            result.crashes += 1
            throw TestFailure("box \(index)'s mediapeerd had died before the fault\n\(home.log(index).suffix(3000))")
        }
        try home.signalDaemon(index, pid: pid, SIGKILL)
        pids[index] = nil
        result.faultsInjected += 1
    }

    /// Counts a fault injected outside a daemon (avahi-daemon killed, a link cut).
    func injectedElsewhere() { result.faultsInjected += 1 }

    /// Notes that the moment aimed at had passed when the fault landed.
    func missedPhase() { result.faultsAfterPhase += 1 }

    /// Waits until box `index`'s fetch of `id` has verified `chunks` chunks, or has ended (the fault that follows
    /// then lands after its phase).
    func waitForFetch(of id: ContentID, in index: Int, chunks: Int) throws {
        var finished = false
        try eventually(timeout: .seconds(120), "box \(index) verified \(chunks) chunks") {
            guard let state = try home.fetchState(id, in: index) else { return false }
            finished = state.isFinished
            return state.chunksDone >= chunks || finished
        }
        if finished { missedPhase() }
    }

    /// Starts box `index` again with its configuration and returns how long it took to answer `status`; nil if it
    /// did not within the harness's wait (the invariant check reports it).
    @discardableResult
    func restart(_ index: Int) -> Duration? {
        let started = ContinuousClock.now
        do {
            try home.startDaemon(index, extraConfig: extraConfig[index] ?? "", environment: environment[index] ?? [:])
            pids[index] = try home.status(index).pid
        } catch {
            return nil
        }
        let took = ContinuousClock.now - started
        noteRecovery(took)
        return took
    }

    /// How long after `since` box `index` answered `status` (polled over its socket); nil if not within twice the
    /// bound. Counted as a recovery.
    func timeToAnswer(_ index: Int, since: ContinuousClock.Instant) -> Duration? {
        while ContinuousClock.now - since < FaultSuiteSettings.statusBound * 2 {
            if status(index) != nil {
                let took = ContinuousClock.now - since
                noteRecovery(took)
                return took
            }
            usleep(20_000)
        }
        return nil
    }

    private func noteRecovery(_ took: Duration) {
        let milliseconds = Int(took.components.seconds * 1000 + took.components.attoseconds / 1_000_000_000_000_000)
        result.longestRecoveryMilliseconds = max(result.longestRecoveryMilliseconds, milliseconds)
    }

    /// Box `index`'s status, polled by the moment pickers.
    func status(_ index: Int) -> DaemonStatus? {
        guard let status = StatusProbe.status(socket: home.socket(index)) else { return nil }
        pids[index] = status.pid
        return status
    }

    /// Waits until the boxes are at rest: scans done, everything hashed, no fetch under way.
    func settle(_ boxes: [Int], timeout: Duration = .seconds(120)) throws {
        for index in boxes {
            try eventually(timeout: timeout, "box \(index) settles\n\(home.log(index).suffix(3000))") {
                let status = try home.status(index)
                guard status.scan.completedScans >= 1, status.scan.phase == .idle, status.hashing.pendingFiles == 0
                else { return false }
                return try home.fetches(index).allSatisfy { $0.isFinished }
            }
        }
    }

    /// Checks every invariant over the boxes' end state; `mediaBefore` is each box's media before the fault and
    /// `recovered` how long each restarted box took to answer, `unplayable` each box's files the index must not list.
    /// Throws the violations.
    func check(
        _ boxes: [Int], mediaBefore: [Int: [String: String]], recovered: [Int: Duration?] = [:],
        unplayable: [Int: Set<String>] = [:]
    ) throws {
        try settle(boxes)
        var facts: [BoxFacts] = []
        for index in boxes {
            let answered: Duration? = recovered[index] ?? .zero
            let read = try home.facts(
                index, mediaBefore: mediaBefore[index] ?? [:], cacheMaxBytes: cacheMaxBytes,
                statusAnsweredAfter: answered, unplayable: unplayable[index] ?? [])
            facts.append(read.facts)
            result.filesChecked += read.filesChecked
            result.bytesVerified += read.bytesVerified
            if !read.facts.daemonRunning { result.crashes += 1 }
        }
        var violations = FaultInvariants.violations(facts, views: [], statusBound: FaultSuiteSettings.statusBound)
        // The neighbours' catalogs follow by sync: a stale entry is a violation only if it outlives the sync.
        var stale: [InvariantViolation] = []
        do {
            try eventually(timeout: .seconds(60), "the neighbours' catalogs agree with what each box holds") {
                stale = try boxes.flatMap { subject in
                    try boxes.filter { $0 != subject }.flatMap { observer in
                        FaultInvariants.catalogViolations(
                            try home.catalogView(of: subject, in: observer), of: try home.holdings(subject))
                    }
                }
                return stale.isEmpty
            }
        } catch {
            violations += stale
        }
        guard violations.isEmpty else {
            let logs = boxes.map { "box \($0)'s log ends:\n\(home.log($0).suffix(2500))" }.joined(separator: "\n")
            throw TestFailure(violations.map(\.description).joined(separator: "\n") + "\n" + logs)
        }
    }

    /// Every box's media digests now, to compare after the fault.
    func mediaDigests(_ boxes: [Int]) throws -> [Int: [String: String]] {
        var digests: [Int: [String: String]] = [:]
        for index in boxes { digests[index] = try home.mediaDigests(index).digests }
        return digests
    }
}
