import MediapeerConfig
import Testing

/// The keys of automatic replication: `replication`, the cache watermarks and `replication_daily_budget`.
@Suite("Replication keys")
struct ReplicationKeyTests {
    @Test func defaultsAreAutoNinetyAndEightyPercentAndTwentyGigabytesADay() throws {
        let config = try parsed("")
        #expect(config.replication == .auto)
        #expect(config.cacheHighWatermark == 0.9)
        #expect(config.cacheLowWatermark == 0.8)
        #expect(config.replicationDailyBudget == 20_000_000_000)
    }

    @Test func everyReplicationKeyIsParsed() throws {
        let config = try parsed(
            """
            replication = "off"
            cache_high_watermark = 0.95
            cache_low_watermark = "50%"
            replication_daily_budget = "2GiB"
            """)
        #expect(config.replication == .off)
        #expect(config.cacheHighWatermark == 0.95)
        #expect(config.cacheLowWatermark == 0.5)
        #expect(config.replicationDailyBudget == 2 << 30)
    }

    @Test func aHighWatermarkOfOneIsTheWholeQuota() throws {
        #expect(try parsed("cache_high_watermark = 1").cacheHighWatermark == 1)
    }

    @Test func renderedReplicationKeysParseBackToTheSameValues() throws {
        let config = try parsed(
            """
            replication = "off"
            cache_high_watermark = 0.85
            cache_low_watermark = 0.6
            replication_daily_budget = 5000000000
            """)
        let rendered = config.rendered()
        #expect(rendered.contains("replication = \"off\"\n"))
        #expect(rendered.contains("cache_high_watermark = 0.85\n"))
        #expect(rendered.contains("replication_daily_budget = \"5GB\"\n"))
        #expect(try parsed(rendered) == config)
    }

    @Test(
        arguments: [
            (
                #"replication = "on""#,
                #"test.toml:1: replication: "on" is not a replication mode; use "auto" or "off""#
            ),
            (
                "replication = true",
                #"test.toml:1: replication: expected "auto" or "off", found a boolean; write "auto", a string"#
            ),
            (
                "cache_high_watermark = 1.5",
                "test.toml:1: cache_high_watermark: 1.5 is out of range; a share of cache_max is above 0 and at most 1"
            ),
            (
                "cache_low_watermark = 0",
                "test.toml:1: cache_low_watermark: 0 is out of range; a share of cache_max is above 0 and at most 1"
            ),
            (
                #"cache_low_watermark = "eighty""#,
                #"test.toml:1: cache_low_watermark: "eighty" is not a share; write a share of cache_max such as 0.9, or a percentage such as "90%""#
            ),
            (
                "replication_daily_budget = 0",
                #"test.toml:1: replication_daily_budget: 0 bytes leaves no room for replication; write a size such as "64MiB" or "500MB", or an integer number of bytes"#
            ),
            (
                #"replication_daily_budget = "10%""#,
                #"test.toml:1: replication_daily_budget: "10%" is a percentage, which means nothing here; write a size such as "64MiB" or "500MB", or an integer number of bytes"#
            ),
        ] as [(String, String)])
    func badReplicationValuesAreExplained(text: String, message: String) {
        #expect(messages(text) == [message])
    }

    @Test func aLowWatermarkNotBelowTheHighOneIsAnError() {
        #expect(
            messages("cache_high_watermark = 0.8\ncache_low_watermark = 0.8")
                == [
                    "test.toml:2: cache_low_watermark: cache_low_watermark (0.8) must be below cache_high_watermark "
                        + "(0.8): eviction starts above the high one and stops at the low one"
                ])
    }

    @Test func aHighWatermarkBelowTheDefaultLowOneNamesTheDefault() {
        #expect(
            messages("cache_high_watermark = 0.7")
                == [
                    "test.toml:1: cache_high_watermark: cache_low_watermark (0.8, the default) must be below "
                        + "cache_high_watermark (0.7): eviction starts above the high one and stops at the low one"
                ])
    }
}
