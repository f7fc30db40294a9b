import Foundation
import Testing

@testable import MediapeerConfig

/// Integers past 2^31 - 1 in the configuration file, read as `Int64` on every architecture (TOMLKit's `int` traps
/// on a 32-bit box), and converted to narrower types only with a check naming the key and its range.
@Suite struct LargeIntegerTests {
    /// packaging/mediapeer.toml: "an integer number of bytes, without quotes: 10737418240".
    @Test func theDocumentedCacheMaxExampleOfTheShippedFileLoads() throws {
        let shipped = try String(contentsOfFile: shippedConfigPath(), encoding: .utf8)
        let example = try #require(
            shipped.split(separator: "\n").first { $0.contains("integer number of bytes, without quotes:") })
        let bytes = String(try #require(example.split(separator: " ").last))
        #expect(bytes == "10737418240")
        #expect(try parsed("cache_max = \(bytes)").cacheMax == .bytes(10_737_418_240))
    }

    @Test(arguments: [
        "10737418240", "10_737_418_240", "+10737418240", "0x280000000", "0o120000000000",
        "0b1010000000000000000000000000000000", "10737418240  # ten GiB",
    ])
    func cacheMaxPast32BitsLoadsInEveryIntegerForm(_ literal: String) throws {
        #expect(try parsed("cache_max = \(literal)").cacheMax == .bytes(10_737_418_240))
    }

    @Test func byteSizesUpToInt64MaxLoad() throws {
        let config = try parsed("replication_daily_budget = 9223372036854775807\npeer_catalog_max_bytes = 4294967296")
        #expect(config.replicationDailyBudget == .max)
        #expect(config.peerCatalogMaxBytes == 4_294_967_296)
    }

    @Test(arguments: [
        ("http_port", "4294967296"), ("http_port", "2147483648"), ("player_port", "4294967297"),
        ("http_port", "-9223372036854775808"),
    ])
    func aPortPast32BitsIsAnErrorNamingTheKeyAndRange(_ key: String, _ value: String) {
        #expect(
            messages("\(key) = \(value)") == [
                "test.toml:1: \(key): \(value) is out of range; use a port from 1 to 65535"
            ])
    }

    @Test func aNegativeCacheMaxOfAnyWidthIsAnError() {
        #expect(
            messages("cache_max = -10737418240").first?.hasPrefix(
                "test.toml:1: cache_max: -10737418240 bytes leaves no room for the cache") == true)
    }

    @Test func aRescanIntervalOfAYearLoads() throws {
        #expect(try parsed("rescan_interval = 31536000").rescanInterval == .seconds(31_536_000))
        #expect(try parsed(#"rescan_interval = "365d""#).rescanInterval == .seconds(31_536_000))
    }

    @Test(arguments: [
        ("31536001", "31536001s"), (#""366d""#, "366d"), (#""24856d""#, "24856d"), ("2147483648", "2147483648s"),
        ("9223372036854775807", "9223372036854775807s"),
    ])
    func aRescanIntervalLongerThanAYearIsAnError(_ value: String, _ rendered: String) {
        #expect(
            messages("rescan_interval = \(value)") == [
                #"test.toml:1: rescan_interval: must be at most 365d (a year), or "0" for never; "#
                    + "\(rendered) is longer"
            ])
    }

    @Test func secondsPast32BitsInOtherDurationsLoad() throws {
        #expect(try parsed("forget_peers_after = 4294967296").forgetPeersAfter == .seconds(4_294_967_296))
    }

    // MARK: Reading integer literals

    @Test(arguments: [
        ("0", Int64(0)), ("+0", 0), ("-0", 0), ("42", 42), ("1_000", 1_000), ("-17", -17),
        ("9223372036854775807", .max), ("-9223372036854775808", .min), ("0xDEAD_beef", 0xDEAD_BEEF),
        ("0o755", 0o755), ("0b1101", 0b1101), ("0x7fffffffffffffff", .max),
    ])
    func integerLiteralsReadAsInt64(_ literal: String, _ expected: Int64) {
        #expect(ConfigInteger.parse(literal) == expected)
    }

    @Test(arguments: ["", "0x", "0x-1", "0x+1", "1e3", "1.5", "true", "9223372036854775808", "0xg", "--1"])
    func textsThatAreNotIntegersReadAsNil(_ literal: String) {
        #expect(ConfigInteger.parse(literal) == nil)
    }

    @Test func theSourceMapKeepsBareValuesAsWrittenAndNotStringsOrArrays() {
        let map = SourceMap(
            scanning: """
                cache_max = 10_737_418_240 # ten GiB
                "http_port" = 0x1F90
                name = "4294967296"
                media_dirs = [1, 2]
                dlna = true
                [table]
                inner = 7
                """)
        #expect(map.bareValue(of: "cache_max") == "10_737_418_240")
        #expect(map.bareValue(of: "http_port") == "0x1F90")
        #expect(map.bareValue(of: "name") == nil)
        #expect(map.bareValue(of: "media_dirs") == nil)
        #expect(map.bareValue(of: "dlna") == "true")
        #expect(map.bareValue(of: "inner") == nil)
    }
}
