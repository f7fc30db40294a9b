import Foundation
import Testing
import WireVocabulary

@testable import MediaProbe

/// Hostile and broken files: never a trap, never more I/O than the reader's budget, nothing invented.
///
/// How fast the readers are belongs to the fuzzer and the benchmarks; here a hang is caught by the time limit and
/// the work a file can cause is checked by what it makes the readers read.
@Suite(.timeLimit(.minutes(1)))
struct MalformedInputTests {
    /// Runs the pure readers over `bytes`, returning what they found and how many bytes they read.
    @discardableResult
    private func probe(_ bytes: [UInt8]) -> (MediaMetadata, bytesRead: Int) {
        let source = CountingSource(bytes: bytes)
        let metadata = ContainerProbe.read(BoundedReader(source: source)).metadata
        return (metadata, source.bytesRead)
    }

    /// What a probe of `bytes` may read: a few passes over the file at most (a reader that walks in circles
    /// reads far more), and never more than the reader's budget.
    private static func fewPasses(over bytes: [UInt8]) -> Int {
        min(BoundedReader.defaultBudget, 4 * bytes.count + BoundedReader.firstWindow)
    }

    static let containers: [Fixture] = [
        .mp4, .mp4FastStart, .mkv, .webm, .avi, .wmv, .mpegTS, .mpegPS, .jpeg, .png, .gif, .bmp, .tiff, .webp,
        .webpLossless,
    ]

    @Test(arguments: containers)
    func truncatedFilesAtManyCutPointsNeitherCrashNorHang(fixture: Fixture) throws {
        let bytes = try withTemporaryDirectory { dir in try readBytes(fixture.make(in: dir)) }
        var cuts = Set((0..<64).map { $0 * bytes.count / 64 })
        cuts.formUnion(0..<min(bytes.count, 200))
        for cut in cuts.sorted() {
            let truncated = Array(bytes[..<cut])
            #expect(probe(truncated).bytesRead <= Self.fewPasses(over: truncated))
        }
    }

    @Test(arguments: containers)
    func randomBytesAfterARealHeaderNeitherCrashNorHang(fixture: Fixture) throws {
        let bytes = try withTemporaryDirectory { dir in try readBytes(fixture.make(in: dir)) }
        // A stable seed per fixture (String.hashValue differs from run to run).
        let seed = fixture.rawValue.utf8.reduce(UInt64(0)) { $0 &* 31 &+ UInt64($1) }
        var generator = SeededGenerator.forTest("randomBytesAfterARealHeader(\(fixture.rawValue))", seed: seed)
        for prefixLength in [4, 12, 16, 32, 64, 200] where prefixLength < bytes.count {
            let tail = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let file = Array(bytes[..<prefixLength]) + tail
            #expect(probe(file).bytesRead <= Self.fewPasses(over: file))
        }
    }

    @Test func randomlyCorruptedRealFilesNeitherCrashNorHang() throws {
        let originals = try withTemporaryDirectory { dir in
            try [Fixture.mp4FastStart, .mkv, .avi, .wmv, .jpeg, .png, .webp].map { try readBytes($0.make(in: dir)) }
        }
        var generator = SeededGenerator.forTest("randomlyCorruptedRealFiles", seed: 42)
        for original in originals {
            for _ in 0..<200 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...16, using: &generator) {
                    // Keep the signature so the interesting reader runs.
                    let index = Int.random(in: min(16, bytes.count - 1)..<bytes.count, using: &generator)
                    bytes[index] = UInt8.random(in: 0...255, using: &generator)
                }
                #expect(probe(bytes).bytesRead <= Self.fewPasses(over: bytes))
            }
        }
    }

    @Test func boxSizesPointingPastTheEndOfFileAreClamped() {
        var moov = box("moov", mvhd(timescale: 1000, duration: 4000))
        moov.replaceSubrange(0..<4, with: be32(0x7FFF_FFFF))
        let file = box("ftyp", Array("isom".utf8) + be32(0)) + moov
        #expect(probe(file).0.durationMilliseconds == 4000)
        // An mdat claiming terabytes before the moov: the moov is simply not found.
        let lying =
            box("ftyp", Array("isom".utf8) + be32(0)) + be32(1) + Array("mdat".utf8) + be64(1 << 40)
            + box("moov", mvhd(timescale: 1000, duration: 4000))
        #expect(probe(lying).0 == MediaMetadata())
    }

    @Test func sizesThatOverflowSixtyFourBitOffsetsAreRejected() {
        let file =
            box("ftyp", Array("isom".utf8) + be32(0)) + be32(1) + Array("free".utf8) + be64(UInt64(Int64.max))
            + box("moov", mvhd(timescale: 1, duration: 1))
        let (metadata, bytesRead) = probe(file)
        #expect(metadata == MediaMetadata())
        #expect(bytesRead <= Self.fewPasses(over: file))
    }

    @Test func boxesTooSmallToHoldTheirHeaderStopTheWalk() {
        // Sizes 0 (inside a container: to its end) and 1..7 (impossible) must not loop.
        for size: UInt32 in 0...7 {
            let bad = be32(size) + Array("trak".utf8) + [UInt8](repeating: 0, count: 32)
            let file =
                box("ftyp", Array("isom".utf8) + be32(0)) + box("moov", bad + mvhd(timescale: 1000, duration: 1000))
            #expect(probe(file).bytesRead <= Self.fewPasses(over: file))
        }
    }

    @Test func millionsOfTinyBoxesAreCutOffByTheChildLimit() {
        let tiny = box("free", [])
        let file =
            box("ftyp", Array("isom".utf8) + be32(0))
            + box(
                "moov",
                Array([[UInt8]](repeating: tiny, count: 200_000).joined()) + mvhd(timescale: 1000, duration: 1000))
        let (metadata, bytesRead) = probe(file)
        #expect(metadata.durationMilliseconds == nil)
        #expect(bytesRead <= Self.fewPasses(over: file))
    }

    @Test func deeplyNestedBoxesAreNotFollowedBeyondTheKnownPath() {
        var nested = mvhd(timescale: 1000, duration: 1000)
        for _ in 0..<10_000 { nested = box("trak", nested) }
        let file = box("ftyp", Array("isom".utf8) + be32(0)) + box("moov", nested)
        #expect(probe(file).bytesRead <= Self.fewPasses(over: file))
    }

    @Test func hugeEBMLSizesDoNotAllocateOrHang() {
        let header = ebml(0x1A45_DFA3, ebmlString(0x4282, "webm"))
        // Info and Tracks claiming 2^56-2 bytes, in a segment of unknown size.
        let huge: [UInt8] = [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE]
        let file =
            header + [0x18, 0x53, 0x80, 0x67, 0xFF] + [0x15, 0x49, 0xA9, 0x66] + huge + [0x16, 0x54, 0xAE, 0x6B] + huge
        let (metadata, bytesRead) = probe(file)
        #expect(metadata.durationMilliseconds == nil)
        #expect(bytesRead <= Self.fewPasses(over: file))
    }

    @Test func deeplyNestedEBMLIsNotFollowed() {
        var nested = ebmlUInt(0xB0, 640)
        for _ in 0..<5_000 { nested = ebml(0xE0, nested) }
        let file = ebml(0x1A45_DFA3, []) + ebml(0x1853_8067, ebml(0x1654_AE6B, ebml(0xAE, ebmlUInt(0x83, 1) + nested)))
        let (metadata, bytesRead) = probe(file)
        #expect(metadata.width == nil)
        #expect(bytesRead <= Self.fewPasses(over: file))
    }

    @Test func nonFiniteMatroskaDurationsAreNil() {
        for duration in [Double.nan, .infinity, -1, 1e300] {
            let file = ebml(0x1A45_DFA3, []) + ebml(0x1853_8067, ebml(0x1549_A966, ebmlFloat(0x4489, duration)))
            #expect(probe(file).0.durationMilliseconds == nil)
        }
    }

    @Test func seekHeadLoopsTerminate() {
        // A SeekHead that points at itself, over and over.
        let entry = ebml(0x4DBB, ebml(0x53AB, [0x11, 0x4D, 0x9B, 0x74]) + ebml(0x53AC, be64(0)))
        let seekHead = ebml(0x114D_9B74, Array([[UInt8]](repeating: entry, count: 100).joined()))
        let file = ebml(0x1A45_DFA3, []) + ebml(0x1853_8067, seekHead + ebml(0x1F43_B675, []))
        #expect(probe(file).bytesRead <= Self.fewPasses(over: file))
    }

    @Test func readsStopAtTheByteBudget() {
        // Boxes hopping 1 MiB at a time: each hop is a fresh read.
        var file = box("ftyp", Array("isom".utf8) + be32(0))
        for _ in 0..<40 { file += box("free", [UInt8](repeating: 0, count: 1 << 20)) }
        file += box("moov", mvhd(timescale: 1000, duration: 1000))
        let source = CountingSource(bytes: file)
        let reader = BoundedReader(source: source, budget: 1 << 20)
        _ = MP4Reader(reader: reader).read()
        #expect(source.bytesRead <= 1 << 20)
    }

    @Test func jpegMarkerSoupTerminates() {
        // Endless fill bytes, then segments of length 2.
        let soup: [UInt8] =
            [0xFF, 0xD8] + [UInt8](repeating: 0xFF, count: 100_000)
            + Array([[UInt8]](repeating: [0xFF, 0xFE, 0x00, 0x02], count: 10_000).joined())
        let (metadata, bytesRead) = probe(soup)
        #expect(metadata.width == nil)
        #expect(bytesRead <= Self.fewPasses(over: soup))
    }

    @Test func metadataOfAMissingFileIsEmpty() {
        #expect(
            MediaProbe.metadata(
                path: "/nonexistent/movie.mp4", sniffed: SniffResult(kind: .video, mimeType: "video/mp4"))
                == MediaMetadata())
    }

    @Test func corruptExifIsIgnored() {
        var metadata = MediaMetadata()
        var generator = SeededGenerator.forTest("corruptExifIsIgnored", seed: 3)
        for _ in 0..<500 {
            let block =
                ImageReader.exifHeader + Array("II".utf8) + [42, 0, 8, 0, 0, 0]
                + (0..<Int.random(in: 0..<600, using: &generator)).map { _ in
                    UInt8.random(in: 0...255, using: &generator)
                }
            ExifReader.read(block, into: &metadata)
        }
        // Anything may be read from random bytes; the point is surviving them.
        #expect(metadata.orientation.map { (1...8).contains($0) } ?? true)
    }
}

/// A byte source that counts what is read from it.
final class CountingSource: ByteSource, @unchecked Sendable {
    private let inner: MemoryByteSource
    private(set) var bytesRead = 0

    init(bytes: [UInt8]) {
        inner = MemoryByteSource(bytes)
    }

    var size: Int64 { inner.size }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int? {
        let n = inner.read(into: buffer, at: offset)
        bytesRead += n ?? 0
        return n
    }
}
