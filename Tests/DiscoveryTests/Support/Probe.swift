import ControlWire
import Discovery
import Foundation
import Logging
import Synchronization
import TestChildProcess
import Testing

/// What a probe (this test binary, re-run inside a box) announces.
struct ProbeConfig: Codable, Sendable {
    var name: String
    var id: String
    var port: UInt16
    var txt: [String: String] = [:]
    /// The TXT rate limit, in seconds.
    var txtInterval: Double = 1
    /// The probe stops by itself after this long, so nothing outlives a failed test.
    var seconds: Double = 60
}

/// One line a probe prints: an event, a peer change or a milestone, with the wall-clock time (all boxes share the
/// machine's clock, so times from two boxes compare).
struct ProbeLine: Codable, Sendable {
    var time: Double
    var kind: String  // started, event, peer, txt, stopping, stopped, state, error
    var event: DiscoveryEvent?
    var change: PeerChange?
    var state: DiscoveryState?
    var text: String?
}

extension DiscoveryEvent {
    var resolvedService: ResolvedService? {
        if case .resolved(let service) = self { return service }
        return nil
    }

    var removedInstance: ServiceInstance? {
        if case .removed(let instance) = self { return instance }
        return nil
    }
}

extension PeerChange {
    var peer: PeerSnapshot {
        switch self {
        case .added(let peer), .updated(let peer), .removed(let peer, _): peer
        }
    }
}

/// The child side: when `MEDIAPEER_DISCOVERY_PROBE` holds a ``ProbeConfig``, the hidden test
/// `discoveryProbeHelper` runs MDNSDiscovery and a PeerTable with it, prints every event as a `@@ {json}` line on
/// stdout and obeys commands on stdin: `txt key=value…`, `state`, `stop` (end of input stops too).
enum ProbeMode {
    static let variable = "MEDIAPEER_DISCOVERY_PROBE"
    static let marker = "@@ "

    static var config: ProbeConfig? {
        guard let text = ProcessInfo.processInfo.environment[variable] else { return nil }
        return try? JSONDecoder().decode(ProbeConfig.self, from: Data(text.utf8))
    }

    static var isActive: Bool { config != nil }

    /// This test binary, to be run again inside a box.
    static var testBinary: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// The arguments that make the test binary run only the probe.
    static let helperArguments = ["--testing-library", "swift-testing", "--filter", "discoveryProbeHelper"]

    static func run(_ config: ProbeConfig) async throws {
        var logger = Logger(label: "probe.\(config.name)")
        logger.logLevel = .debug
        let output = ProbeOutput()
        let discovery = try MDNSDiscovery(
            configuration: DiscoveryConfiguration(
                friendlyName: config.name, peerID: config.id, port: config.port, txt: config.txt,
                txtUpdateInterval: .milliseconds(Int(config.txtInterval * 1000))), logger: logger)
        let table = try PeerTable(configuration: .init(ownID: config.id), logger: logger)

        let commands = AsyncStream<String> { continuation in
            Thread.detachNewThread {
                while let line = readLine() { continuation.yield(line) }
                continuation.finish()
            }
        }
        let (deadline, deadlineContinuation) = AsyncStream.makeStream(of: String.self)
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(Int(config.seconds * 1000)))
            deadlineContinuation.yield("stop")
        }

        try discovery.start()
        output.emit(ProbeLine(time: now(), kind: "started", state: discovery.state))
        let eventsTask = Task {
            for await event in discovery.events {
                output.emit(ProbeLine(time: now(), kind: "event", event: event, state: discovery.state))
                await table.apply(event)
            }
        }
        let changesTask = Task {
            for await change in table.changes { output.emit(ProbeLine(time: now(), kind: "peer", change: change)) }
        }

        commandLoop: for await command in merge(commands, deadline) {
            let words = command.split(separator: " ").map(String.init)
            switch words.first {
            case "txt":
                var txt: [String: String] = [:]
                for pair in words.dropFirst() {
                    let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                    txt[parts[0]] = parts.count > 1 ? parts[1] : ""
                }
                do {
                    try discovery.updateTXT(txt)
                    output.emit(ProbeLine(time: now(), kind: "txt", text: command))
                } catch {
                    output.emit(ProbeLine(time: now(), kind: "error", text: "\(error)"))
                }
            case "state":
                output.emit(ProbeLine(time: now(), kind: "state", state: discovery.state))
            case "stop", nil:
                break commandLoop
            default:
                output.emit(ProbeLine(time: now(), kind: "error", text: "unknown command \(command)"))
            }
        }
        timer.cancel()
        output.emit(ProbeLine(time: now(), kind: "stopping", state: discovery.state))
        discovery.stop()
        await eventsTask.value
        await table.shutdown()
        await changesTask.value
        output.emit(ProbeLine(time: now(), kind: "stopped", state: discovery.state))
    }

    private static func merge(_ first: AsyncStream<String>, _ second: AsyncStream<String>) -> AsyncStream<String> {
        AsyncStream { continuation in
            let tasks = [first, second].map { stream in
                Task {
                    for await line in stream { continuation.yield(line) }
                    continuation.yield("stop")  // end of input stops the probe
                }
            }
            continuation.onTermination = { _ in
                for task in tasks { task.cancel() }
            }
        }
    }

    static func now() -> Double { Date().timeIntervalSince1970 }
}

/// Prints probe lines whole, from any thread, unbuffered (stdout is a pipe: `print` would hold lines back).
final class ProbeOutput: Sendable {
    private let lock = Mutex(())

    func emit(_ line: ProbeLine) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard let data = try? encoder.encode(line) else { return }
        lock.withLock { _ in
            FileHandle.standardOutput.write(Data(ProbeMode.marker.utf8) + data + Data("\n".utf8))
        }
    }
}

/// The parent side: a probe running inside a box, its output collected as it comes.
final class Probe: @unchecked Sendable {
    // Touched only by the test that owns the probe; `lines` is shared with the reader thread.
    let label: String
    let config: ProbeConfig
    private let process: ChildProcess
    private let lines = Lines()

    private final class Lines: Sendable {
        private let store = Mutex<[ProbeLine]>([])
        func append(_ line: ProbeLine) { store.withLock { $0.append(line) } }
        func withLock<R>(_ body: ([ProbeLine]) -> R) -> R { store.withLock { body($0) } }
    }

    init(_ sim: HomeSim, box: Int, _ config: ProbeConfig) throws {
        // A probe that already exited closes its stdin; writing to it must fail, not kill the test process.
        signal(SIGPIPE, SIG_IGN)
        label = "box\(box)"
        self.config = config
        var environment = ProcessInfo.processInfo.environment
        environment[ProbeMode.variable] = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        let logPath = sim.directory(box: box) + "/probe-\(config.name.filter(\.isLetter)).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process = try ChildProcess(
            HomeSim.script,
            ["exec", "--prefix", sim.prefix, "box\(box)", ProbeMode.testBinary] + ProbeMode.helperArguments,
            environment: environment, stdin: .pipe, stdout: .pipe, stderr: .file(logPath))
        let handle = process.stdoutReader!
        let lines = self.lines
        Thread.detachNewThread {
            var buffer = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let text = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...newline)
                    guard text.hasPrefix(ProbeMode.marker),
                        let line = try? JSONDecoder().decode(
                            ProbeLine.self, from: Data(text.dropFirst(ProbeMode.marker.count).utf8))
                    else { continue }
                    lines.append(line)
                }
            }
        }
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    var all: [ProbeLine] { lines.withLock { $0 } }

    func send(_ command: String) {
        try? process.stdinWriter?.write(contentsOf: Data((command + "\n").utf8))
    }

    /// Waits for the first line (after `after` lines) that matches.
    @discardableResult
    func wait(
        for what: String, timeout: Double = 20, after start: Int = 0,
        _ matches: @Sendable (ProbeLine) -> Bool
    ) async throws -> ProbeLine {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let line = lines.withLock({ $0.dropFirst(start).first(where: matches) }) { return line }
            if Date() > deadline { throw SimError.timeout("\(label): \(what)", transcript()) }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    /// Waits until a resolved event of `peerID` satisfies `matches`.
    @discardableResult
    func waitForResolved(
        _ peerID: String, _ what: String = "resolved", timeout: Double = 20, after start: Int = 0,
        where matches: @escaping @Sendable (ResolvedService) -> Bool = { _ in true }
    ) async throws -> ProbeLine {
        try await wait(for: "\(what) of \(peerID.prefix(6))", timeout: timeout, after: start) { line in
            guard let service = line.event?.resolvedService else { return false }
            return service.peerID == peerID && matches(service)
        }
    }

    var count: Int { lines.withLock { $0.count } }

    /// Asks the probe to stop and waits for it to exit.
    func stop(timeout: Double = 10) async {
        send("stop")
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(25)) }
        if process.isRunning { process.terminate() }
    }

    func transcript() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return all.suffix(60).map { line in
            "  \(label) " + String(decoding: (try? encoder.encode(line)) ?? Data(), as: UTF8.self)
        }.joined(separator: "\n")
    }
}

@Suite struct ProbeHelper {
    /// Not a test of its own: the body of a probe, run inside a box by the home network tests.
    @Test(.enabled(if: ProbeMode.isActive, "runs only inside a box, started by the home network tests"))
    func discoveryProbeHelper() async throws {
        guard let config = ProbeMode.config else { return }
        try await ProbeMode.run(config)
    }
}
