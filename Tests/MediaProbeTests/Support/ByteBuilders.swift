import Foundation

/// Builders for the byte structures the tests hand-craft: TIFF/EXIF
/// blocks, ISO boxes, EBML elements.

enum TIFFValue {
    case ascii(String)
    case short(UInt16)
    case long(UInt32)
}

/// A TIFF structure (as found in EXIF) with an IFD0 and, if `exif` is not
/// empty, an Exif sub-IFD linked from IFD0.
func tiffBlock(bigEndian: Bool = false, ifd0: [(UInt16, TIFFValue)], exif: [(UInt16, TIFFValue)] = []) -> [UInt8] {
    func u16(_ v: UInt16) -> [UInt8] {
        bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)]
    }
    func u32(_ v: UInt32) -> [UInt8] {
        let be = [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
        return bigEndian ? be : be.reversed()
    }
    let exifPointerTag: UInt16 = 0x8769
    let ifd0Count = ifd0.count + (exif.isEmpty ? 0 : 1)
    let ifd0Offset = 8
    let exifOffset = ifd0Offset + 2 + 12 * ifd0Count + 4
    var dataOffset = exifOffset + (exif.isEmpty ? 0 : 2 + 12 * exif.count + 4)
    var data: [UInt8] = []

    func entries(_ list: [(UInt16, TIFFValue)]) -> [UInt8] {
        var out = u16(UInt16(list.count))
        for (tag, value) in list.sorted(by: { $0.0 < $1.0 }) {
            out += u16(tag)
            switch value {
            case .ascii(let text):
                let bytes = Array(text.utf8) + [0]
                out += u16(2) + u32(UInt32(bytes.count))
                if bytes.count <= 4 {
                    out += bytes + [UInt8](repeating: 0, count: 4 - bytes.count)
                } else {
                    out += u32(UInt32(dataOffset))
                    data += bytes
                    dataOffset += bytes.count
                }
            case .short(let v):
                out += u16(3) + u32(1) + u16(v) + [0, 0]
            case .long(let v):
                out += u16(4) + u32(1) + u32(v)
            }
        }
        return out + u32(0)
    }

    var ifd0Entries = ifd0
    if !exif.isEmpty { ifd0Entries.append((exifPointerTag, .long(UInt32(exifOffset)))) }
    var block: [UInt8] = bigEndian ? Array("MM".utf8) + [0, 42] : Array("II".utf8) + [42, 0]
    block += u32(UInt32(ifd0Offset))
    block += entries(ifd0Entries)
    if !exif.isEmpty { block += entries(exif) }
    return block + data
}

/// `jpeg` with an APP1 Exif segment holding `tiff` inserted right after SOI.
func jpegWithExif(_ jpeg: [UInt8], tiff: [UInt8]) -> [UInt8] {
    let payload = Array("Exif".utf8) + [0, 0] + tiff
    let length = payload.count + 2
    return [0xFF, 0xD8, 0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload + jpeg.dropFirst(2)
}

func be32(_ v: UInt32) -> [UInt8] {
    [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
}
func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
func be64(_ v: UInt64) -> [UInt8] { be32(UInt32(v >> 32)) + be32(UInt32(v & 0xFFFF_FFFF)) }

/// An ISO box with a 32-bit size.
func box(_ type: String, _ payload: [UInt8]) -> [UInt8] {
    be32(UInt32(8 + payload.count)) + Array(type.utf8) + payload
}

/// A full box (version and flags before the payload).
func fullBox(_ type: String, version: UInt8 = 0, _ payload: [UInt8]) -> [UInt8] {
    box(type, [version, 0, 0, 0] + payload)
}

/// An ISO box with the 64-bit size form (size field 1, then the real size).
func largeBox(_ type: String, _ payload: [UInt8]) -> [UInt8] {
    be32(1) + Array(type.utf8) + be64(UInt64(16 + payload.count)) + payload
}

/// A movie header box (version 0) for a given timescale and duration.
func mvhd(timescale: UInt32, duration: UInt32) -> [UInt8] {
    fullBox(
        "mvhd", [UInt8](repeating: 0, count: 8) + be32(timescale) + be32(duration) + [UInt8](repeating: 0, count: 80))
}

/// An EBML element: the ID bytes as written in the spec, then an 8-byte size.
func ebml(_ id: UInt32, _ payload: [UInt8]) -> [UInt8] {
    var idBytes = be32(id)
    while idBytes.first == 0 { idBytes.removeFirst() }
    return idBytes + [0x01] + Array(be64(UInt64(payload.count)).dropFirst()) + payload
}

/// An EBML element of unknown size (the all-ones 1-byte size).
func ebmlUnknownSize(_ id: UInt32, _ payload: [UInt8]) -> [UInt8] {
    var idBytes = be32(id)
    while idBytes.first == 0 { idBytes.removeFirst() }
    return idBytes + [0xFF] + payload
}

func ebmlUInt(_ id: UInt32, _ value: UInt64) -> [UInt8] {
    var bytes = be64(value)
    while bytes.count > 1, bytes.first == 0 { bytes.removeFirst() }
    return ebml(id, bytes)
}

func ebmlString(_ id: UInt32, _ value: String) -> [UInt8] { ebml(id, Array(value.utf8)) }

func ebmlFloat(_ id: UInt32, _ value: Double) -> [UInt8] { ebml(id, be64(value.bitPattern)) }

/// A small, deterministic generator so random-input tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    /// A generator for one test: seeded with `seed`, or with `MEDIAPEER_TEST_SEED` when set (to replay a run or
    /// try other inputs). The seed is printed, so a failure can be replayed exactly.
    static func forTest(_ test: String, seed: UInt64) -> SeededGenerator {
        let chosen = ProcessInfo.processInfo.environment["MEDIAPEER_TEST_SEED"].flatMap { UInt64($0) } ?? seed
        print("\(test): random seed \(chosen) (replay with MEDIAPEER_TEST_SEED=\(chosen))")
        return SeededGenerator(state: chosen)
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A little-endian TIFF block whose IFD0 (orientation only) links an IFD1 holding `thumbnail` as EXIF stores a
/// thumbnail: JPEGInterchangeFormat (its offset) and JPEGInterchangeFormatLength (`declaredLength`, by default its
/// size).
func tiffWithThumbnail(_ thumbnail: [UInt8], declaredLength: UInt32? = nil) -> [UInt8] {
    func u16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    func u32(_ v: UInt32) -> [UInt8] { be32(v).reversed() }
    let ifd1Offset: UInt32 = 8 + 2 + 12 + 4
    let thumbnailOffset = ifd1Offset + 2 + 3 * 12 + 4
    return Array("II".utf8) + [42, 0] + u32(8)
        + u16(1) + u16(0x0112) + u16(3) + u32(1) + u16(1) + [0, 0] + u32(ifd1Offset)
        + u16(3) + u16(0x0103) + u16(3) + u32(1) + u16(6) + [0, 0]
        + u16(0x0201) + u16(4) + u32(1) + u32(thumbnailOffset)
        + u16(0x0202) + u16(4) + u32(1) + u32(declaredLength ?? UInt32(thumbnail.count)) + u32(0)
        + thumbnail
}
