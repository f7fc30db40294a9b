import Foundation
import Testing
import WireVocabulary

/// A neighbour's photo in a box's DLNA tree: under the month it was taken (from the neighbour's catalog), with a
/// thumbnail `res` on this box that a client can load (read from the holder's copy).
@Suite(.serialized) struct DLNAPhotoTests {
    /// A JPEG-looking preview, as a camera embeds one: SOI, some bytes, EOI.
    static let preview: [UInt8] =
        [0xFF, 0xD8, 0xFF, 0xDB] + (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 11) } + [
            0xFF, 0xD9,
        ]

    @Test func aNeighboursPhotoIsUnderItsMonthAndItsThumbnailResLoadsThroughThisBox() throws {
        let home = try SimulatedHome(boxes: 3, tag: "dp")
        let plain = try Data(contentsOf: URL(fileURLWithPath: MediaFixtures.folder + "/" + MediaFixtures.photo))
        let photo = Self.photo(Array(plain), taken: "2024:06:01 10:00:00", thumbnail: Self.preview)
        try FileManager.default.createDirectory(
            atPath: home.box(2) + "/media/Photos", withIntermediateDirectories: true)
        try Data(photo).write(to: URL(fileURLWithPath: home.box(2) + "/media/Photos/beach.jpg"))
        for index in 1...2 { try home.startDaemon(index) }
        let id = try home.contentID(of: "Photos/beach.jpg", in: 2)
        try home.waitUntilListed(id, in: 1, heldBy: ["Box 2"])

        let location = "http://10.77.0.1:8738/upnp/device.xml"
        let months = try DIDL(try DLNABrowseTests.browse(home, location, "p/date"))
        let june = try #require(months.containers.first { $0.title == "2024-06" }, "\(months.containers)")
        #expect(june.childCount == 1)
        #expect(!months.containers.contains { $0.id == "p/undated" }, "\(months.containers)")
        let listing = try DIDL(try DLNABrowseTests.browse(home, location, june.id))
        let item = try #require(listing.items.first, "\(listing.items)")
        let thumbnailURL = "http://10.77.0.1:8738/thumbnails/\(id.hex).jpg"
        #expect(item.resURLs.contains(thumbnailURL), "\(item)")

        let copy = home.folder + "/thumbnail.jpg"
        let download = try home.exec(3, ["curl", "-sf", "-o", copy, thumbnailURL])
        #expect(download.status == 0, "\(download.stderr)\n\(home.log(1).suffix(2000))")
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: copy))) == Self.preview)
    }

    /// `jpeg` with an APP1 EXIF segment after its SOI: a little-endian TIFF block whose IFD0 (orientation) points
    /// to an Exif IFD holding `taken` as DateTimeOriginal (`YYYY:MM:DD HH:MM:SS`) and links an IFD1 that places
    /// `thumbnail`, as cameras store one.
    static func photo(_ jpeg: [UInt8], taken: String, thumbnail: [UInt8]) -> [UInt8] {
        func u16(_ value: Int) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF)] }
        func u32(_ value: Int) -> [UInt8] { u16(value & 0xFFFF) + u16(value >> 16) }
        func entry(_ tag: Int, _ type: Int, _ count: Int, _ value: Int) -> [UInt8] {
            u16(tag) + u16(type) + u32(count) + u32(value)
        }
        // Offsets in the TIFF block: header 0, IFD0 8, Exif IFD 38, the date 56, IFD1 76, the thumbnail 106.
        var tiff: [UInt8] = [0x49, 0x49, 0x2A, 0x00] + u32(8)
        tiff += u16(2) + entry(0x0112, 3, 1, 1) + entry(0x8769, 4, 1, 38) + u32(76)
        tiff += u16(1) + entry(0x9003, 2, 20, 56) + u32(0)
        tiff += Array(taken.utf8.prefix(19)) + [0]
        tiff += u16(2) + entry(0x0201, 4, 1, 106) + entry(0x0202, 4, 1, thumbnail.count) + u32(0)
        tiff += thumbnail
        let payload = Array("Exif".utf8) + [0, 0] + tiff
        let length = payload.count + 2
        return [0xFF, 0xD8, 0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload + jpeg.dropFirst(2)
    }
}
