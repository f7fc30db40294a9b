import MediapeerConfig
import Testing

@Suite("Diagnostics")
struct DiagnosticsTests {
    @Test func unknownKeyIsReportedWithLineAndSuggestion() {
        let text = """
            # mediapeer
            name = "box"

            http_port = 8737
            medai_dirs = ["/srv/media"]
            """
        #expect(messages(text) == [#"test.toml:5: unknown key "medai_dirs" (did you mean "media_dirs"?)"#])
    }

    @Test(arguments: [
        ("port", "http_port"),
        ("media-dirs", "media_dirs"),
        ("loglevel", "log_level"),
        ("nmae", "name"),
    ])
    func unknownKeySuggestsTheClosestKey(key: String, suggestion: String) {
        #expect(messages("\(key) = 1") == [#"test.toml:1: unknown key "\#(key)" (did you mean "\#(suggestion)"?)"#])
    }

    @Test func unknownKeyWithoutCloseMatchListsTheKnownKeys() {
        #expect(
            messages("colour = \"blue\"") == [
                #"test.toml:1: unknown key "colour"; the known keys are name, media_dirs, state_dir, cache_dir, cache_max, replication, cache_high_watermark, cache_low_watermark, replication_daily_budget, http_port, control_socket, log_level, static_peers, rescan_interval, peer_catalog_max_objects, peer_catalog_max_bytes, forget_peers_after, player_port, dlna, friendly_name, player_command, demand_half_life, allowed_networks"#
            ])
    }

    @Test func tableHeaderIsReportedAsAnUnknownTable() {
        let text = """
            name = "box"
            [server]
            http_port = 8737
            """
        #expect(
            messages(text) == [
                #"test.toml:2: unknown table "server"; mediapeer settings are top-level keys, so put them before any [table] line"#
            ])
    }

    @Test func dottedKeyIsAnUnknownKey() {
        #expect(
            messages("name = \"box\"\nserver.http_port = 8737") == [
                #"test.toml:2: unknown key "server"; the known keys are name, media_dirs, state_dir, cache_dir, cache_max, replication, cache_high_watermark, cache_low_watermark, replication_daily_budget, http_port, control_socket, log_level, static_peers, rescan_interval, peer_catalog_max_objects, peer_catalog_max_bytes, forget_peers_after, player_port, dlna, friendly_name, player_command, demand_half_life, allowed_networks"#
            ])
    }

    @Test func wrongTypeIsReportedWithLine() {
        let text = """
            name = "box"
            media_dirs = []

            http_port = "eighty"
            """
        #expect(messages(text) == ["test.toml:4: http_port: expected an integer, found a string"])
    }

    @Test func wrongElementTypeIsReportedOnTheElementLine() {
        let text = """
            media_dirs = [
                "/srv/media",
                42,
            ]
            """
        #expect(messages(text) == ["test.toml:3: media_dirs[1]: expected a string, found an integer"])
    }

    @Test func syntaxErrorCarriesLineAndColumn() {
        let found = problems("name = \"box\"\nhttp_port = 8737\nlog_level = \"info\" extra\n")
        #expect(found.count == 1)
        let problem = found.first
        #expect(problem?.line == 3)
        #expect(problem?.column == 20)
        #expect(problem?.key == nil)
        #expect(problem?.description.hasPrefix("test.toml:3:20: syntax error: ") == true)
    }

    @Test func nulByteIsRejectedWithItsLine() {
        #expect(
            messages("name = \"box\"\nhttp_port = 1\u{0}2\n") == [
                "test.toml:2: the file contains a NUL byte, which TOML does not allow"
            ])
    }

    @Test func allProblemsAreReportedInFileOrder() {
        let text = """
            name = ""
            medai_dirs = []
            http_port = 0
            log_level = "loud"
            cache_max = "12 parsecs"
            static_peers = ["nas.local"]
            rescan_interval = "soon"
            """
        #expect(problems(text).map(\.line) == [1, 2, 3, 4, 5, 6, 7])
        #expect(
            problems(text).map(\.key) == [
                "name", nil, "http_port", "log_level", "cache_max", "static_peers[0]", "rescan_interval",
            ])
    }

    @Test func errorIncludesWarningsSoThatACheckShowsEverything() {
        do {
            _ = try MediapeerConfiguration.parse("http_port = 0", sourceName: "test.toml", checkFileSystem: false)
            Issue.record("expected an error")
        } catch {
            #expect(error.errors.count == 1)
            #expect(error.warnings.map(\.key) == ["media_dirs"])
            #expect(
                error.description == """
                    test.toml:1: http_port: 0 is out of range; use a port from 1 to 65535
                    test.toml: warning: media_dirs: not set, so this box shares nothing; add media_dirs = ["/srv/media"] with your media directories
                    """)
        }
    }

    @Test func linesIgnoreKeysInsideMultilineStringsAndComments() {
        let text = #"""
            name = """\
            http_port = "not a key" \
            """
            # http_port = 1
            log_level = 'info' # http_port = 2
            http_port = "x"
            """#
        #expect(messages(text) == ["test.toml:6: http_port: expected an integer, found a string"])
    }

    @Test func elementLinesFollowMultilineArrays() {
        let text = """
            static_peers = [
                "nas.local:8737",  # the NAS, with a comment, ] and all
                "[fd00::1]:8737", "bad",
                'also bad',
            ]
            """
        #expect(problems(text).map(\.line) == [3, 4])
        #expect(problems(text).map(\.key) == ["static_peers[2]", "static_peers[3]"])
    }
}
