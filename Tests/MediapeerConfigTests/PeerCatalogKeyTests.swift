import MediapeerConfig
import Testing

/// The keys that bound what neighbours can make this box store: `peer_catalog_max_objects`,
/// `peer_catalog_max_bytes` and `forget_peers_after`.
@Suite("Peer catalog keys")
struct PeerCatalogKeyTests {
    @Test func defaultsAreAHundredThousandObjects64MiBAndFourteenDays() throws {
        let config = try parsed("")
        #expect(config.peerCatalogMaxObjects == 100_000)
        #expect(config.peerCatalogMaxBytes == 64 << 20)
        #expect(config.forgetPeersAfter == .seconds(14 * 86_400))
    }

    @Test func everyPeerCatalogKeyIsParsed() throws {
        let config = try parsed(
            """
            media_dirs = []
            peer_catalog_max_objects = 5000
            peer_catalog_max_bytes = "8MiB"
            forget_peers_after = "2d"
            """)
        #expect(config.peerCatalogMaxObjects == 5000)
        #expect(config.peerCatalogMaxBytes == 8 << 20)
        #expect(config.forgetPeersAfter == .seconds(2 * 86_400))
        #expect(!config.warnings.contains { $0.key?.hasPrefix("peer_") == true || $0.key == "forget_peers_after" })
    }

    @Test(
        arguments: [
            ("peer_catalog_max_bytes = 1000000", Int64(1_000_000)),
            (#"peer_catalog_max_bytes = "500kB""#, 500_000),
            (#"peer_catalog_max_bytes = "1.5 MiB""#, 1_572_864),
        ] as [(String, Int64)])
    func peerCatalogMaxBytesForms(text: String, bytes: Int64) throws {
        #expect(try parsed(text).peerCatalogMaxBytes == bytes)
    }

    @Test(
        arguments: [
            (#"forget_peers_after = "0""#, nil),
            (#"forget_peers_after = "36h""#, Duration.seconds(36 * 3600)),
            ("forget_peers_after = 86400", Duration.seconds(86400)),
        ] as [(String, Duration?)])
    func forgetPeersAfterForms(text: String, interval: Duration?) throws {
        #expect(try parsed(text).forgetPeersAfter == interval)
    }

    @Test(arguments: [
        (
            "peer_catalog_max_objects = 0",
            "test.toml:1: peer_catalog_max_objects: 0 is too small; a neighbour's catalog needs room for at least 1 object"
        ),
        (
            #"peer_catalog_max_objects = "100""#,
            "test.toml:1: peer_catalog_max_objects: expected an integer, found a string; write 100 without quotes"
        ),
        (
            "peer_catalog_max_bytes = 0",
            #"test.toml:1: peer_catalog_max_bytes: 0 bytes leaves no room for a neighbour's catalog; write a size such as "64MiB" or "500MB", or an integer number of bytes"#
        ),
        (
            #"peer_catalog_max_bytes = "10%""#,
            #"test.toml:1: peer_catalog_max_bytes: "10%" is a percentage, which means nothing here; write a size such as "64MiB" or "500MB", or an integer number of bytes"#
        ),
        (
            #"peer_catalog_max_bytes = "64""#,
            #"test.toml:1: peer_catalog_max_bytes: "64" has no unit; write "64MB" or "64MiB", or, for bytes, an integer without quotes"#
        ),
        (
            #"peer_catalog_max_bytes = "-1MiB""#,
            #"test.toml:1: peer_catalog_max_bytes: "-1MiB" is negative; write a size such as "64MiB" or "500MB", or an integer number of bytes"#
        ),
        (
            #"forget_peers_after = "2 weeks""#,
            #"test.toml:1: forget_peers_after: "2 weeks" has an unknown unit "weeks"; use s, m, h or d, as in "30m" or "6h""#
        ),
        (
            "forget_peers_after = true",
            #"test.toml:1: forget_peers_after: expected a duration string such as "14d" or an integer number of seconds, found a boolean"#
        ),
    ])
    func invalidPeerCatalogKeyIsRejected(text: String, message: String) {
        #expect(messages(text) == [message])
    }

    @Test func forgettingSoonerThanTheHourlyCheckIsWarned() throws {
        let config = try parsed("media_dirs = []\nforget_peers_after = \"10m\"")
        #expect(config.forgetPeersAfter == .seconds(600))
        #expect(config.warnings.contains { $0.key == "forget_peers_after" && $0.line == 2 })
    }
}
