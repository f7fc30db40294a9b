import MediapeerConfig
import Testing

@Suite("Keys")
struct KeyTests {
    @Test func everyKeyIsParsed() throws {
        let config = try parsed(
            """
            name = "Living room"
            media_dirs = ["/srv/media", "/srv/photos"]
            state_dir = "/data/state"
            cache_dir = "/data/cache"
            cache_max = "2 GiB"
            http_port = 9000
            control_socket = "/run/mp/control.sock"
            log_level = "debug"
            static_peers = ["nas.local:8737", "[fd00::2]:9000"]
            rescan_interval = "6h"
            """)
        #expect(
            config
                == MediapeerConfiguration(
                    name: "Living room",
                    mediaDirs: ["/srv/media", "/srv/photos"],
                    stateDir: "/data/state",
                    cacheDir: "/data/cache",
                    cacheMax: .bytes(2 << 30),
                    httpPort: 9000,
                    controlSocket: "/run/mp/control.sock",
                    logLevel: .debug,
                    staticPeers: [
                        PeerAddress(host: "nas.local", port: 8737), PeerAddress(host: "fd00::2", port: 9000),
                    ],
                    rescanInterval: .seconds(6 * 3600)))
        #expect(config.warnings == [])
    }

    @Test func quotedKeysAreTheSameKeys() throws {
        let config = try parsed(#""http_port" = 9000"#)
        #expect(config.httpPort == 9000)
    }

    @Test func pathsAreNormalized() throws {
        let config = try parsed(#"media_dirs = ["/srv//media/./"]"# + "\nstate_dir = \"/data/state/\"")
        #expect(config.mediaDirs == ["/srv/media"])
        #expect(config.stateDir == "/data/state")
    }

    @Test(arguments: [
        (
            #"media_dirs = ["srv/media"]"#,
            #"test.toml:1: media_dirs[0]: "srv/media" is not an absolute path; write the full path from "/", such as "/srv/media""#
        ),
        (
            #"state_dir = "state""#,
            #"test.toml:1: state_dir: "state" is not an absolute path; write the full path from "/", such as "/var/lib/mediapeer""#
        ),
        (
            #"cache_dir = "./cache""#,
            #"test.toml:1: cache_dir: "./cache" is not an absolute path; write the full path from "/", such as "/var/cache/mediapeer""#
        ),
        (
            #"control_socket = "control.sock""#,
            #"test.toml:1: control_socket: "control.sock" is not an absolute path; write the full path from "/", such as "/run/mediapeer/control.sock""#
        ),
        (
            #"state_dir = """#,
            #"test.toml:1: state_dir: must not be empty; write an absolute path, such as "/var/lib/mediapeer""#
        ),
    ])
    func relativePathsAreRejected(text: String, message: String) {
        #expect(messages(text) == [message])
    }

    @Test(arguments: [0, 65536, -1, 100_000])
    func portOutOfRangeIsRejected(port: Int) {
        #expect(
            messages("http_port = \(port)") == [
                "test.toml:1: http_port: \(port) is out of range; use a port from 1 to 65535"
            ])
    }

    @Test(arguments: [1024, 65535, 8737])
    func portInRangeIsAccepted(port: Int) throws {
        #expect(try parsed("http_port = \(port)").httpPort == port)
    }

    @Test func privilegedPortIsAcceptedWithAWarning() throws {
        let config = try parsed("media_dirs = []\nhttp_port = 80")
        #expect(config.httpPort == 80)
        #expect(
            config.warnings.map(\.description).contains(
                "test.toml:2: warning: http_port: port 80 is below 1024, which only root or a process with CAP_NET_BIND_SERVICE can listen on"
            ))
    }

    @Test func quotedPortIsAWrongTypeWithAHint() {
        #expect(
            messages(#"http_port = "8080""#) == [
                "test.toml:1: http_port: expected an integer, found a string; write 8080 without quotes"
            ])
    }

    @Test(arguments: LogLevel.allCases)
    func everyLogLevelIsAccepted(level: LogLevel) throws {
        #expect(try parsed(#"log_level = "\#(level.rawValue)""#).logLevel == level)
    }

    @Test func logLevelsAreOrderedBySeverity() {
        #expect(LogLevel.allCases.sorted() == [.trace, .debug, .info, .notice, .warning, .error, .critical])
        #expect(LogLevel.warning > .info)
    }

    @Test(arguments: [
        (
            "warn",
            #"test.toml:1: log_level: "warn" is not a log level (did you mean "warning"?); use one of trace, debug, info, notice, warning, error, critical"#
        ),
        (
            "INFO",
            #"test.toml:1: log_level: "INFO" is not a log level (did you mean "info"?); use one of trace, debug, info, notice, warning, error, critical"#
        ),
        (
            "loud",
            #"test.toml:1: log_level: "loud" is not a log level; use one of trace, debug, info, notice, warning, error, critical"#
        ),
    ])
    func unknownLogLevelIsRejectedWithSuggestion(level: String, message: String) {
        #expect(messages(#"log_level = "\#(level)""#) == [message])
    }

    @Test func nameAcceptsUnicodeUpTo63Bytes() throws {
        let name = String(repeating: "é", count: 31) + "x"  // 63 bytes
        #expect(try parsed(#"name = "\#(name)""#).name == name)
    }

    @Test(arguments: [
        (#"name = """#, "test.toml:1: name: must not be empty; it is the name other peers show for this box"),
        (
            "name = \"\(String(repeating: "é", count: 32))\"",
            "test.toml:1: name: \"\(String(repeating: "é", count: 32))\" is 64 bytes long in UTF-8; a DNS-SD instance name can have at most 63"
        ),
        (
            #"name = "Living\troom""#,
            #"test.toml:1: name: "Living\troom" contains a control character, which a DNS-SD instance name cannot have"#
        ),
        ("name = 42", "test.toml:1: name: expected a string, found an integer"),
    ])
    func invalidNameIsRejected(text: String, message: String) {
        #expect(messages(text) == [message])
    }

    @Test(
        arguments: [
            (#"rescan_interval = "0""#, nil),
            ("rescan_interval = 0", nil),
            (#"rescan_interval = "30m""#, Duration.seconds(1800)),
            (#"rescan_interval = "6h""#, Duration.seconds(21600)),
            (#"rescan_interval = "1d""#, Duration.seconds(86400)),
            (#"rescan_interval = "1h30m""#, Duration.seconds(5400)),
            ("rescan_interval = 3600", Duration.seconds(3600)),
        ] as [(String, Duration?)])
    func rescanIntervalForms(text: String, interval: Duration?) throws {
        #expect(try parsed(text).rescanInterval == interval)
    }

    @Test(arguments: [
        (
            #"rescan_interval = "6 parsecs""#,
            #"test.toml:1: rescan_interval: "6 parsecs" has an unknown unit "parsecs"; use s, m, h or d, as in "30m" or "6h""#
        ),
        (
            #"rescan_interval = "-1h""#,
            #"test.toml:1: rescan_interval: "-1h" is negative; write "0" for off, or a duration such as "30m", "6h" or "1d", or an integer number of seconds"#
        ),
        (
            "rescan_interval = -5",
            #"test.toml:1: rescan_interval: -5 is negative; write "0" for off, or a duration such as "30m", "6h" or "1d", or an integer number of seconds"#
        ),
        (
            #"rescan_interval = "3600""#,
            #"test.toml:1: rescan_interval: "3600" has no unit; write "3600s", or the number without quotes, for seconds"#
        ),
        (
            "rescan_interval = true",
            #"test.toml:1: rescan_interval: expected a duration string such as "6h" or an integer number of seconds, found a boolean"#
        ),
    ])
    func invalidRescanIntervalIsRejected(text: String, message: String) {
        #expect(messages(text) == [message])
    }

    @Test func veryShortRescanIntervalIsWarned() throws {
        let config = try parsed("media_dirs = []\nrescan_interval = \"10s\"")
        #expect(config.rescanInterval == .seconds(10))
        #expect(config.warnings.contains { $0.key == "rescan_interval" && $0.line == 2 })
    }

    @Test func controlSocketPathTooLongForSockaddrIsRejected() {
        let path = "/run/" + String(repeating: "s", count: 103)  // 108 bytes
        #expect(
            messages(#"control_socket = "\#(path)""#) == [
                #"test.toml:1: control_socket: "\#(path)" is 108 bytes long; a Unix socket path can have at most 107"#
            ])
    }
}
