import Foundation
import Testing
import WireVocabulary

@testable import MediaProbe

/// The preview a camera embeds in a photo's EXIF block, read with libexif and bounded.
@Suite struct ExifThumbnailTests {
    /// A small JPEG-looking preview: SOI, some bytes, EOI.
    static let preview: [UInt8] =
        [0xFF, 0xD8, 0xFF, 0xDB] + (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 11) } + [
            0xFF, 0xD9,
        ]

    /// The real JPEG fixture with an APP1 EXIF segment holding `tiff`; its path and what the probe reads of it.
    private func photo(_ tiff: [UInt8]) throws -> (thumbnail: [UInt8]?, metadata: MediaMetadata?) {
        try withTemporaryDirectory { dir in
            let plain = try Fixture.jpeg.make(in: dir)
            let path = dir + "/with-exif.jpg"
            try writeBytes(jpegWithExif(Array(try Data(contentsOf: URL(fileURLWithPath: plain))), tiff: tiff), to: path)
            return (ExifThumbnail.read(path: path), try MediaProbe.probe(path: path)?.metadata)
        }
    }

    @Test func theThumbnailOfAJPEGIsReadWholeAndRecordedInItsMetadata() throws {
        let (thumbnail, metadata) = try photo(tiffWithThumbnail(Self.preview))
        #expect(thumbnail == Self.preview)
        #expect(metadata?.hasThumbnail == true)
        #expect(metadata?.orientation == 1)
    }

    @Test func aJPEGWhoseEXIFHasNoThumbnailHasNone() throws {
        let (thumbnail, metadata) = try photo(tiffBlock(ifd0: [(0x010F, .ascii("Canon"))]))
        #expect(thumbnail == nil)
        #expect(metadata?.hasThumbnail == false)
        #expect(metadata?.cameraMake == "Canon")
    }

    @Test func aThumbnailThatIsNotAJPEGIsIgnored() throws {
        let (thumbnail, metadata) = try photo(tiffWithThumbnail(Array("not a jpeg at all".utf8)))
        #expect(thumbnail == nil)
        #expect(metadata?.hasThumbnail == false)
    }

    @Test func aThumbnailLengthRunningPastTheBlockIsIgnored() throws {
        let (thumbnail, metadata) = try photo(tiffWithThumbnail(Self.preview, declaredLength: 60_000))
        #expect(thumbnail == nil)
        #expect(metadata?.hasThumbnail == false)
    }

    @Test func theThumbnailIsReadFromAJPEGsFirstBytesAsAHolderSendsThem() throws {
        let bytes = try withTemporaryDirectory { dir in
            let plain = try Fixture.jpeg.make(in: dir)
            return jpegWithExif(
                Array(try Data(contentsOf: URL(fileURLWithPath: plain))), tiff: tiffWithThumbnail(Self.preview))
        }
        #expect(ExifThumbnail.read(jpegPrefix: Array(bytes.prefix(ExifThumbnail.prefixLength))) == Self.preview)
        // Cut inside the EXIF block: no thumbnail, rather than part of one.
        #expect(ExifThumbnail.read(jpegPrefix: Array(bytes.prefix(200))) == nil)
        #expect(ExifThumbnail.read(jpegPrefix: Array("not a jpeg".utf8)) == nil)
        #expect(ExifThumbnail.read(jpegPrefix: []) == nil)
    }

    @Test func aFileThatIsNotAJPEGOrIsMissingHasNoThumbnail() throws {
        #expect(ExifThumbnail.read(path: "/nonexistent/photo.jpg") == nil)
        let png = try withTemporaryDirectory { dir in ExifThumbnail.read(path: try Fixture.png.make(in: dir)) }
        #expect(png == nil)
    }
}
