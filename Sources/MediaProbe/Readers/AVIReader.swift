import WireVocabulary

/// Duration, dimensions and codecs of an AVI file from its `hdrl` list
/// (`avih`, the stream headers and formats, and OpenDML's `dmlh`).
struct AVIReader {
    static let maxHeaderList = 256 << 10

    private let reader: BoundedReader

    init(reader: BoundedReader) {
        self.reader = reader
    }

    func read() -> MediaMetadata {
        var metadata = MediaMetadata()
        // RIFF size 'AVI ', then chunks; hdrl should be the first, but some
        // writers put a JUNK chunk (padding) before it.
        var offset: Int64 = 12
        var headerList: ArraySlice<UInt8>?
        for _ in 0..<8 {
            guard let chunk = reader.bytes(at: offset, count: 12), let size = chunk.u32le(4) else { break }
            if chunk.matches(0, "LIST"), chunk.matches(8, "hdrl"), size >= 4 {
                headerList = reader.bytes(upTo: Int(min(size - 4, UInt32(Self.maxHeaderList))), at: offset + 12)
                break
            }
            offset += 8 + Int64(size) + Int64(size & 1)
        }
        guard let hdrl = headerList else { return metadata }

        var microsecondsPerFrame: UInt32 = 0
        var totalFrames: UInt32 = 0
        var openDMLFrames: UInt32 = 0
        var videoDuration: Int64?
        Self.forEachChunk(in: hdrl) { id, data in
            switch id {
            case fourCC("avih"):
                microsecondsPerFrame = data.u32le(0) ?? 0
                totalFrames = data.u32le(16) ?? 0
                if let w = data.u32le(32), let h = data.u32le(36), w > 0, h > 0, w <= 1 << 20, h <= 1 << 20 {
                    metadata.width = Int(w)
                    metadata.height = Int(h)
                }
            case fourCC("LIST"):
                guard let form = data.u32be(0), let body = data.suffix(from: 4) else { return }
                if form == fourCC("strl") {
                    readStream(body, into: &metadata, videoDuration: &videoDuration)
                } else if form == fourCC("odml") {
                    Self.forEachChunk(in: body) { id, data in
                        if id == fourCC("dmlh") { openDMLFrames = data.u32le(0) ?? 0 }
                    }
                }
            default:
                break
            }
        }
        if let videoDuration {
            metadata.durationMilliseconds = videoDuration
        } else {
            // avih counts only the first RIFF chunk's frames; OpenDML's dmlh counts them all.
            let frames = max(totalFrames, openDMLFrames)
            if frames > 0, microsecondsPerFrame > 0 {
                // Both are 32-bit, so the product fits in 64 bits.
                metadata.durationMilliseconds = Int64(UInt64(frames) * UInt64(microsecondsPerFrame) / 1000)
            }
        }
        return metadata
    }

    private func readStream(_ strl: ArraySlice<UInt8>, into metadata: inout MediaMetadata, videoDuration: inout Int64?)
    {
        var type: UInt32?
        var header: ArraySlice<UInt8>?
        var format: ArraySlice<UInt8>?
        Self.forEachChunk(in: strl) { id, data in
            if id == fourCC("strh") {
                type = data.u32be(0)
                header = data
            } else if id == fourCC("strf") {
                format = data
            }
        }
        if type == fourCC("vids"), metadata.videoCodec == nil {
            // BITMAPINFOHEADER biCompression, else the stream header's handler.
            let compression = format?.u32be(16) ?? 0
            metadata.videoCodec = Self.videoCodec(compression) ?? header?.u32be(4).flatMap(Self.videoCodec)
            // strh: scale at 20, rate at 24, length at 32; rate/scale is frames per second.
            if let header, let scale = header.u32le(20), let rate = header.u32le(24), let length = header.u32le(32),
                rate > 0, scale > 0, length > 0
            {
                videoDuration = milliseconds(units: UInt64(length) * UInt64(scale), timescale: UInt64(rate))
            }
        } else if type == fourCC("auds"), metadata.audioCodec == nil, let tag = format?.u16le(0) {
            metadata.audioCodec = WaveFormat.codecName(tag)
        }
    }

    /// Calls `body` with each RIFF chunk (id, payload) in `bytes`; chunks are padded to even sizes.
    static func forEachChunk(in bytes: ArraySlice<UInt8>, _ body: (UInt32, ArraySlice<UInt8>) -> Void) {
        var offset = 0
        var count = 0
        while count < 1024, let id = bytes.u32be(offset), let size = bytes.u32le(offset + 4) {
            count += 1
            let available = bytes.count - offset - 8
            let length = Int(min(UInt64(size), UInt64(available)))
            guard let data = bytes.sub(offset + 8, length) else { return }
            body(id, data)
            offset += 8 + length + (length & 1)
        }
    }

    /// A video FourCC (biCompression or fccHandler), case-insensitive, named as ffmpeg names it.
    static func videoCodec(_ code: UInt32) -> String? {
        // Upper-case ASCII letters in each byte.
        var upper: UInt32 = 0
        for shift in stride(from: 24, through: 0, by: -8) {
            var byte = UInt8(truncatingIfNeeded: code >> UInt32(shift))
            if byte >= 0x61, byte <= 0x7A { byte -= 0x20 }
            upper = upper << 8 | UInt32(byte)
        }
        switch upper {
        case fourCC("H264"), fourCC("X264"), fourCC("AVC1"), fourCC("DAVC"): return "h264"
        case fourCC("HEVC"), fourCC("H265"), fourCC("HVC1"), fourCC("HEV1"): return "hevc"
        case fourCC("XVID"), fourCC("DIVX"), fourCC("DX50"), fourCC("FMP4"), fourCC("MP4V"), fourCC("3IV2"):
            return "mpeg4"
        case fourCC("DIV3"), fourCC("MP43"): return "msmpeg4v3"
        case fourCC("MJPG"): return "mjpeg"
        case fourCC("VP80"): return "vp8"
        case fourCC("VP90"): return "vp9"
        case fourCC("AV01"): return "av1"
        case fourCC("WMV1"): return "wmv1"
        case fourCC("WMV2"): return "wmv2"
        case fourCC("WMV3"): return "wmv3"
        case fourCC("WVC1"): return "vc1"
        case fourCC("MPG2"): return "mpeg2video"
        default: return nil
        }
    }
}

/// WAVEFORMATEX format tags, shared by AVI and ASF.
enum WaveFormat {
    static func codecName(_ tag: UInt16) -> String? {
        switch tag {
        case 0x0001, 0xFFFE: "pcm"
        case 0x0050: "mp2"
        case 0x0055: "mp3"
        case 0x00FF, 0x1610, 0x706D: "aac"
        case 0x0160: "wmav1"
        case 0x0161: "wmav2"
        case 0x0162: "wmapro"
        case 0x0163: "wmalossless"
        case 0x2000: "ac3"
        case 0x2001: "dts"
        case 0xF1AC: "flac"
        default: nil
        }
    }
}
