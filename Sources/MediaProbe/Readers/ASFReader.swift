import WireVocabulary

/// Duration, dimensions, codecs and title of an ASF (WMV) file from its
/// Header Object, which precedes all media data.
struct ASFReader {
    static let maxHeader = 256 << 10

    enum GUID {
        // On-disk byte order: the first three fields are little-endian.
        static let fileProperties: [UInt8] = [
            0xA1, 0xDC, 0xAB, 0x8C, 0x47, 0xA9, 0xCF, 0x11, 0x8E, 0xE4, 0x00, 0xC0, 0x0C, 0x20, 0x53, 0x65,
        ]
        static let streamProperties: [UInt8] = [
            0x91, 0x07, 0xDC, 0xB7, 0xB7, 0xA9, 0xCF, 0x11, 0x8E, 0xE6, 0x00, 0xC0, 0x0C, 0x20, 0x53, 0x65,
        ]
        static let contentDescription: [UInt8] = [
            0x33, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C,
        ]
        static let videoMedia: [UInt8] = [
            0xC0, 0xEF, 0x19, 0xBC, 0x4D, 0x5B, 0xCF, 0x11, 0xA8, 0xFD, 0x00, 0x80, 0x5F, 0x5C, 0x44, 0x2B,
        ]
        static let audioMedia: [UInt8] = [
            0x40, 0x9E, 0x69, 0xF8, 0x4D, 0x5B, 0xCF, 0x11, 0xA8, 0xFD, 0x00, 0x80, 0x5F, 0x5C, 0x44, 0x2B,
        ]
    }

    private let reader: BoundedReader

    init(reader: BoundedReader) {
        self.reader = reader
    }

    func read() -> MediaMetadata {
        var metadata = MediaMetadata()
        guard let top = reader.bytes(at: 0, count: 30), top.matches(0, Signature.asfHeaderGUID),
            let headerSize = top.u64le(16), headerSize > 30,
            let header = reader.bytes(upTo: Int(min(headerSize, UInt64(Self.maxHeader))), at: 0)
        else { return metadata }
        // Objects: GUID 16, size 8 (including these 24 bytes), data.
        var offset = 30
        var count = 0
        while count < 256, let size = header.u64le(offset + 16), size >= 24,
            let object = header.sub(offset, Int(min(size, UInt64(header.count - offset))))
        {
            count += 1
            if object.matches(0, GUID.fileProperties) {
                readFileProperties(object, into: &metadata)
            } else if object.matches(0, GUID.streamProperties) {
                readStreamProperties(object, into: &metadata)
            } else if object.matches(0, GUID.contentDescription) {
                // Five u16 lengths (title first), then the UTF-16LE strings.
                if let length = object.u16le(24), let text = object.sub(34, Int(length)) {
                    metadata.title = Self.utf16Text(text)
                }
            }
            guard UInt64(object.count) == size else { break }
            offset += object.count
        }
        return metadata
    }

    private func readFileProperties(_ object: ArraySlice<UInt8>, into metadata: inout MediaMetadata) {
        // After the 24-byte object header: file id 16, file size 8, creation 8,
        // packets 8, play duration 8 (100 ns units), send duration 8, preroll 8 (ms).
        guard let play = object.u64le(64), let preroll = object.u64le(80), play > 0 else { return }
        let total = play / 10_000
        metadata.durationMilliseconds = total > preroll ? Int64(clamping: total - preroll) : Int64(clamping: total)
    }

    private func readStreamProperties(_ object: ArraySlice<UInt8>, into metadata: inout MediaMetadata) {
        // Stream type GUID 16, error correction GUID 16, time offset 8,
        // type-specific length 4, error correction length 4, flags 2, reserved 4.
        guard let typeSpecific = object.suffix(from: 78) else { return }
        if object.matches(24, GUID.videoMedia), metadata.videoCodec == nil {
            // Encoded width 4, height 4, flags 1, format size 2, then BITMAPINFOHEADER.
            if let w = typeSpecific.u32le(0), let h = typeSpecific.u32le(4), w > 0, h > 0, w <= 1 << 20, h <= 1 << 20 {
                metadata.width = Int(w)
                metadata.height = Int(h)
            }
            metadata.videoCodec = typeSpecific.u32be(11 + 16).flatMap(AVIReader.videoCodec)
        } else if object.matches(24, GUID.audioMedia), metadata.audioCodec == nil {
            metadata.audioCodec = typeSpecific.u16le(0).flatMap(WaveFormat.codecName)
        }
    }

    static func utf16Text(_ bytes: ArraySlice<UInt8>) -> String? {
        var units: [UInt16] = []
        units.reserveCapacity(bytes.count / 2)
        var i = 0
        while units.count < 1024, let unit = bytes.u16le(i) {
            if unit == 0 { break }
            units.append(unit)
            i += 2
        }
        return trimmedText(String(decoding: units, as: UTF16.self))
    }
}
