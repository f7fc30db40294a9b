import MediapeerConfig
import Testing

@Suite("cache_max")
struct CacheLimitTests {
    @Test func integerIsBytes() throws {
        #expect(try parsed("cache_max = 10737418240").cacheMax == .bytes(10_737_418_240))
    }

    @Test(arguments: [("20%", 20), ("1%", 1), ("100%", 100), (" 50 % ", 50)])
    func percentageOfFilesystem(text: String, percent: Int) throws {
        #expect(try parsed(#"cache_max = "\#(text)""#).cacheMax == .percentOfFilesystem(percent))
    }

    @Test(
        arguments: [
            ("500MB", 500_000_000),
            ("1kB", 1_000),
            ("3 GB", 3_000_000_000),
            ("2TB", 2_000_000_000_000),
            ("2.5mb", 2_500_000),
            ("4096B", 4_096),
        ] as [(String, Int64)])
    func decimalUnitsArePowersOf1000(text: String, bytes: Int64) throws {
        #expect(try parsed(#"cache_max = "\#(text)""#).cacheMax == .bytes(bytes))
    }

    @Test(
        arguments: [
            ("2 GiB", 2 << 30),
            ("100k", 100 << 10),
            ("1.5G", 3 << 29),
            ("10M", 10 << 20),
            ("1KiB", 1 << 10),
            ("1TiB", 1 << 40),
            ("1T", 1 << 40),
        ] as [(String, Int64)])
    func binaryAndBareUnitsArePowersOf1024(text: String, bytes: Int64) throws {
        #expect(try parsed(#"cache_max = "\#(text)""#).cacheMax == .bytes(bytes))
    }

    @Test(arguments: [
        ("20", #""20" has no unit; write "20MB", "20GiB" or "20%", or, for bytes, an integer without quotes"#),
        ("0%", #""0%" is out of range; a percentage of the file system must be from 1% to 100%"#),
        ("101%", #""101%" is out of range; a percentage of the file system must be from 1% to 100%"#),
        ("12.5%", #""12.5%" is not a whole percentage; write a whole number from 1 to 100, such as "20%""#),
        (
            "-5MB",
            #""-5MB" is negative; the cache needs room, so write a size such as "500MB" or "2GiB", a percentage such as "20%", or an integer number of bytes"#
        ),
        (
            "12 parsecs",
            #""12 parsecs" has an unknown unit "parsecs"; use B, kB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB, K, M, G, T (powers of 1024)"#
        ),
        (
            "0MB",
            #""0MB" leaves no room for the cache; write a size such as "500MB" or "2GiB", a percentage such as "20%", or an integer number of bytes"#
        ),
        (
            "lots",
            #""lots" is not a size; write a size such as "500MB" or "2GiB", a percentage such as "20%", or an integer number of bytes"#
        ),
        ("99999999999TB", #""99999999999TB" is too large"#),
        (
            "",
            #"is empty; write a size such as "500MB" or "2GiB", a percentage such as "20%", or an integer number of bytes"#
        ),
    ])
    func badFormsAreRejected(text: String, message: String) {
        #expect(messages(#"cache_max = "\#(text)""#) == ["test.toml:1: cache_max: \(message)"])
    }

    @Test(arguments: ["cache_max = 0", "cache_max = -5"])
    func nonPositiveByteCountIsRejected(text: String) {
        #expect(problems(text).map(\.key) == ["cache_max"])
    }

    @Test func floatIsAWrongType() {
        #expect(
            messages("cache_max = 1.5") == [
                #"test.toml:1: cache_max: expected an integer or a string, found a floating-point number; write a fraction with a unit in quotes, such as "1.5GiB""#
            ])
    }

    @Test func resolvesAgainstFilesystemSize() {
        #expect(CacheLimit.percentOfFilesystem(20).resolved(filesystemSize: 1_000_000_000) == 200_000_000)
        #expect(CacheLimit.percentOfFilesystem(100).resolved(filesystemSize: 12_345) == 12_345)
        #expect(CacheLimit.percentOfFilesystem(50).resolved(filesystemSize: .max) == .max / 2)
        #expect(CacheLimit.bytes(500).resolved(filesystemSize: 1_000_000) == 500)
    }

    @Test(arguments: [
        (CacheLimit.percentOfFilesystem(20), "20%"),
        (.bytes(2 << 30), "2GiB"),
        (.bytes(500_000_000), "500MB"),
        (.bytes(3 << 29), "1536MiB"),
        (.bytes(1_234_567), "1234567B"),
    ])
    func descriptionIsACacheMaxString(limit: CacheLimit, text: String) {
        #expect(limit.description == text)
        #expect(CacheLimit(text) == limit)
    }
}
