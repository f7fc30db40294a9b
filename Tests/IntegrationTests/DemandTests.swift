import ControlWire
import Foundation
import Testing
import WireVocabulary

/// Demand accounting across real daemons: a play on one box counts there, and its figure reaches the box that holds
/// the title through the neighbours' digests.
@Suite(.serialized) struct DemandTests {
    @Test func aPlayOnOneBoxShowsThereAndInTheHomeDemandOfTheBoxHoldingTheTitle() throws {
        let home = try SimulatedHome(boxes: 2, tag: "dm")
        try FileManager.default.createDirectory(atPath: home.box(2) + "/media", withIntermediateDirectories: true)
        try MediaFixtures.copy(MediaFixtures.film, to: home.box(2) + "/media/film.mkv")
        // Figures are written half a second after a play instead of minutes, so the neighbour learns of them soon.
        for index in 1...2 { try home.startDaemon(index, environment: ["MEDIAPEER_DEMAND_FLUSH_MS": "500"]) }
        let id = try home.contentID(of: "film.mkv", in: 2)
        try home.waitUntilListed(id, in: 1, heldBy: ["Box 2"])

        let play = try home.exec(
            1, ["curl", "-sf", "-o", "/dev/null", home.mediaURL(id, through: 1, fileExtension: "mkv")],
            timeout: .seconds(60))
        #expect(play.status == 0, "\(play.stderr)\n\(home.log(1).suffix(3000))")

        let here = try #require(try home.decode(PopularList.self, 1, ["popular"]).titles.first { $0.id == id })
        #expect(abs(here.plays - 1) < 0.01 && here.fetches == 0, "\(here)")
        #expect(abs(here.homeDemand - 1) < 0.01, "\(here)")
        #expect(here.title == "Fixture Film" && here.kind == .video && here.holders == ["Box 2"], "\(here)")
        let table = try home.ctl(1, ["popular"])
        #expect(table.status == 0 && table.stdout.contains("Fixture Film"), "\(table.stdout)\(table.stderr)")

        var holder: PopularTitle?
        try eventually(timeout: .seconds(30), "box 2's home demand counts box 1's play\n\(home.log(2).suffix(3000))") {
            holder = try home.decode(PopularList.self, 2, ["popular", "--all"]).titles.first { $0.id == id }
            return (holder?.homeDemand ?? 0) > 0.99
        }
        #expect(holder?.plays == 0 && holder?.heldHere == true, "\(String(describing: holder))")
        #expect((holder?.served ?? 0) > 0.99, "box 2 served box 1's play: \(String(describing: holder))")
    }
}
