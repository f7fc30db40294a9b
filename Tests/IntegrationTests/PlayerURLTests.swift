import ControlWire
import Foundation
import Testing
import WireVocabulary

/// `mediapeerctl url` and `play` on real daemons: the URL of a title another box holds, through this box.
@Suite(.serialized) struct PlayerURLTests {
    @Test func urlOnOneBoxPrintsThatBoxsPlayerURLOfATitleHeldByAnother() throws {
        let home = try SimulatedHome(boxes: 2, tag: "pu")
        try home.addLargeVideo("holiday.mkv", megabytes: 1, to: [2])
        try home.startDaemon(1, extraConfig: "player_port = 8800\nplayer_command = [\"/bin/echo\", \"now playing\"]")
        try home.startDaemon(2)
        let id = try home.contentID(of: "holiday.mkv", in: 2)
        try home.waitUntilListed(id, in: 1, heldBy: ["Box 2"])

        // Box 1's address on the home's LAN, its player port, the id, and the file's extension.
        let expected = "http://10.77.0.1:8800/media/\(id.hex).mkv"
        let url = try home.ctl(1, ["url", "holiday"])
        #expect(url.status == 0, "\(url.stderr)")
        #expect(url.stdout == expected + "\n")

        let json = try home.decode(TitleURL.self, 1, ["url", String(id.hex.prefix(12))])
        #expect(json == TitleURL(id: id, title: "Fixture Film", url: expected))

        let named = try home.ctl(1, ["url", "holiday", "--host", "livingroom.home.arpa"])
        #expect(named.stdout == "http://livingroom.home.arpa:8800/media/\(id.hex).mkv\n", "\(named.stderr)")

        // `play` runs the configured player with the URL last, and --player replaces it.
        let played = try home.ctl(1, ["play", "holiday"])
        #expect(played.status == 0, "\(played.stderr)")
        #expect(played.stdout == "now playing \(expected)\n")
        #expect(played.stderr.contains("playing \"Fixture Film\" with /bin/echo"))
        let other = try home.ctl(1, ["play", "holiday", "--player", "/bin/echo other"])
        #expect(other.stdout == "other \(expected)\n", "\(other.stderr)")
    }

    @Test func urlSaysWhenNothingOrSeveralTitlesMatch() throws {
        let home = try SimulatedHome(boxes: 1, tag: "pn")
        try home.addLargeVideo("holiday one.mkv", megabytes: 1, to: [1])
        try home.addLargeVideo("holiday two.mkv", megabytes: 2, to: [1])
        try home.startDaemon(1)
        let first = try home.contentID(of: "holiday one.mkv", in: 1)
        let second = try home.contentID(of: "holiday two.mkv", in: 1)

        let none = try home.ctl(1, ["url", "zebra"])
        #expect(none.status == 1 && none.stdout.isEmpty)
        #expect(none.stderr.contains("nothing in the home matches \"zebra\""), "\(none.stderr)")

        let several = try home.ctl(1, ["url", "holiday"])
        #expect(several.status == 1 && several.stdout.isEmpty)
        #expect(several.stderr.contains("\"holiday\" matches 2 objects"), "\(several.stderr)")
        #expect(
            several.stderr.contains(String(first.hex.prefix(12)))
                && several.stderr.contains(String(second.hex.prefix(12))))

        let unconfigured = try home.ctl(1, ["play", "holiday one"])
        #expect(unconfigured.status != 0)
        #expect(unconfigured.stderr.contains("no player configured: set player_command"), "\(unconfigured.stderr)")
    }

    @Test func aSubtitleBesideAVideoIsIndexedApartAndNamedToSamsungTVs() throws {
        let home = try SimulatedHome(boxes: 2, tag: "ps")
        try home.addLargeVideo("holiday.mkv", megabytes: 1, to: [1])
        let subtitle = "1\n00:00:01,000 --> 00:00:02,000\nHello\n"
        try subtitle.write(toFile: home.box(1) + "/media/.holiday.srt", atomically: true, encoding: .utf8)
        try FileManager.default.moveItem(
            atPath: home.box(1) + "/media/.holiday.srt", toPath: home.box(1) + "/media/holiday.srt")
        try home.startDaemon(1)
        try home.startDaemon(2)
        let video = try home.contentID(of: "holiday.mkv", in: 1)
        var subtitleID: ContentID?
        try eventually("box 1 hashed holiday.srt") {
            subtitleID = try home.decode(LibraryPage.self, 1, ["library", "list", "--kind", "subtitle"]).items.first?
                .contentID
            return subtitleID != nil
        }
        // Not a title of its own: `url holiday` names the video alone.
        #expect(try home.decode(LibraryPage.self, 1, ["library", "list"]).items.map(\.path) == ["holiday.mkv"])
        let url = try home.ctl(1, ["url", "holiday"])
        #expect(url.stdout == "http://10.77.0.1:8738/media/\(video.hex).mkv\n", "\(url.stderr)")

        let headers = try home.exec(
            2,
            [
                "curl", "-s", "--max-time", "30", "-o", "/dev/null", "-D", "-", "-H", "getCaptionInfo.sec: 1",
                "http://10.77.0.1:8738/media/\(video.hex).mkv",
            ])
        let caption = "http://10.77.0.1:8738/media/\(subtitleID!.hex).srt"
        #expect(headers.stdout.lowercased().contains("captioninfo.sec: \(caption)"), "\(headers.stdout)")
        let body = try home.exec(2, ["curl", "-s", "--max-time", "30", caption])
        #expect(body.stdout == subtitle)
    }
}
