import MediapeerConfig
import Testing

@Suite struct PlayerKeyTests {
    @Test func playerSettingsDefaultToPort8738WithDLNAOnAndNoPlayerCommand() throws {
        let config = try parsed("")
        #expect(config.playerPort == 8738)
        #expect(config.dlna)
        #expect(config.friendlyName == nil)
        #expect(config.playerCommand == nil)
    }

    @Test func playerSettingsAreRead() throws {
        let config = try parsed(
            """
            player_port = 9000
            dlna = false
            friendly_name = "Living Room TV box"
            player_command = ["mpv", "--fs"]
            """)
        #expect(config.playerPort == 9000)
        #expect(!config.dlna)
        #expect(config.friendlyName == "Living Room TV box")
        #expect(config.playerCommand == ["mpv", "--fs"])
    }

    @Test func aPlayerCommandStringIsSplitIntoWords() throws {
        #expect(try parsed(#"player_command = "vlc --fullscreen""#).playerCommand == ["vlc", "--fullscreen"])
    }

    @Test func thePlayerPortMayNotBeThePeerPort() {
        #expect(throws: ConfigError.self) { try parsed("http_port = 9000\nplayer_port = 9000") }
        #expect(throws: ConfigError.self) { try parsed("player_port = 8737") }
    }

    @Test func aQuotedBooleanIsRefusedWithAHint() {
        #expect {
            try parsed(#"dlna = "false""#)
        } throws: { error in
            "\(error)".contains("write false without quotes")
        }
    }

    @Test func anEmptyPlayerCommandOrFriendlyNameIsRefused() {
        #expect(throws: ConfigError.self) { try parsed("player_command = []") }
        #expect(throws: ConfigError.self) { try parsed(#"friendly_name = """#) }
    }
}
