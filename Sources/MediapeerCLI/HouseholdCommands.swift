import ArgumentParser
import ControlAPIClient
import ControlWire
import Foundation

/// `mediapeerctl pair`: a one-time code for a new box to join this box's household.
struct Pair: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a one-time code that lets another box join this box's household.",
        discussion: """
            Run `mediapeerctl join CODE` on the new box within 10 minutes. The code works once, and three wrong \
            tries make it void. A box in LAN mode founds a household with the first box that joins it.
            """)
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let client = options.client
        let answer = try await talkingToDaemon { () async throws(ControlClientError) in try await client.pair() }
        if options.json { return try Output.json(answer) }
        print(answer.code)
        FileHandle.standardError.write(
            Data(
                ("On the new box, within \(answer.validSeconds / 60) minutes: mediapeerctl join \(answer.code)\n")
                    .utf8))
    }
}

/// `mediapeerctl join CODE`: joins the household of the box that printed the code.
struct Join: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join the household of the box that printed CODE with `mediapeerctl pair`.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The code `mediapeerctl pair` printed (case, spaces and dashes do not matter).")
    var code: String

    func run() async throws {
        let client = options.client
        let report = try await talkingToDaemon { () async throws(ControlClientError) in
            try await client.join(code: code)
        }
        if options.json { return try Output.json(report) }
        print(Output.shown("joined " + report.summary))
    }
}

/// `mediapeerctl household`: the members; `household remove BOX`.
struct HouseholdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "household", abstract: "List this box's household (or say it is in LAN mode).",
        subcommands: [Show.self, Remove.self], defaultSubcommand: Show.self)

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the members.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let client = options.client
            let report = try await talkingToDaemon { () async throws(ControlClientError) in
                try await client.household()
            }
            if options.json { return try Output.json(report) }
            print(render(report))
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a box from the household: it is told if online, and every member drops it.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The box: its peer id, 4 or more hex digits of it, or its name.")
        var box: String

        func run() async throws {
            let client = options.client
            let report = try await talkingToDaemon { () async throws(ControlClientError) in
                try await client.removeFromHousehold(box)
            }
            if options.json { return try Output.json(report) }
            print(render(report))
        }
    }

    static func render(_ report: HouseholdReport) -> String {
        guard report.household != nil else { return Output.shown(report.summary) }
        var table = Table([("NAME", .left), ("ID", .left), ("STATE", .left)])
        for member in report.members.sorted(by: { $0.name < $1.name }) {
            table.add([
                member.name, member.peerID,
                member.isThisBox ? "this box" : (member.online ? "online" : "offline"),
            ])
        }
        return Output.shown(report.summary) + "\n" + table.render()
    }
}

private func render(_ report: HouseholdReport) -> String { HouseholdCommand.render(report) }

/// `mediapeerctl leave`: back to LAN mode.
struct Leave: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Leave this box's household: the members drop it, and it returns to LAN mode.")
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let client = options.client
        let report = try await talkingToDaemon { () async throws(ControlClientError) in
            try await client.leaveHousehold()
        }
        if options.json { return try Output.json(report) }
        print(Output.shown("left the household; " + report.summary))
    }
}
