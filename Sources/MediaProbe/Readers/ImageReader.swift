/// What an image's own bytes say: its pixel size and, if present, its EXIF
/// block (as `Exif\0\0` followed by the TIFF structure, the form libexif loads).
struct ImageInfo: Equatable {
    var width: Int?
    var height: Int?
    var exif: [UInt8]?
}

/// Pixel dimensions and the EXIF block of JPEG, PNG, GIF, WebP, BMP, TIFF
/// and HEIF images, found by walking their headers.
enum ImageReader {
    enum Format: Sendable, Equatable {
        case jpeg, png, gif, webp, bmp, tiff, heif
    }

    /// A side longer than this is a corrupt header, not an image.
    static let maxDimension: UInt64 = 1 << 24
    /// The most EXIF bytes handed to libexif, which ignores anything past
    /// 64 KiB (the most a JPEG APP1 segment can hold).
    static let maxExif = 0xFFFE - 6

    static func read(_ reader: BoundedReader, format: Format) -> ImageInfo {
        switch format {
        case .jpeg: readJPEG(reader)
        case .png: readPNG(reader)
        case .gif: readGIF(reader)
        case .webp: readWebP(reader)
        case .bmp: readBMP(reader)
        case .tiff: readTIFF(reader)
        case .heif: readHEIF(reader)
        }
    }

    static let exifHeader: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]  // "Exif\0\0"

    /// The TIFF structure in the form libexif loads, whether or not the container already prefixed it.
    static func exifBlob(_ tiff: ArraySlice<UInt8>) -> [UInt8]? {
        if tiff.matches(0, exifHeader) { return tiff.count > 6 ? Array(tiff) : nil }
        guard tiff.count >= 8 else { return nil }
        return exifHeader + tiff
    }

    static func dimensions(_ width: UInt64, _ height: UInt64) -> (Int, Int)? {
        guard width > 0, height > 0, width <= maxDimension, height <= maxDimension else { return nil }
        return (Int(width), Int(height))
    }

    // MARK: JPEG

    /// Walks the marker segments up to the first frame header (SOFn), noting
    /// the first APP1 Exif segment on the way. Entropy-coded data (after SOS) is never read.
    static func readJPEG(_ reader: BoundedReader) -> ImageInfo {
        var info = ImageInfo()
        var offset: Int64 = 2
        for _ in 0..<1024 {
            guard let marker = reader.bytes(at: offset, count: 2), marker.u8(0) == 0xFF, let code = marker.u8(1) else {
                break
            }
            switch code {
            case 0xFF:
                // Fill byte before a marker.
                offset += 1
                continue
            case 0x01, 0xD0...0xD8:
                // Markers without a length.
                offset += 2
                continue
            case 0xD9, 0xDA:
                return info
            default:
                break
            }
            guard let length = reader.bytes(at: offset + 2, count: 2)?.u16be(0), length >= 2 else { break }
            if isStartOfFrame(code) {
                // precision 1, height 2, width 2 (a height of 0 is defined later by DNL: unknown here)
                if let frame = reader.bytes(at: offset + 4, count: 5), let h = frame.u16be(1), let w = frame.u16be(3),
                    let (width, height) = dimensions(UInt64(w), UInt64(h))
                {
                    info.width = width
                    info.height = height
                }
                return info
            }
            if code == 0xE1, info.exif == nil, let payload = reader.bytes(at: offset + 4, count: Int(length) - 2),
                payload.matches(0, exifHeader)
            {
                info.exif = exifBlob(payload)
            }
            offset += 2 + Int64(length)
        }
        return info
    }

    static func isStartOfFrame(_ code: UInt8) -> Bool {
        // C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames.
        (0xC0...0xCF).contains(code) && code != 0xC4 && code != 0xC8 && code != 0xCC
    }

    // MARK: PNG

    static func readPNG(_ reader: BoundedReader) -> ImageInfo {
        var info = ImageInfo()
        guard let ihdr = reader.bytes(at: 8, count: 16), ihdr.matches(4, "IHDR"),
            let w = ihdr.u32be(8), let h = ihdr.u32be(12)
        else { return info }
        if let (width, height) = dimensions(UInt64(w), UInt64(h)) {
            info.width = width
            info.height = height
        }
        // eXIf is only useful before IDAT: after it, finding it means reading past the pixels.
        var offset: Int64 = 8
        for _ in 0..<64 {
            guard let chunk = reader.bytes(at: offset, count: 8), let length = chunk.u32be(0),
                let type = chunk.u32be(4),
                type != fourCC("IDAT"), type != fourCC("IEND")
            else { break }
            if type == fourCC("eXIf") {
                if length <= UInt32(maxExif), let data = reader.bytes(at: offset + 8, count: Int(length)) {
                    info.exif = exifBlob(data)
                }
                break
            }
            offset += 12 + Int64(length)
        }
        return info
    }

    // MARK: GIF

    static func readGIF(_ reader: BoundedReader) -> ImageInfo {
        var info = ImageInfo()
        // The logical screen size follows the 6-byte signature.
        if let screen = reader.bytes(at: 6, count: 4), let w = screen.u16le(0), let h = screen.u16le(2),
            let (width, height) = dimensions(UInt64(w), UInt64(h))
        {
            info.width = width
            info.height = height
        }
        return info
    }

    // MARK: WebP

    static func readWebP(_ reader: BoundedReader) -> ImageInfo {
        var info = ImageInfo()
        guard let head = reader.bytes(at: 12, count: 18), let type = head.u32be(0) else { return info }
        var size: (Int, Int)?
        var hasExif = false
        switch type {
        case fourCC("VP8 "):
            // Frame tag 3, start code 9D 01 2A, then 14-bit width and height (2 bits of scaling above).
            if head.matches(11, [0x9D, 0x01, 0x2A]), let w = head.u16le(14), let h = head.u16le(16) {
                size = dimensions(UInt64(w & 0x3FFF), UInt64(h & 0x3FFF))
            }
        case fourCC("VP8L"):
            // Signature 0x2F, then width-1 and height-1 in 14 bits each.
            if head.u8(8) == 0x2F, let bits = head.u32le(9) {
                size = dimensions(UInt64(bits & 0x3FFF) + 1, UInt64((bits >> 14) & 0x3FFF) + 1)
            }
        case fourCC("VP8X"):
            // Flags 1 (0x08: has EXIF), reserved 3, canvas width-1 and height-1 in 24 bits each.
            if let flags = head.u8(8), let w = head.u24le(12), let h = head.u24le(15) {
                size = dimensions(UInt64(w) + 1, UInt64(h) + 1)
                hasExif = flags & 0x08 != 0
            }
        default:
            break
        }
        if let size {
            info.width = size.0
            info.height = size.1
        }
        if hasExif {
            // The EXIF chunk comes after the image data: hop chunk headers to it.
            var offset: Int64 = 12
            for _ in 0..<64 {
                guard let chunk = reader.bytes(at: offset, count: 8), let id = chunk.u32be(0),
                    let length = chunk.u32le(4)
                else { break }
                if id == fourCC("EXIF") {
                    if length <= UInt32(maxExif), let data = reader.bytes(at: offset + 8, count: Int(length)) {
                        info.exif = exifBlob(data)
                    }
                    break
                }
                offset += 8 + Int64(length) + Int64(length & 1)
            }
        }
        return info
    }

    // MARK: BMP

    static func readBMP(_ reader: BoundedReader) -> ImageInfo {
        var info = ImageInfo()
        guard let dib = reader.bytes(at: 14, count: 12), let headerSize = dib.u32le(0) else { return info }
        var size: (Int, Int)?
        if headerSize == 12 {
            // OS/2 BITMAPCOREHEADER: 16-bit sizes.
            if let w = dib.u16le(4), let h = dib.u16le(6) { size = dimensions(UInt64(w), UInt64(h)) }
        } else if let w = dib.u32le(4), let h = dib.u32le(8) {
            // A negative height means top-down rows.
            size = dimensions(UInt64(Int32(bitPattern: w).magnitude), UInt64(Int32(bitPattern: h).magnitude))
        }
        if let size {
            info.width = size.0
            info.height = size.1
        }
        return info
    }

    // MARK: TIFF

    /// A TIFF file is itself an EXIF structure, but libexif only looks at
    /// its first 64 KiB, and writers often put IFD0 after the pixel strips,
    /// so the size is read from IFD0 here (classic TIFF; BigTIFF only gets EXIF).
    static func readTIFF(_ reader: BoundedReader) -> ImageInfo {
        var info = ImageInfo()
        guard let head = reader.bytes(upTo: maxExif, at: 0), head.count >= 8 else { return info }
        info.exif = exifBlob(head)
        let little = head.matches(0, "II")
        func u16(_ b: ArraySlice<UInt8>, _ i: Int) -> UInt16? { little ? b.u16le(i) : b.u16be(i) }
        func u32(_ b: ArraySlice<UInt8>, _ i: Int) -> UInt32? { little ? b.u32le(i) : b.u32be(i) }
        guard u16(head, 2) == 42, let ifd0 = u32(head, 4),
            let countBytes = reader.bytes(at: Int64(ifd0), count: 2), let count = u16(countBytes, 0),
            let entries = reader.bytes(upTo: 12 * Int(min(count, 512)), at: Int64(ifd0) + 2)
        else { return info }
        var width: UInt64?
        var height: UInt64?
        var index = 0
        while index + 12 <= entries.count {
            defer { index += 12 }
            guard let tag = u16(entries, index), tag == 0x100 || tag == 0x101, let type = u16(entries, index + 2) else {
                continue
            }
            // A single SHORT or LONG sits in the value field itself.
            let value: UInt64? =
                switch type {
                case 3: u16(entries, index + 8).map(UInt64.init)
                case 4: u32(entries, index + 8).map(UInt64.init)
                default: nil
                }
            if tag == 0x100 { width = value } else { height = value }
        }
        if let width, let height, let (w, h) = dimensions(width, height) {
            info.width = w
            info.height = h
        }
        return info
    }

    // MARK: HEIF

    /// The largest `ispe` (image spatial extents) property, which is the full
    /// image rather than a grid tile or thumbnail, and the `Exif` item's data.
    static func readHEIF(_ reader: BoundedReader) -> ImageInfo {
        var info = ImageInfo()
        let walker = ISOBoxWalker(reader: reader)
        var meta: ISOBox?
        walker.forEachChild(from: 0, to: reader.size) { box in
            if box.type == fourCC("meta") { meta = box }
            return meta == nil && box.type != fourCC("mdat")
        }
        guard let meta else { return info }
        var exifItem: UInt32?
        var itemLocations: ArraySlice<UInt8>?
        var bestArea: UInt64 = 0
        // `meta` is a full box: children after 4 bytes of version/flags.
        walker.forEachChild(from: meta.payload + 4, to: meta.end) { box in
            switch box.type {
            case fourCC("iinf"):
                exifItem = exifItemID(walker, box)
            case fourCC("iloc"):
                itemLocations = walker.payload(of: box)
            case fourCC("iprp"):
                guard let ipco = walker.firstChild(fourCC("ipco"), in: box) else { break }
                walker.forEachChild(from: ipco.payload, to: ipco.end) { property in
                    guard property.type == fourCC("ispe"), let p = walker.payload(of: property, limit: 12),
                        let w = p.u32be(4), let h = p.u32be(8), let (width, height) = dimensions(UInt64(w), UInt64(h))
                    else { return true }
                    if UInt64(w) * UInt64(h) > bestArea {
                        bestArea = UInt64(w) * UInt64(h)
                        info.width = width
                        info.height = height
                    }
                    return true
                }
            default:
                break
            }
            return true
        }
        if let exifItem, let itemLocations, let (offset, length) = itemExtent(itemLocations, item: exifItem),
            let prefix = reader.bytes(at: offset, count: 4)?.u32be(0)
        {
            // The item starts with the offset of the TIFF header from after this field.
            let (start, overflow) = (offset + 4).addingReportingOverflow(Int64(prefix))
            let available = length > 0 ? length - 4 - Int64(prefix) : reader.size - start
            if !overflow, available > 0, let tiff = reader.bytes(upTo: Int(min(available, Int64(maxExif))), at: start) {
                info.exif = exifBlob(tiff)
            }
        }
        return info
    }

    /// The ID of the item of type `Exif` in `iinf`.
    static func exifItemID(_ walker: ISOBoxWalker, _ iinf: ISOBox) -> UInt32? {
        guard let version = walker.reader.bytes(at: iinf.payload, count: 1)?.u8(0) else { return nil }
        let entriesStart = iinf.payload + 4 + (version == 0 ? 2 : 4)
        var found: UInt32?
        walker.forEachChild(from: entriesStart, to: iinf.end) { infe in
            guard infe.type == fourCC("infe"), let p = walker.payload(of: infe, limit: 16), let v = p.u8(0) else {
                return true
            }
            // Versions 2 and 3 carry the item type; 3 has a 32-bit item ID.
            if v == 2, let id = p.u16be(4), p.u32be(8) == fourCC("Exif") { found = UInt32(id) }
            if v == 3, let id = p.u32be(4), p.u32be(10) == fourCC("Exif") { found = id }
            return found == nil
        }
        return found
    }

    /// File offset and length of the first extent of `item` in an `iloc` payload
    /// (length 0: to the end of the file). Only file-offset construction is supported.
    static func itemExtent(_ p: ArraySlice<UInt8>, item: UInt32) -> (Int64, Int64)? {
        guard let version = p.u8(0), version <= 2, let sizes = p.u8(4), let sizes2 = p.u8(5) else { return nil }
        let offsetSize = Int(sizes >> 4)
        let lengthSize = Int(sizes & 0xF)
        let baseOffsetSize = Int(sizes2 >> 4)
        let indexSize = version >= 1 ? Int(sizes2 & 0xF) : 0
        var i = 6
        func field(_ size: Int) -> UInt64? {
            defer { i += size }
            switch size {
            case 0: return 0
            case 4: return p.u32be(i).map(UInt64.init)
            case 8: return p.u64be(i)
            default: return nil
            }
        }
        guard let itemCount = version < 2 ? p.u16be(i).map(UInt32.init) : p.u32be(i) else { return nil }
        i += version < 2 ? 2 : 4
        // Zero-sized fields consume no bytes, so bound the work itself, not just the bytes.
        var budget = 65_536
        for _ in 0..<min(itemCount, 4096) {
            let id: UInt32?
            if version < 2 {
                id = p.u16be(i).map(UInt32.init)
                i += 2
            } else {
                id = p.u32be(i)
                i += 4
            }
            var method: UInt16 = 0
            if version >= 1 {
                method = (p.u16be(i) ?? 0) & 0xF
                i += 2
            }
            i += 2  // data_reference_index
            guard let id, let base = field(baseOffsetSize), let extents = p.u16be(i) else { return nil }
            i += 2
            for extent in 0..<Int(extents) {
                budget -= 1
                guard budget > 0, i <= p.count else { return nil }
                if indexSize > 0 { _ = field(indexSize) }
                guard let offset = field(offsetSize), let length = field(lengthSize) else { return nil }
                if id == item, extent == 0 {
                    let (start, overflow) = base.addingReportingOverflow(offset)
                    guard method == 0, !overflow, start <= UInt64(Int64.max), length <= UInt64(Int64.max) else {
                        return nil
                    }
                    return (Int64(start), Int64(length))
                }
            }
            if i > p.count { return nil }
        }
        return nil
    }
}
