import CExif
import WireVocabulary

/// The EXIF fields of a photo, read by libexif from the block the image
/// reader found.
enum ExifReader {
    /// Fills date taken, camera make and model and orientation from an EXIF
    /// block (`Exif\0\0` + TIFF), and width/height if the image header did not give them.
    static func read(_ block: [UInt8], into metadata: inout MediaMetadata) {
        guard block.count > 6, block.count <= 0x10000, let data = exif_data_new() else { return }
        defer { exif_data_unref(data) }
        // "Following the specification" makes libexif add the tags the spec
        // calls mandatory (resolution, ExifVersion, ColorSpace...) with
        // invented defaults. None is read today, but a made-up value must
        // never pass for what the camera wrote: read only what is there.
        exif_data_unset_option(data, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION)
        block.withUnsafeBufferPointer { exif_data_load_data(data, $0.baseAddress, UInt32($0.count)) }

        let order = exif_data_get_byte_order(data)
        let ifd0 = data.pointee.ifd.0
        let exifIFD = data.pointee.ifd.2

        metadata.dateTaken =
            text(exifIFD, EXIF_TAG_DATE_TIME_ORIGINAL).flatMap(normalisedDate)
            ?? text(ifd0, EXIF_TAG_DATE_TIME).flatMap(normalisedDate)
        metadata.cameraMake = text(ifd0, EXIF_TAG_MAKE)
        metadata.cameraModel = text(ifd0, EXIF_TAG_MODEL)
        if let orientation = integer(ifd0, EXIF_TAG_ORIENTATION, order), (1...8).contains(orientation) {
            metadata.orientation = orientation
        }
        metadata.hasThumbnail = thumbnail(data) != nil
        if metadata.width == nil || metadata.height == nil {
            let candidates = [
                (integer(ifd0, EXIF_TAG_IMAGE_WIDTH, order), integer(ifd0, EXIF_TAG_IMAGE_LENGTH, order)),
                (
                    integer(exifIFD, EXIF_TAG_PIXEL_X_DIMENSION, order),
                    integer(exifIFD, EXIF_TAG_PIXEL_Y_DIMENSION, order)
                ),
            ]
            for case (let width?, let height?) in candidates
            where width > 0 && height > 0 && width <= Int(ImageReader.maxDimension)
                && height <= Int(ImageReader.maxDimension)
            {
                metadata.width = width
                metadata.height = height
                break
            }
        }
    }

    /// The bytes of an EXIF block's thumbnail: loaded by libexif from IFD1's JPEGInterchangeFormat, which
    /// lies inside the block, so it is at most 64 KiB. Nil when there is none or it is not a JPEG.
    static func thumbnail(_ block: [UInt8]) -> [UInt8]? {
        guard block.count > 6, block.count <= 0x10000, let data = exif_data_new() else { return nil }
        defer { exif_data_unref(data) }
        exif_data_unset_option(data, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION)
        block.withUnsafeBufferPointer { exif_data_load_data(data, $0.baseAddress, UInt32($0.count)) }
        return thumbnail(data)
    }

    private static func thumbnail(_ data: UnsafeMutablePointer<ExifData>) -> [UInt8]? {
        let size = Int(data.pointee.size)
        guard let bytes = data.pointee.data, size >= 4, size <= ExifThumbnail.maximumBytes else { return nil }
        let thumbnail = Array(UnsafeBufferPointer(start: bytes, count: size))
        return thumbnail.starts(with: [0xFF, 0xD8]) ? thumbnail : nil
    }

    /// An ASCII entry without its NUL terminator and padding; nil if empty.
    private static func text(_ content: UnsafeMutablePointer<ExifContent>?, _ tag: ExifTag) -> String? {
        guard let content, let entry = exif_content_get_entry(content, tag),
            entry.pointee.format == EXIF_FORMAT_ASCII || entry.pointee.format == EXIF_FORMAT_UNDEFINED,
            let bytes = entry.pointee.data
        else { return nil }
        let length = Int(min(entry.pointee.size, 1024))
        return metadataText(ArraySlice(UnsafeBufferPointer(start: bytes, count: length)))
    }

    /// A SHORT or LONG entry's first value.
    private static func integer(_ content: UnsafeMutablePointer<ExifContent>?, _ tag: ExifTag, _ order: ExifByteOrder)
        -> Int?
    {
        guard let content, let entry = exif_content_get_entry(content, tag), let bytes = entry.pointee.data,
            entry.pointee.components >= 1
        else { return nil }
        switch entry.pointee.format {
        case EXIF_FORMAT_SHORT where entry.pointee.size >= 2:
            return Int(exif_get_short(bytes, order))
        case EXIF_FORMAT_LONG where entry.pointee.size >= 4:
            let value = exif_get_long(bytes, order)
            return value <= 1 << 30 ? Int(value) : nil
        default:
            return nil
        }
    }

    /// EXIF's `YYYY:MM:DD HH:MM:SS` as `YYYY-MM-DDTHH:MM:SS`; nil for the
    /// blank or all-zero "unknown" forms and anything that is not a date.
    /// Any separator is accepted, as writers vary.
    static func normalisedDate(_ raw: String) -> String? {
        let bytes = Array(raw.utf8)
        guard bytes.count >= 19 else { return nil }
        let digitPositions: [Range<Int>] = [0..<4, 5..<7, 8..<10, 11..<13, 14..<16, 17..<19]
        var fields: [Int] = []
        for range in digitPositions {
            var value = 0
            for i in range {
                let byte = bytes[i]
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            fields.append(value)
        }
        guard fields[0] > 0, (1...12).contains(fields[1]), (1...31).contains(fields[2]),
            fields[3] <= 23, fields[4] <= 59, fields[5] <= 60
        else { return nil }
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return
            "\(pad(fields[0], 4))-\(pad(fields[1], 2))-\(pad(fields[2], 2))T\(pad(fields[3], 2)):\(pad(fields[4], 2)):\(pad(fields[5], 2))"
    }
}
