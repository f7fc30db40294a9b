import ArgumentParser
import Foundation
import Testing

@testable import MediapeerCLI

/// `mediapeerctl url` and `play`: their arguments, and which player `play` runs.
@Suite struct PlayCommandTests {
    private func withConfig(_ text: String, _ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory.path + "/mediapeer-play-\(UUID().uuidString).toml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    @Test func urlJoinsTheWordsOfATitleAndTakesAHost() throws {
        let command = try #require(
            try MediapeerCtl.parseAsRoot(["url", "summer", "holiday", "--host", "nas.local"]) as? URLCommand)
        #expect(command.title.text == "summer holiday")
        #expect(command.title.host == "nas.local")
    }

    @Test func urlWithoutAReferenceIsAUsageError() {
        #expect(throws: (any Error).self) { try MediapeerCtl.parseAsRoot(["url"]) }
        #expect(throws: (any Error).self) { try MediapeerCtl.parseAsRoot(["url", " "]) }
    }

    @Test func playTakesAPlayerThatNamesAProgram() throws {
        let command = try #require(
            try MediapeerCtl.parseAsRoot(["play", "holiday", "--player", "mpv  --fs"]) as? Play)
        #expect(command.player.map(PlayerCommand.words) == ["mpv", "--fs"])
        #expect(throws: (any Error).self) { try MediapeerCtl.parseAsRoot(["play", "holiday", "--player", "  "]) }
    }

    @Test func theConfiguredPlayerCommandIsRead() throws {
        try withConfig("player_command = [\"mpv\", \"--really-quiet\"]\n") { path in
            let command = try PlayerCommand.configured(path: path)
            #expect(command == ["mpv", "--really-quiet"])
        }
    }

    @Test func withoutAPlayerCommandTheErrorSaysWhatToSet() throws {
        try withConfig("name = \"Den\"\n") { path in
            let error = #expect(throws: PlayerCommand.Failure.self) { try PlayerCommand.configured(path: path) }
            #expect(error?.description.contains("set player_command = [\"mpv\", \"--fs\"]") == true)
            #expect(error?.description.contains(path) == true)
            #expect(error?.description.contains("--player") == true)
        }
    }

    @Test func aMissingConfigurationFileMeansNoPlayerConfigured() {
        let error = #expect(throws: PlayerCommand.Failure.self) {
            try PlayerCommand.configured(path: "/nonexistent/mediapeer.toml")
        }
        #expect(error?.description.hasPrefix("no player configured") == true)
    }

    @Test func anInvalidConfigurationIsReportedWithItsProblem() throws {
        try withConfig("player_command = 5\n") { path in
            let error = #expect(throws: PlayerCommand.Failure.self) { try PlayerCommand.configured(path: path) }
            #expect(error?.description.hasPrefix("cannot read player_command") == true)
        }
    }

    @Test func aPlayerThatCannotBeStartedSaysWhy() {
        #expect(PlayerCommand.exec(["/nonexistent/player", "http://x/"]) == "No such file or directory")
    }
}
