import ArgumentParser
import ControlAPIClient
import ControlWire
import Foundation
import MediapeerConfig
import WireVocabulary

/// `mediapeerctl`: controls and queries the local mediapeerd.
public struct MediapeerCtl: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mediapeerctl",
        abstract: "Control and query the mediapeer daemon on this box.",
        version: MediapeerVersion.string,
        subcommands: [
            Status.self, Library.self, Peers.self, Fetch.self, Fetches.self, Cache.self, Pin.self, Unpin.self,
            URLCommand.self, Play.self, Scan.self, Popular.self, Config.self, Pair.self, Join.self,
            HouseholdCommand.self, Leave.self,
        ])

    // Declared here too so `mediapeerctl --socket PATH status` parses; each subcommand reads the same group.
    @OptionGroup var options: GlobalOptions

    public init() {}
}

extension MediaKind: ExpressibleByArgument {}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show what the daemon is doing and what it holds.")
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let client = options.client
        let status = try await talkingToDaemon { () async throws(ControlClientError) in try await client.status() }
        if options.json { return try Output.json(status) }
        var lines = [
            "name:        \(status.name)",
            "peer id:     \(status.peerID), peer API on port \(status.httpPort)",
            "sharing:     "
                + (status.household?.summary ?? HouseholdReport(household: nil, version: nil, members: []).summary),
            "mdns:        " + describe(status.mdns) + ", \(status.peerCount) peer\(status.peerCount == 1 ? "" : "s")",
            "version:     \(status.version) (pid \(status.pid), up \(Format.age(seconds: Int64(status.uptimeSeconds))))",
            "media:       "
                + (status.mediaFolders.isEmpty
                    ? "(no media_dirs configured)" : status.mediaFolders.joined(separator: ", ")),
            "library:     " + describe(status.library),
            "scan:        " + describe(status.scan),
            "hashing:     "
                + (status.hashing.pendingFiles == 0
                    ? "all content ids computed" : "\(Format.count(status.hashing.pendingFiles)) files waiting")
                + (status.hashing.bytesPerSecond.map { ", \(Format.bytes($0))/s" } ?? ""),
            "generation:  \(status.library.generation)",
            "database:    \(Format.bytes(status.library.databaseBytes)) in \(status.stateDirectory)",
        ]
        if let rss = status.residentBytes { lines.append("memory:      \(Format.bytes(rss)) resident") }
        if status.scan.liveUpdatesDegraded {
            lines.append("warning:     inotify watch limit reached; periodic rescans stand in for live updates")
        }
        print(lines.map(Output.shown).joined(separator: "\n"))
    }

    private func describe(_ mdns: DiscoveryState) -> String {
        guard mdns.daemonRunning else { return "down (avahi-daemon is not running; static_peers still work)" }
        return (mdns.registered ? "announced as" : "announcing as") + " \"\(mdns.nameInUse)\""
            + (mdns.hostName.map { " on \($0)" } ?? "")
    }

    private func describe(_ library: LibraryStatistics) -> String {
        let total = "\(Format.count(library.files)) files, \(Format.bytes(library.bytes))"
        guard !library.kinds.isEmpty else { return total }
        let kinds: [String] = library.kinds.map { kind in "\(Format.count(kind.files)) \(kind.kind.rawValue)" }
        return total + " (" + kinds.joined(separator: ", ") + ")"
    }

    private func describe(_ scan: ScanProgress) -> String {
        var text: String
        switch scan.phase {
        case .idle:
            text =
                "idle"
                + (scan.lastScanMilliseconds.map { ", last scan took " + Format.elapsed(milliseconds: $0) } ?? "")
        case .walking: text = "walking folders, \(Format.count(scan.filesSeen)) files seen"
        case .readingMetadata:
            text = "reading metadata, \(Format.count(scan.filesRead)) of \(Format.count(scan.filesToRead))"
        }
        let skipped = scan.skipped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
        if !skipped.isEmpty { text += "; skipped: " + skipped.joined(separator: ", ") }
        return text
    }
}

struct Peers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the other boxes this one has found.")
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let client = options.client
        let list = try await talkingToDaemon { () async throws(ControlClientError) in try await client.peers() }
        if options.json { return try Output.json(list) }
        let known = list.peers.filter { $0.id != nil }
        guard !known.isEmpty else {
            return print(
                list.mdns.daemonRunning ? "no peers found yet" : "no peers (mDNS is down: avahi-daemon is not running)")
        }
        var table = Table([
            ("NAME", .left), ("ID", .left), ("ADDRESS", .left), ("SEEN", .right), ("GEN", .right), ("STATE", .left),
        ])
        let now = Date()
        for peer in known.sorted(by: { $0.name < $1.name }) {
            // The daemon's table lists the addresses best first.
            let address =
                peer.addresses.first.map {
                    ($0.contains(":") ? "[\($0)]" : $0) + ":\(peer.port)"
                } ?? "-"
            table.add([
                peer.name, String(peer.id!.prefix(12)), address,
                Format.age(seconds: max(0, Format.wholeNumber(now.timeIntervalSince(peer.lastSeen)))) + " ago",
                peer.generation.map(String.init) ?? "-", peer.reachable ? "reachable" : "unreachable",
            ])
        }
        print(table.render())
    }
}

struct Library: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, search and inspect the media this box holds (--all: the whole home).",
        subcommands: [List.self, Search.self, Show.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the indexed media.")
        @OptionGroup var options: GlobalOptions
        @Flag(help: "List everything in the home: this box and the catalogs of the boxes online.") var all = false
        @Option(help: "Only this kind: video, audio, image or subtitle (subtitles are listed only when asked for).")
        var kind: MediaKind?
        @Option(help: "At most this many items.") var limit = 100
        @Option(help: "Skip this many items first.") var offset = 0

        func validate() throws {
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 10000") }
            guard offset >= 0 else { throw ValidationError("--offset cannot be negative") }
        }

        func run() async throws {
            let client = options.client
            if all {
                let page = try await talkingToDaemon { () async throws(ControlClientError) in
                    try await client.listHome(kind: kind, limit: limit, offset: offset)
                }
                if options.json { return try Output.json(page) }
                print(homeTable(page.items))
                if page.total > page.offset + page.items.count {
                    print(
                        "(\(page.offset + 1)–\(page.offset + page.items.count) of \(Format.count(page.total)); --offset \(page.offset + page.items.count) for more)"
                    )
                }
                return
            }
            let page = try await talkingToDaemon { () async throws(ControlClientError) in
                try await client.list(kind: kind, limit: limit, offset: offset)
            }
            if options.json { return try Output.json(page) }
            print(itemTable(page.items))
            if page.total > page.offset + page.items.count {
                print(
                    "(\(page.offset + 1)–\(page.offset + page.items.count) of \(Format.count(page.total)); --offset \(page.offset + page.items.count) for more)"
                )
            }
        }
    }

    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Find media by title, artist, album or file name.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Words to look for; each must start a word of the title, artist, album or path.") var words:
            [String]
        @Flag(help: "Search the whole home: this box and the catalogs of the boxes online.") var all = false
        @Option(help: "Only this kind: video, audio, image or subtitle (subtitles are listed only when asked for).")
        var kind: MediaKind?
        @Option(help: "At most this many results.") var limit = 50

        func validate() throws {
            guard words.contains(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
                throw ValidationError("give some words to search for")
            }
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 10000") }
        }

        func run() async throws {
            let client = options.client
            let text = words.joined(separator: " ")
            if all {
                let page = try await talkingToDaemon { () async throws(ControlClientError) in
                    try await client.searchHome(text, kind: kind, limit: limit)
                }
                if options.json { return try Output.json(page) }
                if page.items.isEmpty { return print(Output.shown("nothing in the home matches \"\(text)\"")) }
                return print(homeTable(page.items))
            }
            let page = try await talkingToDaemon { () async throws(ControlClientError) in
                try await client.search(text, kind: kind, limit: limit)
            }
            if options.json { return try Output.json(page) }
            if page.items.isEmpty { return print(Output.shown("nothing matches \"\(text)\"")) }
            print(itemTable(page.items))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show everything known about one item.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "A numeric id from `library list`, or a content id (at least 8 hex digits).") var id: String

        func run() async throws {
            let client = options.client
            let item = try await talkingToDaemon { () async throws(ControlClientError) in try await client.item(id) }
            if options.json { return try Output.json(item) }
            print(Self.text(of: item))
        }

        /// What `library show` prints: one aligned line per known field.
        static func text(of item: MediaItem) -> String {
            let m = item.metadata
            var fields: [(String, String?)] = [
                ("id", String(item.id)), ("title", item.displayTitle), ("kind", item.kind.rawValue),
                ("type", item.mimeType),
                // The path as shown (a Latin-1 name as `café`); `--json` carries its lossless identity.
                ("file", item.root + "/" + FileSystemName.displayText(item.path)),
                ("size", "\(Format.bytes(item.size)) (\(Format.count(item.size)) bytes)"),
                (
                    "modified",
                    ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(item.modified)))
                ),
                ("content id", item.contentID?.hex ?? "(not computed yet)"),
            ]
            if !item.metadataRead { fields.append(("metadata", "(not read yet)")) }
            fields += [
                ("artist", m.artist), ("album", m.album), ("track", m.track.map(String.init)), ("genre", m.genre),
                ("year", m.year.map(String.init)),
                ("duration", m.durationMilliseconds.map { Format.duration(milliseconds: $0) }),
                ("dimensions", m.width.flatMap { w in m.height.map { "\(w)×\($0)" } }), ("taken", m.dateTaken),
                ("camera", [m.cameraMake, m.cameraModel].compactMap { $0 }.joined(separator: " ").nilIfEmpty),
                ("orientation", m.orientation.map(String.init)), ("video codec", m.videoCodec),
                ("audio codec", m.audioCodec),
            ]
            let shown = fields.compactMap { name, value in value.map { (name, $0) } }
            let width = shown.map(\.0.count).max() ?? 0
            return
                shown.map { name, value in
                    name + ":" + String(repeating: " ", count: width - name.count + 2) + Output.shown(value)
                }.joined(separator: "\n")
        }
    }
}

func itemTable(_ items: [MediaItem]) -> String {
    var table = Table([
        ("ID", .right), ("KIND", .left), ("SIZE", .right), ("LENGTH", .right), ("TITLE", .left),
        ("ARTIST / CAMERA", .left), ("PATH", .left),
    ])
    for item in items {
        let m = item.metadata
        let who = m.artist ?? [m.cameraMake, m.cameraModel].compactMap { $0 }.joined(separator: " ")
        let length =
            m.durationMilliseconds.map { Format.duration(milliseconds: $0) }
            ?? m.width.flatMap { w in m.height.map { "\(w)×\($0)" } } ?? ""
        table.add([
            String(item.id), item.kind.rawValue, Format.bytes(item.size), length, item.displayTitle, who,
            FileSystemName.displayText(item.path),
        ])
    }
    return table.render()
}

/// Objects anywhere in the home, with where they are.
func homeTable(_ items: [HomeItem]) -> String {
    var table = Table([
        ("ID", .left), ("KIND", .left), ("SIZE", .right), ("LENGTH", .right), ("TITLE", .left), ("WHERE", .left),
    ])
    for item in items {
        let length =
            item.durationMilliseconds.map { Format.duration(milliseconds: $0) }
            ?? item.width.flatMap { w in item.height.map { "\(w)×\($0)" } } ?? ""
        var places = item.local ? ["this box"] : []
        places += item.holderNames
        table.add([
            item.id.map { String($0.hex.prefix(12)) } ?? "(hashing)", item.kind.rawValue, Format.bytes(item.size),
            length,
            item.displayTitle, places.isEmpty ? "(partial copies only)" : places.joined(separator: ", "),
        ])
    }
    return table.render()
}

struct Scan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rescan the media folders (only changed files are read again).")
    @OptionGroup var options: GlobalOptions
    @Flag(help: "Wait until the scan has finished (a progress bar on a terminal; JSON progress lines with --json).")
    var wait = false

    func run() async throws {
        let client = options.client
        let ticket = try await talkingToDaemon { () async throws(ControlClientError) in try await client.requestScan() }
        guard wait else {
            return options.json ? try Output.json(ticket) : print("scan \(ticket.scanNumber) started")
        }
        let bar = Output.isTerminal && !options.json
        var lastPrinted: ScanProgress?
        while true {
            let status = try await talkingToDaemon { () async throws(ControlClientError) in try await client.status() }
            let scan = status.scan
            if scan.completedScans >= ticket.scanNumber {
                if bar { FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8)) }
                if options.json { return try Output.json(status) }
                print(
                    "scan \(ticket.scanNumber) finished in \(scan.lastScanMilliseconds.map { "\($0) ms" } ?? "?"): "
                        + "\(Format.count(status.library.files)) files, \(Format.bytes(status.library.bytes))"
                        + (scan.skipped.isEmpty
                            ? ""
                            : "; skipped "
                                + scan.skipped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(
                                    separator: ", ")))
                return
            }
            if bar {
                // Unbuffered, so the bar moves even though no newline is written.
                FileHandle.standardOutput.write(Data(("\r\u{1B}[K" + Output.shown(progressLine(scan))).utf8))
            } else if options.json, scan != lastPrinted {
                try Output.json(scan)
                lastPrinted = scan
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    private func progressLine(_ scan: ScanProgress) -> String {
        switch scan.phase {
        case .idle: return "waiting for the scan to start…"
        case .walking: return "walking folders: \(Format.count(scan.filesSeen)) files"
        case .readingMetadata:
            let width = 30
            let fraction = scan.filesToRead == 0 ? 1 : Double(scan.filesRead) / Double(scan.filesToRead)
            let filled = Format.filledCells(fraction, width: width)
            return "metadata [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
                + "] \(Format.count(scan.filesRead))/\(Format.count(scan.filesToRead))"
        }
    }
}

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with configuration files.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration file without starting anything, and print the effective settings.")
        @Argument(help: "The file to check.") var path: String = MediapeerConfiguration.defaultPath
        @Flag(help: "Print the result as JSON.") var json = false

        func run() throws {
            do throws(ConfigError) {
                let settings = try MediapeerConfiguration.load(path: path)
                if json {
                    try? Output.json(
                        CheckResult(path: path, valid: true, problems: settings.warnings.map(\.description)))
                } else {
                    for warning in settings.warnings {
                        FileHandle.standardError.write(Data((warning.description + "\n").utf8))
                    }
                    print("\(path): OK\n\n" + settings.rendered())
                }
            } catch {
                if json {
                    try? Output.json(CheckResult(path: path, valid: false, problems: error.problems.map(\.description)))
                } else {
                    FileHandle.standardError.write(Data((error.description + "\n").utf8))
                }
                throw ExitCode(78)
            }
        }

        struct CheckResult: Encodable {
            var path: String
            var valid: Bool
            var problems: [String]
        }
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
