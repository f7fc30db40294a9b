import ArgumentParser
import ControlAPIClient
import ControlWire
import Foundation

/// `mediapeerctl cache`: what this box's cache holds, and `cache evict`.
struct Cache: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show this box's cache (quota, watermarks, today's writes, each replica), or evict a replica.",
        subcommands: [CacheShow.self, CacheEvict.self], defaultSubcommand: CacheShow.self)
}

struct CacheShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show the cache: used, quota, watermarks, today's writes and each replica.")
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let client = options.client
        let report = try await talkingToDaemon { () async throws(ControlClientError) in try await client.cache() }
        if options.json { return try Output.json(report) }
        print(Self.summary(report).map(Output.shown).joined(separator: "\n"))
        guard !report.replicas.isEmpty else { return print("no replicas in the cache") }
        print("")
        print(Self.table(report.replicas).render())
    }

    static func summary(_ report: CacheReport) -> [String] {
        let percent = Format.percent(report.usedBytes, of: report.quotaBytes)
        let share = { (value: Double) in "\(Format.wholeNumber((value * 100).rounded()))%" }
        return [
            "used:        \(Format.bytes(report.usedBytes)) of \(Format.bytes(report.quotaBytes)) (\(percent)%)",
            "quota:       cache_max = \"\(report.quota)\" (\(report.quotaBytes) bytes here)",
            "watermarks:  evicts above \(share(report.highWatermark)) down to \(share(report.lowWatermark))"
                + " (\(Format.bytes(Format.wholeNumber(Double(report.quotaBytes) * report.highWatermark))) → "
                + "\(Format.bytes(Format.wholeNumber(Double(report.quotaBytes) * report.lowWatermark))))",
            "replication: \(report.replication)",
            "today:       \(Format.bytes(report.writtenToday)) written of a \(Format.bytes(report.dailyBudget)) "
                + "daily replication budget",
        ]
    }

    static func table(_ replicas: [CacheReport.Replica]) -> Table {
        let policy =
            replicas.contains { $0.demand != nil || $0.valuePerByte != nil || $0.keptBecause != nil }
        var columns: [(String, Table.Alignment)] = [
            ("ID", .left), ("SIZE", .right), ("HELD", .left), ("PINNED", .left), ("IN USE", .left),
        ]
        if policy { columns += [("DEMAND", .right), ("VALUE/GB", .right), ("KEPT BECAUSE", .left)] }
        columns.append(("TITLE", .left))
        var table = Table(columns)
        for replica in replicas {
            let held =
                replica.complete
                ? "complete"
                : "partial \(Format.percent(replica.bytesHeld, of: replica.size))%"
            var row = [
                String(replica.id.hex.prefix(12)), Format.bytes(replica.size), held, replica.pinned ? "pinned" : "",
                replica.use ?? "",
            ]
            if policy {
                row += [
                    replica.demand.map { String(format: "%.2f", $0) } ?? "",
                    replica.valuePerByte.map { String(format: "%.3g", $0 * 1e9) } ?? "",
                    replica.keptBecause ?? "",
                ]
            }
            row.append(replica.title)
            table.add(row)
        }
        return table
    }
}

struct CacheEvict: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evict",
        abstract: "Remove a replica from this box's cache (never a file of the media folders).",
        discussion: """
            A pinned replica is evicted too: evicting it by hand says you mean it. One being fetched is not \
            (mediapeerctl fetch --cancel stops a fetch), nor one a player or a neighbour read in the last five \
            minutes, unless --force.
            """)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "A content id, a prefix of one (8+ hex digits), or words of a title.")
    var reference: [String]
    @Flag(help: "Evict it even if a player or a neighbour read it lately (a play under way keeps its open file).")
    var force = false

    func validate() throws {
        try requireReference(reference, "say which replica to evict: a content id, an id prefix, or words of its title")
    }

    func run() async throws {
        let client = options.client
        let text = reference.joined(separator: " ")
        let evicted = try await talkingToDaemon { () async throws(ControlClientError) in
            try await client.evict(text, force: force)
        }
        if options.json { return try Output.json(evicted) }
        print(
            Output.shown(
                "evicted \"\(evicted.title)\" (\(evicted.id.hex.prefix(12))) from the cache: "
                    + "\(Format.bytes(evicted.bytesFreed)) freed" + (evicted.wasPinned ? "; it was pinned" : "")))
    }
}

/// `mediapeerctl pin` and `unpin`.
struct Pin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Keep a title in this box's cache: automatic replication never evicts a pinned title.",
        discussion: """
            A title not in this box yet is fetched, and pinned as soon as the fetch records it. A title in this \
            box's media folders needs no pin: mediapeer never evicts or touches those.
            """)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "A content id, a prefix of one (8+ hex digits), or words of a title (see `library search --all`).")
    var reference: [String]

    func validate() throws {
        try requireReference(reference, "say what to pin: a content id, an id prefix, or words of a title")
    }

    func run() async throws {
        let client = options.client
        let text = reference.joined(separator: " ")
        let change = try await talkingToDaemon { () async throws(ControlClientError) in try await client.pin(text) }
        if options.json { return try Output.json(change) }
        print(
            Output.shown(
                "pinned \"\(change.title)\" (\(change.id.hex.prefix(12)))" + (change.message.map { ": \($0)" } ?? "")))
    }
}

struct Unpin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Let automatic replication evict a title again (it stays in the cache until then).")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "A content id, a prefix of one (8+ hex digits), or words of a title.")
    var reference: [String]

    func validate() throws {
        try requireReference(reference, "say what to unpin: a content id, an id prefix, or words of a title")
    }

    func run() async throws {
        let client = options.client
        let text = reference.joined(separator: " ")
        let change = try await talkingToDaemon { () async throws(ControlClientError) in try await client.unpin(text) }
        if options.json { return try Output.json(change) }
        print(Output.shown("unpinned \"\(change.title)\" (\(change.id.hex.prefix(12)))"))
    }
}

/// Refuses a reference of blanks only, with what to give instead.
private func requireReference(_ words: [String], _ hint: String) throws {
    guard words.contains(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
        throw ValidationError(hint)
    }
}
