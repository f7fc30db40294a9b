import Foundation
import Testing
import WireVocabulary

@testable import MediaProbe

/// Videos: the pure-Swift container readers, over real ffmpeg output and hand-built edge cases.
struct VideoMetadataTests {
    private func probe(_ path: String) throws -> MediaMetadata {
        let sniffed = try #require(try MediaSniffer.sniff(path: path))
        return MediaProbe.metadata(path: path, sniffed: sniffed)
    }

    private func read(_ bytes: [UInt8]) -> MediaMetadata {
        ContainerProbe.read(BoundedReader(bytes: bytes)).metadata
    }

    static let expectations: [(Fixture, String, String)] = [
        (.mp4, "h264", "aac"), (.mp4FastStart, "h264", "aac"), (.mov, "h264", "aac"), (.mkv, "h264", "aac"),
        (.webm, "vp9", "opus"), (.avi, "mpeg4", "mp3"), (.wmv, "wmv2", "wmav2"),
    ]

    @Test(arguments: expectations)
    func containerGivesDurationSizeAndCodecs(fixture: Fixture, videoCodec: String, audioCodec: String) throws {
        let metadata = try withTemporaryDirectory { dir in try probe(fixture.make(in: dir)) }
        let duration = try #require(metadata.durationMilliseconds)
        // 2 s of video; containers round up to the last audio frame or packet.
        #expect((1950...2100).contains(duration))
        #expect(metadata.width == 320)
        #expect(metadata.height == 240)
        #expect(metadata.videoCodec == videoCodec)
        #expect(metadata.audioCodec == audioCodec)
    }

    @Test(arguments: [(Fixture.mp4, "Test Movie"), (.mkv, "Matroska Movie"), (.wmv, "Windows Movie")])
    func containerTitleIsRead(fixture: Fixture, title: String) throws {
        let metadata = try withTemporaryDirectory { dir in try probe(fixture.make(in: dir)) }
        #expect(metadata.title == title)
    }

    @Test func moovAfterMdatIsFoundWithoutReadingTheMediaData() throws {
        let (metadata, bytesRead) = try withTemporaryDirectory { dir in
            let path = dir + "/long.mp4"
            // 20 s of noise: an mdat far bigger than the header reads.
            try FFmpeg.run([
                "-f", "lavfi", "-i", "nullsrc=size=320x240:rate=25,geq=random(1)*255:128:128", "-t", "20",
                "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", path,
            ])
            let file = try FileByteSource(path: path, measure: true)
            let reader = BoundedReader(source: file)
            let metadata = MP4Reader(reader: reader).read()
            return (metadata, BoundedReader.defaultBudget - reader.budget)
        }
        #expect(metadata.durationMilliseconds == 20000)
        #expect(metadata.videoCodec == "h264")
        #expect(bytesRead < 200 << 10)
    }

    @Test func mp4BeyondFourGiBIsReadThroughSixtyFourBitSizesAndOffsets() throws {
        // A sparse 5 GiB file: ftyp, a 64-bit-sized mdat of holes, then moov.
        let mdatSize: UInt64 = 5 << 30
        let ftyp = box("ftyp", Array("isom".utf8) + be32(512) + Array("isomiso2".utf8))
        let moov = box("moov", mvhd(timescale: 1000, duration: 7_200_000))
        let metadata = try withTemporaryDirectory { dir in
            let path = dir + "/huge.mp4"
            try writeBytes(ftyp + be32(1) + Array("mdat".utf8) + be64(mdatSize), to: path)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.seek(toOffset: UInt64(ftyp.count) + mdatSize)
            try handle.write(contentsOf: Data(moov))
            try handle.close()
            return try probe(path)
        }
        #expect(metadata.durationMilliseconds == 7_200_000)
    }

    @Test func largeSizeBoxesAreWalked() {
        let file = box("ftyp", Array("isom".utf8) + be32(0)) + largeBox("moov", mvhd(timescale: 600, duration: 1800))
        #expect(read(file).durationMilliseconds == 3000)
    }

    @Test func boxOfSizeZeroRunsToTheEndOfTheFile() {
        let moovPayload = mvhd(timescale: 90000, duration: 450_000)
        let file = box("ftyp", Array("isom".utf8) + be32(0)) + be32(0) + Array("moov".utf8) + moovPayload
        #expect(read(file).durationMilliseconds == 5000)
    }

    @Test func version1MovieHeaderHas64BitDuration() {
        let v1 = fullBox(
            "mvhd", version: 1, be64(0) + be64(0) + be32(1000) + be64(10_000_000_000) + [UInt8](repeating: 0, count: 80)
        )
        let file = box("ftyp", Array("isom".utf8) + be32(0)) + box("moov", v1)
        #expect(read(file).durationMilliseconds == 10_000_000_000)
    }

    @Test func unknownMovieDurationIsNil() {
        let file = box("ftyp", Array("isom".utf8) + be32(0)) + box("moov", mvhd(timescale: 1000, duration: .max))
        #expect(read(file).durationMilliseconds == nil)
    }

    @Test func fragmentedMovieDurationComesFromTheMovieExtendsHeader() {
        let mehd = fullBox("mehd", be32(12_345))
        let file =
            box("ftyp", Array("iso5".utf8) + be32(0))
            + box("moov", mvhd(timescale: 1000, duration: 0) + box("mvex", mehd))
        #expect(read(file).durationMilliseconds == 12_345)
    }

    @Test func mp4aCarryingMP3IsReportedAsMP3() throws {
        let metadata = try withTemporaryDirectory { dir in
            let path = dir + "/mp3audio.mp4"
            try FFmpeg.run(Fixture.video + ["-c:v", "libx264", "-c:a", "libmp3lame", path])
            return try probe(path)
        }
        #expect(metadata.audioCodec == "mp3")
    }

    @Test func hevcInMP4IsNamed() throws {
        let metadata = try withTemporaryDirectory { dir in
            let path = dir + "/hevc.mp4"
            try FFmpeg.run([
                "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "1", "-c:v", "libx265",
                "-x265-params", "log-level=error", "-tag:v", "hvc1", path,
            ])
            return try probe(path)
        }
        #expect(metadata.videoCodec == "hevc")
        #expect(metadata.width == 320)
    }

    // MARK: Matroska

    private enum MKV {
        static let ebmlHeader = ebml(0x1A45_DFA3, ebmlString(0x4282, "matroska"))
        static func info(duration: Double, scale: UInt64 = 1_000_000, title: String? = nil) -> [UInt8] {
            ebml(
                0x1549_A966,
                ebmlUInt(0x2AD7B1, scale) + ebmlFloat(0x4489, duration) + (title.map { ebmlString(0x7BA9, $0) } ?? []))
        }
        static let tracks = ebml(
            0x1654_AE6B,
            ebml(
                0xAE,
                ebmlUInt(0xD7, 1) + ebmlUInt(0x83, 1) + ebmlString(0x86, "V_MPEGH/ISO/HEVC")
                    + ebml(0xE0, ebmlUInt(0xB0, 3840) + ebmlUInt(0xBA, 2160)))
                + ebml(0xAE, ebmlUInt(0xD7, 2) + ebmlUInt(0x83, 2) + ebmlString(0x86, "A_EAC3")))
        static let cluster = ebml(0x1F43_B675, ebmlUInt(0xE7, 0) + ebml(0xA3, [UInt8](repeating: 0x55, count: 4000)))
    }

    @Test func matroskaSeekHeadIsFollowedToInfoAndTracksAfterTheClusters() {
        let info = MKV.info(duration: 90_000, title: "Trailing Info")
        // SeekHead with two entries of fixed size; positions are relative to the Segment payload.
        func seekHead(infoAt: UInt64, tracksAt: UInt64) -> [UInt8] {
            ebml(
                0x114D_9B74,
                ebml(0x4DBB, ebml(0x53AB, [0x15, 0x49, 0xA9, 0x66]) + ebml(0x53AC, be64(infoAt)))
                    + ebml(0x4DBB, ebml(0x53AB, [0x16, 0x54, 0xAE, 0x6B]) + ebml(0x53AC, be64(tracksAt))))
        }
        let headLength = UInt64(seekHead(infoAt: 0, tracksAt: 0).count)
        let infoAt = headLength + UInt64(MKV.cluster.count)
        let segmentPayload =
            seekHead(infoAt: infoAt, tracksAt: infoAt + UInt64(info.count)) + MKV.cluster + info + MKV.tracks
        let metadata = read(MKV.ebmlHeader + ebml(0x1853_8067, segmentPayload))
        #expect(metadata.durationMilliseconds == 90_000)
        #expect(metadata.title == "Trailing Info")
        #expect(metadata.videoCodec == "hevc")
        #expect(metadata.audioCodec == "eac3")
        #expect(metadata.width == 3840)
        #expect(metadata.height == 2160)
    }

    @Test func matroskaUnknownSizeSegmentIsRead() {
        let file =
            MKV.ebmlHeader
            + ebmlUnknownSize(0x1853_8067, MKV.info(duration: 1500) + MKV.tracks + ebmlUnknownSize(0x1F43_B675, []))
        let metadata = read(file)
        #expect(metadata.durationMilliseconds == 1500)
        #expect(metadata.videoCodec == "hevc")
    }

    @Test func matroskaDurationHonoursTimecodeScaleAndFloat32() {
        let info = ebml(0x1549_A966, ebmlUInt(0x2AD7B1, 100_000) + ebml(0x4489, be32(Float(25_000).bitPattern)))
        let metadata = read(MKV.ebmlHeader + ebml(0x1853_8067, info))
        #expect(metadata.durationMilliseconds == 2500)
    }

    @Test func matroskaLiveStreamWithoutDurationHasNilDuration() throws {
        let metadata = try withTemporaryDirectory { dir in
            let path = dir + "/live.webm"
            try FFmpeg.run(
                Fixture.video + ["-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libopus", "-live", "1", path])
            return try probe(path)
        }
        #expect(metadata.durationMilliseconds == nil)
        #expect(metadata.videoCodec == "vp8")
        #expect(metadata.width == 320)
    }

    @Test func transportStreamGivesCodecsFromItsProgramMapAndDurationFromTimestamps() throws {
        let metadata = try withTemporaryDirectory { dir in try probe(Fixture.mpegTS.make(in: dir)) }
        #expect(metadata.videoCodec == "h264")
        #expect(metadata.audioCodec == "aac")
        // First to last frame's presentation time: one frame short of 2 s.
        #expect(metadata.durationMilliseconds.map { (1900...2100).contains($0) } == true)
    }

    @Test func m2tsWithTimestampedPacketsIsRead() throws {
        let metadata = try withTemporaryDirectory { dir in
            let path = dir + "/bluray.m2ts"
            try FFmpeg.run(Fixture.video + ["-c:v", "libx264", "-c:a", "ac3", "-mpegts_m2ts_mode", "1", path])
            return try probe(path)
        }
        #expect(metadata.videoCodec == "h264")
        #expect(metadata.audioCodec == "ac3")
        #expect(metadata.durationMilliseconds.map { (1900...2100).contains($0) } == true)
    }

    @Test func programStreamGivesSizeCodecsAndDuration() throws {
        let metadata = try withTemporaryDirectory { dir in try probe(Fixture.mpegPS.make(in: dir)) }
        #expect(metadata.videoCodec == "mpeg2video")
        #expect(metadata.audioCodec == "mp2")
        #expect(metadata.width == 320)
        #expect(metadata.height == 240)
        #expect(metadata.durationMilliseconds.map { (1900...2100).contains($0) } == true)
    }

    @Test func transportStreamTimestampWrapIsHandled() {
        var latest = MPEGStreamReader.Latest(first: (1 << 33) - 90_000)
        latest.add(90_000)  // wrapped: 2 s after the first
        latest.add(5)  // 1 s after the first: an earlier frame does not shorten the result
        #expect(latest.durationMilliseconds == 2000)
    }
}
