import Foundation
import Testing
import WireVocabulary

@testable import MediaProbe

/// Photos: pixel size from the image's own header, EXIF through libexif.
struct ImageMetadataTests {
    /// Sniffs and probes `path`, failing if it is not recognised as media.
    private func probe(_ path: String) throws -> MediaMetadata {
        let sniffed = try #require(try MediaSniffer.sniff(path: path))
        return MediaProbe.metadata(path: path, sniffed: sniffed)
    }

    private static let cameraTIFF = tiffBlock(
        ifd0: [
            (0x010F, .ascii("Canon  ")),  // Make, space-padded as some cameras write it
            (0x0110, .ascii("EOS 5D Mark IV")),  // Model
            (0x0112, .short(6)),  // Orientation: rotate 90° CW
            (0x0132, .ascii("2020:01:02 03:04:05")),  // DateTime (modified)
        ],
        exif: [
            (0x9003, .ascii("2019:07:14 18:30:59")),  // DateTimeOriginal
            (0xA002, .long(6000)),  // PixelXDimension
            (0xA003, .short(4000)),  // PixelYDimension
        ])

    @Test(arguments: [Fixture.jpeg, .png, .gif, .bmp, .tiff, .webp, .webpLossless])
    func pixelSizeComesFromTheImageHeader(fixture: Fixture) throws {
        let metadata = try withTemporaryDirectory { dir in try probe(fixture.make(in: dir)) }
        #expect(metadata.width == 320)
        #expect(metadata.height == 240)
    }

    @Test func exifFieldsAreReadFromTheJPEGApp1Segment() throws {
        let metadata = try withTemporaryDirectory { dir in
            let plain = try readBytes(Fixture.jpeg.make(in: dir))
            let path = dir + "/camera.jpg"
            try writeBytes(jpegWithExif(plain, tiff: Self.cameraTIFF), to: path)
            return try probe(path)
        }
        #expect(metadata.cameraMake == "Canon")
        #expect(metadata.cameraModel == "EOS 5D Mark IV")
        #expect(metadata.orientation == 6)
        #expect(metadata.dateTaken == "2019-07-14T18:30:59")
        // The frame header wins over the EXIF dimensions, which editors leave stale.
        #expect(metadata.width == 320)
        #expect(metadata.height == 240)
    }

    @Test func bigEndianExifIsRead() throws {
        let tiff = tiffBlock(
            bigEndian: true, ifd0: [(0x010F, .ascii("NIKON CORPORATION")), (0x0112, .short(3))],
            exif: [(0x9003, .ascii("2018:12:31 23:59:58"))])
        let metadata = try withTemporaryDirectory { dir in
            let path = dir + "/nikon.jpg"
            try writeBytes(jpegWithExif(readBytes(Fixture.jpeg.make(in: dir)), tiff: tiff), to: path)
            return try probe(path)
        }
        #expect(metadata.cameraMake == "NIKON CORPORATION")
        #expect(metadata.orientation == 3)
        #expect(metadata.dateTaken == "2018-12-31T23:59:58")
    }

    @Test func dateTakenFallsBackToDateTime() throws {
        let tiff = tiffBlock(ifd0: [(0x0132, .ascii("2021:02:03 04:05:06"))])
        let metadata = try withTemporaryDirectory { dir in
            let path = dir + "/edited.jpg"
            try writeBytes(jpegWithExif(readBytes(Fixture.jpeg.make(in: dir)), tiff: tiff), to: path)
            return try probe(path)
        }
        #expect(metadata.dateTaken == "2021-02-03T04:05:06")
    }

    @Test func missingExifFieldsStayNilRatherThanDefaulted() throws {
        let tiff = tiffBlock(ifd0: [(0x010F, .ascii("Acme"))], exif: [(0xA002, .long(320))])
        let metadata = try withTemporaryDirectory { dir in
            let path = dir + "/sparse.jpg"
            try writeBytes(jpegWithExif(readBytes(Fixture.jpeg.make(in: dir)), tiff: tiff), to: path)
            return try probe(path)
        }
        #expect(metadata.cameraMake == "Acme")
        #expect(metadata.cameraModel == nil)
        #expect(metadata.orientation == nil)
        #expect(metadata.dateTaken == nil)
    }

    @Test func exifPixelDimensionsAreUsedWhenTheFrameHeaderIsMissing() throws {
        // SOI, APP1 and nothing else: a file cut before its frame header.
        let jpeg = jpegWithExif([0xFF, 0xD8], tiff: Self.cameraTIFF)
        let metadata = try withTemporaryDirectory { dir in
            let path = dir + "/cut.jpg"
            try writeBytes(jpeg, to: path)
            return try probe(path)
        }
        #expect(metadata.width == 6000)
        #expect(metadata.height == 4000)
    }

    @Test func pngExifChunkIsRead() throws {
        let metadata = try withTemporaryDirectory { dir in
            let png = try readBytes(Fixture.png.make(in: dir))
            // eXIf right after IHDR (8-byte signature + 25-byte IHDR chunk); CRCs are not checked.
            let chunk = be32(UInt32(Self.cameraTIFF.count)) + Array("eXIf".utf8) + Self.cameraTIFF + [0, 0, 0, 0]
            let path = dir + "/exif.png"
            try writeBytes(Array(png[0..<33]) + chunk + Array(png[33...]), to: path)
            return try probe(path)
        }
        #expect(metadata.cameraModel == "EOS 5D Mark IV")
        #expect(metadata.width == 320)
    }

    @Test func webpExtendedFormatGivesCanvasSizeAndExif() throws {
        var vp8x: [UInt8] = [0x08, 0, 0, 0]  // flags: EXIF present
        vp8x += [0x7F, 0x07, 0x00, 0x37, 0x04, 0x00]  // canvas 1920 x 1080, stored minus one
        let exifChunk = Array("EXIF".utf8) + le32(UInt32(Self.cameraTIFF.count)) + Self.cameraTIFF
        let body = Array("WEBP".utf8) + Array("VP8X".utf8) + le32(10) + vp8x + exifChunk
        let webp = Array("RIFF".utf8) + le32(UInt32(body.count)) + body
        var metadata = MediaMetadata()
        let (found, exif) = ContainerProbe.read(BoundedReader(bytes: webp))
        metadata = found
        ExifReader.read(try #require(exif), into: &metadata)
        #expect(metadata.width == 1920)
        #expect(metadata.height == 1080)
        #expect(metadata.cameraMake == "Canon")
    }

    @Test func heifSizeIsTheLargestImageExtentAndItsExifItemIsRead() throws {
        func ispe(_ w: UInt32, _ h: UInt32) -> [UInt8] { fullBox("ispe", be32(w) + be32(h)) }
        let ftyp = box("ftyp", Array("heic".utf8) + be32(0) + Array("mif1heic".utf8))
        let exifPayload = be32(6) + Array("Exif".utf8) + [0, 0] + Self.cameraTIFF
        func meta(exifOffset: UInt32) -> [UInt8] {
            let infe =
                fullBox("infe", version: 2, be16(1) + be16(0) + Array("hvc1".utf8) + [0])
                + fullBox("infe", version: 2, be16(7) + be16(0) + Array("Exif".utf8) + [0])
            let iinf = fullBox("iinf", be16(2) + infe)
            // version 0: offset_size 4, length_size 4, base_offset_size 0; one item
            let iloc = fullBox(
                "iloc",
                [0x44, 0x00] + be16(1) + be16(7) + be16(0) + be16(1) + be32(exifOffset)
                    + be32(UInt32(exifPayload.count)))
            let iprp = box("iprp", box("ipco", ispe(512, 512) + ispe(4032, 3024) + ispe(256, 192)))
            return fullBox(
                "meta",
                fullBox("hdlr", be32(0) + Array("pict".utf8) + [UInt8](repeating: 0, count: 13)) + iinf + iloc + iprp)
        }
        let headerLength = ftyp.count + meta(exifOffset: 0).count
        let file = ftyp + meta(exifOffset: UInt32(headerLength + 8)) + box("mdat", exifPayload)
        var (metadata, exif) = ContainerProbe.read(BoundedReader(bytes: file))
        #expect(metadata.width == 4032)
        #expect(metadata.height == 3024)
        ExifReader.read(try #require(exif), into: &metadata)
        #expect(metadata.dateTaken == "2019-07-14T18:30:59")
    }

    @Test(arguments: [
        ("2019:07:14 18:30:59", "2019-07-14T18:30:59"),
        ("2019-07-14T18:30:59", "2019-07-14T18:30:59"),
        ("2019:07:14 18:30:59+02:00", "2019-07-14T18:30:59"),
    ])
    func exifDatesAreNormalised(raw: String, expected: String) {
        #expect(ExifReader.normalisedDate(raw) == expected)
    }

    @Test(arguments: [
        "0000:00:00 00:00:00", "    :  :     :  :  ", "2019:13:01 00:00:00", "2019:07:14", "yesterday at noon!!",
    ])
    func unknownOrInvalidExifDatesAreNil(raw: String) {
        #expect(ExifReader.normalisedDate(raw) == nil)
    }
}

func le32(_ v: UInt32) -> [UInt8] {
    [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
}
