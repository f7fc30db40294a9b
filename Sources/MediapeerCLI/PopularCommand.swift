import ArgumentParser
import ControlAPIClient
import ControlWire
import Foundation

/// `mediapeerctl popular`: what the home watches most, with this box's figures and the home's.
struct Popular: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the titles most in demand in the home.",
        discussion: """
            Figures are decayed counts: each play, fetch or request served counts half as much after the \
            demand_half_life of the configuration. PLAYS and FETCHES started on this box; SERVED: requests for the \
            title's bytes this box answered for other boxes; HOME: the plays and fetches of every box.
            """)
    @OptionGroup var options: GlobalOptions
    @Flag(help: "List every title with demand, not only the top ones.") var all = false
    @Option(help: "At most this many titles (without --all).") var limit = 20

    func validate() throws {
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 10000") }
    }

    func run() async throws {
        let client = options.client
        let list = try await talkingToDaemon { () async throws(ControlClientError) in
            try await client.popular(limit: all ? nil : limit)
        }
        if options.json { return try Output.json(list) }
        guard !list.titles.isEmpty else {
            return print("no demand yet: nothing was played, fetched or asked for lately")
        }
        print(Self.table(list.titles))
        if list.total > list.titles.count {
            print("(\(list.titles.count) of \(Format.count(list.total)) titles with demand; --all for every one)")
        }
    }

    static func table(_ titles: [PopularTitle]) -> String {
        var table = Table([
            ("TITLE", .left), ("KIND", .left), ("PLAYS", .right), ("FETCHES", .right), ("SERVED", .right),
            ("HOME", .right), ("HOLDERS", .left),
        ])
        for title in titles {
            let holders = (title.heldHere ? ["this box"] : []) + title.holders
            table.add([
                title.title, title.kind?.rawValue ?? "-", figure(title.plays), figure(title.fetches),
                figure(title.served), figure(title.homeDemand), holders.isEmpty ? "-" : holders.joined(separator: ", "),
            ])
        }
        return table.render()
    }

    /// A decayed count with two decimals; a count that decayed to nothing shows as 0.
    static func figure(_ value: Double) -> String {
        value < 0.005 ? "0" : String(format: "%.2f", value)
    }
}
