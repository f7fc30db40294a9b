import ContentID
import Foundation
import Testing
import WireVocabulary

@testable import MediaIndex

/// Photos whose EXIF block carries a thumbnail, recorded when their metadata is read.
extension CatalogTests {
    /// The thumbnail inside ``photoWithThumbnail``.
    static let thumbnail: [UInt8] = [0xFF, 0xD8, 0x01, 0x02, 0xFF, 0xD9]

    /// A JPEG made of SOI, an APP1 EXIF segment and EOI. The TIFF block (little-endian) has an IFD0 with the
    /// orientation, linked to an IFD1 that places ``thumbnail`` at offset 0x44, 6 bytes long.
    static let photoWithThumbnail: [UInt8] = {
        let tiff =
            "49492A0008000000" + "0100" + "120103000100000001000000" + "1A000000" + "0300"
            + "030103000100000006000000" + "010204000100000044000000" + "020204000100000006000000" + "00000000"
            + "FFD80102FFD9"
        var bytes: [UInt8] = []
        var digits = tiff.makeIterator()
        while let high = digits.next(), let low = digits.next() {
            bytes.append(UInt8(String([high, low]), radix: 16)!)
        }
        let payload = Array("Exif".utf8) + [0, 0] + bytes
        return [0xFF, 0xD8, 0xFF, 0xE1, 0, UInt8(payload.count + 2)] + payload + [0xFF, 0xD9]
    }()

    @Test func aPhotoWithAnEXIFThumbnailIsRecordedAndItsThumbnailRead() async throws {
        try Data(Self.photoWithThumbnail).write(to: URL(fileURLWithPath: media + "/with.jpg"))
        try addPhoto("without.jpg", seed: 1)
        try scanAndHash()
        let with = try contentID(ofFile: "with.jpg")
        let without = try contentID(ofFile: "without.jpg")
        #expect(try await catalog.photosWithThumbnails(among: [with, without, fakeID(7)], online: []) == [with])
        #expect(try await catalog.thumbnail(of: with) == Self.thumbnail)
        #expect(try await catalog.thumbnail(of: without) == nil)
        #expect(try await catalog.thumbnail(of: fakeID(7)) == nil)
        #expect(try await catalog.photosWithThumbnails(among: [], online: []).isEmpty)
    }

    @Test func aPhotoEditedAfterHashingGivesNoThumbnailUnderItsOldID() async throws {
        let path = media + "/with.jpg"
        try Data(Self.photoWithThumbnail).write(to: URL(fileURLWithPath: path))
        try scanAndHash()
        let with = try contentID(ofFile: "with.jpg")
        usleep(20_000)  // a new mtime even on file systems with coarse timestamps
        try Data(Self.photoWithThumbnail + [0]).write(to: URL(fileURLWithPath: path))
        #expect(try await catalog.thumbnail(of: with) == nil)
    }
}
