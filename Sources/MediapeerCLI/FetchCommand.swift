import ArgumentParser
import ControlAPIClient
import ControlWire
import Foundation

/// `mediapeerctl fetch`: copy an object from the boxes that hold it into this box's cache.
struct Fetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Fetch a title from the other boxes into this box's cache (verified, resumable, from several boxes at once)."
    )
    @OptionGroup var options: GlobalOptions
    @Argument(help: "A content id, a prefix of one (8+ hex digits), or words of a title (see `library search --all`).")
    var reference: [String]
    @Flag(help: "Wait until the fetch has finished (a progress bar on a terminal; JSON progress lines with --json).")
    var wait = false
    @Flag(help: "Cancel the unfinished fetch named: stop it, delete its partial file and its record.")
    var cancel = false

    func validate() throws {
        guard reference.contains(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            throw ValidationError(
                cancel
                    ? "say which fetch to cancel: a content id, an id prefix, or words of its title"
                    : "say what to fetch: a content id, an id prefix, or words of a title")
        }
        if cancel && wait { throw ValidationError("--cancel and --wait do not go together") }
    }

    func run() async throws {
        let client = options.client
        let text = reference.joined(separator: " ")
        if cancel {
            let cancelled = try await talkingToDaemon { () async throws(ControlClientError) in
                try await client.cancelFetch(text)
            }
            if options.json { return try Output.json(cancelled) }
            return print(
                Output.shown(
                    "cancelled the fetch of \"\(cancelled.title)\" (\(cancelled.id.hex.prefix(12))): "
                        + (cancelled.wasRunning ? "stopped it, " : "")
                        + "deleted its partial file (\(Format.bytes(cancelled.bytesDeleted)) fetched) and its record"))
        }
        let started = try await talkingToDaemon { () async throws(ControlClientError) in try await client.fetch(text) }
        guard wait else {
            if options.json { return try Output.json(started) }
            return print(
                Output.shown(
                    started.isFinished
                        ? summary(started)
                        : "fetching \"\(started.title)\" (\(started.id.hex.prefix(12))); "
                            + "follow with mediapeerctl fetch \(started.id.hex.prefix(12)) --wait"))
        }
        let bar = Output.isTerminal && !options.json
        var last: FetchProgress?
        var progress = started
        while true {
            if options.json, progress != last {
                try Output.json(progress)
                last = progress
            }
            // A paused fetch goes on only when started by hand: nothing to wait for.
            if progress.isFinished || progress.state == .paused { break }
            if bar { FileHandle.standardOutput.write(Data(("\r\u{1B}[K" + Output.shown(line(progress))).utf8)) }
            try await Task.sleep(for: .milliseconds(200))
            let id = progress.id
            progress = try await talkingToDaemon { () async throws(ControlClientError) in
                try await client.fetchProgress(id)
            }
        }
        if bar { FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8)) }
        if !options.json { print(Output.shown(summary(progress))) }
        if progress.state == .failed { throw ExitCode.failure }
    }

    private func line(_ progress: FetchProgress) -> String {
        switch progress.state {
        case .locating: return "locating \"\(progress.title)\"…"
        case .waitingForHolders: return "waiting for a box that holds it: \(progress.message ?? "")"
        default:
            let width = 30
            let fraction = progress.size == 0 ? 0 : Double(progress.bytesDone) / Double(progress.size)
            let filled = Format.filledCells(fraction, width: width)
            return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
                + "\(Format.bytes(progress.bytesDone))/\(Format.bytes(progress.size)) \(Format.bytes(progress.bytesPerSecond))/s "
                + "from \(progress.activeSources) box\(progress.activeSources == 1 ? "" : "es")"
        }
    }

    private func summary(_ progress: FetchProgress) -> String {
        switch progress.state {
        case .complete:
            let seconds = progress.finishedAt.map { $0.timeIntervalSince(progress.startedAt) } ?? 0
            let sources = progress.sources.filter { $0.chunks > 0 }.map { "\($0.name): \(Format.bytes($0.bytes))" }
            return "fetched \"\(progress.title)\" (\(progress.id.hex)), \(Format.bytes(progress.size))"
                + (progress.message.map { ": \($0)" } ?? " in \(String(format: "%.1f", seconds)) s")
                + (sources.isEmpty ? "" : " from " + sources.joined(separator: ", "))
                + (progress.chunksResumed > 0 ? "; \(progress.chunksResumed) chunks were already here" : "")
        case .failed:
            return "fetch of \"\(progress.title)\" failed: \(progress.message ?? "unknown error")"
        case .paused:
            return "fetch of \"\(progress.title)\" is paused: \(progress.message ?? "")"
        default:
            return "fetch of \"\(progress.title)\": \(progress.state.rawValue)"
        }
    }
}

/// `mediapeerctl fetches`: what this box is fetching, and what it fetched since the daemon started.
struct Fetches: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the fetches running, and those finished since the daemon started.")
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let client = options.client
        let list = try await talkingToDaemon { () async throws(ControlClientError) in try await client.fetches() }
        if options.json { return try Output.json(list) }
        guard !list.fetches.isEmpty else { return print("no fetches since the daemon started") }
        var table = Table([
            ("ID", .left), ("STATE", .left), ("DONE", .right), ("SIZE", .right), ("RATE", .right), ("SOURCES", .left),
            ("TITLE", .left),
        ])
        for fetch in list.fetches {
            let percent = fetch.size == 0 ? 100 : Format.percent(fetch.bytesDone, of: fetch.size)
            let sources = fetch.sources.filter { $0.chunks > 0 || $0.active }.map {
                "\($0.name) \($0.chunks)" + ($0.badChunks > 0 ? " (\($0.badChunks) bad)" : "")
            }
            table.add([
                String(fetch.id.hex.prefix(12)), fetch.state.rawValue, "\(percent)%", Format.bytes(fetch.size),
                fetch.isFinished ? "" : Format.bytes(fetch.bytesPerSecond) + "/s", sources.joined(separator: ", "),
                fetch.title,
            ])
        }
        print(table.render())
        // Why a fetch is paused, and how to resume it, does not fit a column.
        for fetch in list.fetches where fetch.state == .paused {
            print(Output.shown("\(fetch.id.hex.prefix(12)) paused: \(fetch.message ?? "")"))
        }
    }
}
