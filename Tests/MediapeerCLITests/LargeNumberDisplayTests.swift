import ControlWire
import Foundation
import Testing
import WireVocabulary

@testable import MediapeerCLI

/// mediapeerctl's numbers past 2^31 - 1 (a 32-bit `Int` on armhf), and durations formatted without C varargs.
@Suite struct LargeNumberDisplayTests {
    private static let threeGiB: Int64 = 3 << 30

    @Test func libraryShowOfA3GiBItemShowsItsSizeInUnitsAndExactBytes() {
        let item = MediaItem(
            id: 7, root: "/srv/media", path: "films/Big.mkv", kind: .video, mimeType: "video/x-matroska",
            size: Self.threeGiB, modified: 0, contentID: nil, metadataRead: true, metadata: MediaMetadata())
        let text = Library.Show.text(of: item)
        #expect(text.contains("size:        3.0 GiB (3,221,225,472 bytes)"))
    }

    @Test(arguments: [
        (Int64(0), "0"), (999, "999"), (1000, "1,000"), (2_147_483_648, "2,147,483,648"),
        (Int64.max, "9,223,372,036,854,775,807"), (-1_234_567, "-1,234,567"),
    ])
    func countsGroupThousandsOfAnyInt64(_ value: Int64, _ expected: String) {
        #expect(Format.count(value) == expected)
    }

    @Test(arguments: [
        (Int64(0), "0:00"), (187_000, "3:07"), (3_723_000, "1:02:03"), (36_005_000, "10:00:05"),
        (360_000_000_000, "100000:00:00"), (-5_000, "0:00"),
    ])
    func durationsPadMinutesAndSecondsToTwoDigits(_ milliseconds: Int64, _ expected: String) {
        #expect(Format.duration(milliseconds: milliseconds) == expected)
    }

    @Test func agesTakeInt64Seconds() {
        #expect(Format.age(seconds: 3_000_000_000) == "34722d 5h")
    }

    @Test(
        arguments: [
            (5 << 30, 10 << 30, 50), (threeGiB, threeGiB, 100), (1, 3, 33), (7, 0, 0), (7, -1, 0),
            (Int64.max / 2, Int64.max, 49), (Int64.max, 1, Int64.max), (-3, 4, -75), (Int64.min, 1, Int64.min),
        ] as [(Int64, Int64, Int64)])
    func percentagesOfLargeSizesNeverOverflow(_ part: Int64, _ whole: Int64, _ expected: Int64) {
        #expect(Format.percent(part, of: whole) == expected)
    }

    @Test(arguments: [
        (Double.nan, Int64(0)), (.infinity, .max), (-.infinity, .min), (1e30, .max), (-1e30, .min), (2.9, 2),
        (-2.9, -2), (0x1p62, 0x4000_0000_0000_0000),
    ])
    func wholeNumbersOfDoublesClampInsteadOfTrapping(_ value: Double, _ expected: Int64) {
        #expect(Format.wholeNumber(value) == expected)
    }

    @Test(arguments: [(0.5, 15), (-1.0, 0), (2.0, 30), (Double.nan, 0), (1e300, 30)])
    func progressBarsFillAtMostTheirWidth(_ fraction: Double, _ expected: Int) {
        #expect(Format.filledCells(fraction, width: 30) == expected)
    }
}
