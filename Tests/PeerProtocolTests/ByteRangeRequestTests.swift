import HTTPFiles
import Testing

@Suite struct ByteRangeRequestTests {
    @Test func noHeaderMeansTheWholeObject() {
        #expect(ByteRangeRequest(header: nil, size: 100) == .whole)
    }

    @Test func firstByteIsTheRangeZeroToZero() {
        #expect(ByteRangeRequest(header: "bytes=0-0", size: 100) == .partial(0...0))
    }

    @Test func lastByteByExplicitOffsets() {
        #expect(ByteRangeRequest(header: "bytes=99-99", size: 100) == .partial(99...99))
    }

    @Test func suffixRangeIsTheLastNBytesNotTheFirst() {
        // Hummingbird's own file middleware reads `-N` as the first N bytes; RFC 9110 says the last N.
        #expect(ByteRangeRequest(header: "bytes=-10", size: 100) == .partial(90...99))
        #expect(ByteRangeRequest(header: "bytes=-1", size: 100) == .partial(99...99))
    }

    @Test func suffixLongerThanTheObjectIsTheWholeObjectAsAPartialResponse() {
        #expect(ByteRangeRequest(header: "bytes=-500", size: 100) == .partial(0...99))
    }

    @Test func openEndedRangeRunsToTheLastByte() {
        #expect(ByteRangeRequest(header: "bytes=40-", size: 100) == .partial(40...99))
        #expect(ByteRangeRequest(header: "bytes=0-", size: 100) == .partial(0...99))
    }

    @Test func endPastTheObjectIsClampedToTheLastByte() {
        #expect(ByteRangeRequest(header: "bytes=50-1000", size: 100) == .partial(50...99))
    }

    @Test func startAtOrPastTheEndIsUnsatisfiable() {
        #expect(ByteRangeRequest(header: "bytes=100-", size: 100) == .unsatisfiable)
        #expect(ByteRangeRequest(header: "bytes=100-200", size: 100) == .unsatisfiable)
        #expect(ByteRangeRequest(header: "bytes=5000-", size: 100) == .unsatisfiable)
    }

    @Test func emptySuffixIsUnsatisfiable() {
        #expect(ByteRangeRequest(header: "bytes=-0", size: 100) == .unsatisfiable)
    }

    @Test func anyRangeOfAnEmptyObjectIsUnsatisfiable() {
        #expect(ByteRangeRequest(header: "bytes=0-0", size: 0) == .unsatisfiable)
        #expect(ByteRangeRequest(header: "bytes=-5", size: 0) == .unsatisfiable)
    }

    @Test(arguments: [
        "bytes=abc", "bytes=5-1", "bytes=", "bytes=1-2-3", "bytes 0-1", "bytes=-", "bytes=a-5", "bytes=5-b",
        "bytes=+1-2", "bytes=1-+2", "bytes=0x10-0x20", "bytes=1.5-2", "bytes=-1-", "bytes=\u{0663}-5",
        "bytes=" + String(repeating: "9", count: 20) + "-", "bytes=0-" + String(repeating: "1", count: 20),
        "bytes=-" + String(repeating: "1", count: 20), "bytes=" + String(repeating: "0", count: 400) + "1-2",
    ])
    func malformedRangesAreMalformed(_ header: String) {
        #expect(ByteRangeRequest(header: header, size: 100) == .malformed)
    }

    @Test func startBeyondInt64IsMalformedRatherThanTrapping() {
        // 19 digits passes the length check but does not fit an Int64.
        #expect(ByteRangeRequest(header: "bytes=9999999999999999999-", size: 100) == .malformed)
        #expect(ByteRangeRequest(header: "bytes=-9999999999999999999", size: 100) == .malformed)
    }

    @Test func largestInt64SuffixIsTheWholeObject() {
        #expect(ByteRangeRequest(header: "bytes=-9223372036854775807", size: 100) == .partial(0...99))
    }

    @Test func anotherRangeUnitIsIgnored() {
        #expect(ByteRangeRequest(header: "items=0-5", size: 100) == .whole)
        #expect(ByteRangeRequest(header: "none=", size: 100) == .whole)
    }

    @Test func theUnitIsCaseInsensitive() {
        #expect(ByteRangeRequest(header: "Bytes=0-4", size: 100) == .partial(0...4))
        #expect(ByteRangeRequest(header: "BYTES=0-4", size: 100) == .partial(0...4))
    }

    @Test func severalWellFormedRangesAreIgnoredInFavourOfTheWholeObject() {
        #expect(ByteRangeRequest(header: "bytes=0-1,5-9", size: 100) == .whole)
        #expect(ByteRangeRequest(header: "bytes=0-1, -5", size: 100) == .whole)
        // An unsatisfiable part is still well-formed.
        #expect(ByteRangeRequest(header: "bytes=0-1,500-", size: 100) == .whole)
    }

    @Test func severalRangesWithAMalformedPartAreMalformed() {
        #expect(ByteRangeRequest(header: "bytes=0-1,abc", size: 100) == .malformed)
        #expect(ByteRangeRequest(header: "bytes=0-1,9-5", size: 100) == .malformed)
    }

    @Test func aSingleRangeWithATrailingEmptyListElementIsThatRange() {
        #expect(ByteRangeRequest(header: "bytes=0-1,", size: 100) == .partial(0...1))
        #expect(ByteRangeRequest(header: "bytes=,", size: 100) == .malformed)
    }

    @Test func emptyListElementsAmongSeveralRangesAreTolerated() {
        // RFC 9110 §5.6.1.2: a recipient MUST accept empty list elements ("1#" lists), so this is a valid header
        // naming two ranges, which the server may ignore.
        #expect(ByteRangeRequest(header: "bytes=0-1, ,5-9", size: 100) == .whole)
        #expect(ByteRangeRequest(header: "bytes=0-1,,5-9", size: 100) == .whole)
    }

    @Test func whitespaceAroundTheHeaderAndTheRangeSetIsTolerated() {
        #expect(ByteRangeRequest(header: "  bytes=0-4\t", size: 100) == .partial(0...4))
        #expect(ByteRangeRequest(header: "bytes= 0-4 ", size: 100) == .partial(0...4))
        #expect(ByteRangeRequest(header: "bytes=0-1 ,\t5-9", size: 100) == .whole)
    }

    @Test func whitespaceInsideARangeSpecIsMalformed() {
        #expect(ByteRangeRequest(header: "bytes=0 - 4", size: 100) == .malformed)
    }

    @Test func offsetsBeyondFourGiBAreExact() {
        let size: Int64 = 10 << 30
        let start: Int64 = (4 << 30) + 17
        #expect(ByteRangeRequest(header: "bytes=\(start)-\(start + 99)", size: size) == .partial(start...(start + 99)))
        #expect(ByteRangeRequest(header: "bytes=-100", size: size) == .partial((size - 100)...(size - 1)))
        #expect(ByteRangeRequest(header: "bytes=\(start)-", size: size) == .partial(start...(size - 1)))
        #expect(ByteRangeRequest(header: "bytes=\(size)-", size: size) == .unsatisfiable)
    }
}

/// Ranges at the edges of 32-bit and 64-bit arithmetic: parsed into `Int64` with every overflow checked, so a
/// crafted header gets 416 or 400, never a trap.
@Suite struct ByteRangeBoundaryTests {
    static let fiveGiB: Int64 = 5 << 30

    @Test(arguments: [Int64(1) << 31 - 1, Int64(1) << 31, Int64(1) << 32, fiveGiB - 1])
    func aRangeAroundAnEdgeIsExact(edge: Int64) {
        #expect(
            ByteRangeRequest(header: "bytes=\(edge - 1)-\(edge + 1)", size: Self.fiveGiB)
                == .partial((edge - 1)...min(edge + 1, Self.fiveGiB - 1)))
    }

    @Test func theIssuesCraftedRangeBelow2GiBIsServable() {
        #expect(
            ByteRangeRequest(header: "bytes=2147000000-2147483646", size: Self.fiveGiB)
                == .partial(2_147_000_000...2_147_483_646))
    }

    @Test func aStartAtInt64MaxIsUnsatisfiable() {
        #expect(ByteRangeRequest(header: "bytes=9223372036854775807-", size: Self.fiveGiB) == .unsatisfiable)
        #expect(
            ByteRangeRequest(header: "bytes=9223372036854775807-9223372036854775807", size: Self.fiveGiB)
                == .unsatisfiable)
    }

    @Test func anEndAtInt64MaxIsClampedToTheObject() {
        #expect(
            ByteRangeRequest(header: "bytes=4294967296-9223372036854775807", size: Self.fiveGiB)
                == .partial((1 << 32)...(Self.fiveGiB - 1)))
    }

    @Test func aSuffixOfInt64MaxIsTheWholeObject() {
        #expect(
            ByteRangeRequest(header: "bytes=-9223372036854775807", size: Self.fiveGiB)
                == .partial(0...(Self.fiveGiB - 1)))
    }

    @Test func numbersPastInt64MaxAreMalformed() {
        #expect(ByteRangeRequest(header: "bytes=9223372036854775808-", size: Self.fiveGiB) == .malformed)
        #expect(ByteRangeRequest(header: "bytes=0-9223372036854775808", size: Self.fiveGiB) == .malformed)
        #expect(ByteRangeRequest(header: "bytes=-9223372036854775808", size: Self.fiveGiB) == .malformed)
    }

    @Test func anObjectOfInt64MaxBytesHasALastByte() {
        #expect(ByteRangeRequest(header: "bytes=-1", size: .max) == .partial((.max - 1)...(.max - 1)))
        #expect(ByteRangeRequest(header: "bytes=9223372036854775806-", size: .max) == .partial((.max - 1)...(.max - 1)))
    }
}
