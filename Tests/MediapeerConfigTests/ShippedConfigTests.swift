import Foundation
import MediapeerConfig
import Testing

/// packaging/mediapeer.toml is installed as /etc/mediapeer/mediapeer.toml,
/// so it must be valid and must tell the truth about the defaults.
@Suite("Shipped configuration")
struct ShippedConfigTests {
    let text: String

    init() throws {
        text = try String(contentsOfFile: shippedConfigPath(), encoding: .utf8)
    }

    @Test func shippedFileParses() throws {
        let config = try MediapeerConfiguration.parse(text, sourceName: "mediapeer.toml", checkFileSystem: false)
        #expect(config == MediapeerConfiguration())
    }

    @Test func shippedFileRenderedOutputRoundTrips() throws {
        let config = try MediapeerConfiguration.parse(text, sourceName: "mediapeer.toml", checkFileSystem: false)
        let rendered = config.rendered()
        #expect(try parsed(rendered) == config)
        #expect(try parsed(rendered).rendered() == rendered)
    }

    @Test func shippedFileMentionsEveryKey() {
        for key in [
            "name", "media_dirs", "state_dir", "cache_dir", "cache_max", "replication", "cache_high_watermark",
            "cache_low_watermark", "replication_daily_budget", "http_port", "control_socket", "log_level",
            "static_peers", "rescan_interval", "peer_catalog_max_objects",
            "peer_catalog_max_bytes", "forget_peers_after", "player_port", "dlna", "friendly_name", "player_command",
            "demand_half_life", "allowed_networks",
        ] {
            #expect(text.contains("\n#\(key) = "), "\(key) is not documented")
        }
    }

    @Test func shippedFileCommentedValuesAreTheDefaults() throws {
        // Uncomment every setting except the examples that are not defaults.
        let uncommented = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            let isSetting = line.hasPrefix("#") && line.dropFirst().first?.isLetter == true && line.contains(" = ")
            let isExample = ["#name", "#media_dirs", "#static_peers", "#friendly_name", "#player_command"].contains {
                line.hasPrefix($0)
            }
            return isSetting && !isExample ? String(line.dropFirst()) : String(line)
        }.joined(separator: "\n")
        #expect(uncommented != text)
        #expect(try parsed(uncommented) == MediapeerConfiguration())
    }

    @Test func shippedFileExamplesAreValid() throws {
        // Uncomment everything that looks like TOML, examples included.
        let uncommented = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            let body = line.dropFirst()
            let isToml =
                line.hasPrefix("#")
                && (body.first?.isLetter == true && body.contains(" = ")
                    || body.hasPrefix("    \"") || body == "]")
            return isToml ? String(body) : String(line)
        }.joined(separator: "\n")
        let config = try parsed(uncommented)
        #expect(config.name == "Living room")
        #expect(config.mediaDirs == ["/srv/media"])
        #expect(config.staticPeers.count == 3)
    }

    @Test func everyKeyRoundTripsThroughRendering() throws {
        let config = MediapeerConfiguration(
            name: #"Ana's "den" \ büro"#,
            mediaDirs: ["/srv/media", "/mnt/nas/photos"],
            stateDir: "/data/state",
            cacheDir: "/data/cache",
            cacheMax: .bytes(1_500_000_000),
            httpPort: 9000,
            playerPort: 9001,
            dlna: false,
            friendlyName: "Den \"TV\"",
            allowedNetworks: AllowedNetworks([IPNetwork("192.168.1.0/24")!, IPNetwork("fd00::/8")!]),
            playerCommand: ["mpv", "--fs"],
            controlSocket: "/run/mp/control.sock",
            logLevel: .critical,
            staticPeers: [PeerAddress(host: "nas.local", port: 8737), PeerAddress(host: "fe80::1%eth0", port: 1)],
            rescanInterval: .seconds(5400),
            peerCatalogMaxObjects: 500,
            peerCatalogMaxBytes: 1_000_000,
            forgetPeersAfter: nil)
        #expect(try parsed(config.rendered()) == config)
    }

    @Test func renderedOutputShowsEveryKey() throws {
        let rendered = MediapeerConfiguration(name: "box").rendered()
        #expect(
            rendered == """
                name = "box"
                media_dirs = []
                state_dir = "/var/lib/mediapeer"
                cache_dir = "/var/cache/mediapeer"
                cache_max = "20%"
                replication = "auto"
                cache_high_watermark = 0.9
                cache_low_watermark = 0.8
                replication_daily_budget = "20GB"
                http_port = 8737
                player_port = 8738
                dlna = true
                # friendly_name is not set: TVs show the name
                allowed_networks = [
                    "10.0.0.0/8",
                    "172.16.0.0/12",
                    "192.168.0.0/16",
                    "169.254.0.0/16",
                    "fc00::/7",
                    "fe80::/10",
                    "127.0.0.0/8",
                    "::1/128",
                ]
                # player_command is not set
                control_socket = "/run/mediapeer/control.sock"
                log_level = "info"
                static_peers = []
                rescan_interval = "0"
                peer_catalog_max_objects = 100000
                peer_catalog_max_bytes = "64MiB"
                forget_peers_after = "14d"
                demand_half_life = "7d"

                """)
    }
}
