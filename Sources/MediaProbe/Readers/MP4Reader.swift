import WireVocabulary

/// Duration, dimensions, codecs and title of an MP4 / QuickTime / 3GP movie,
/// from its `moov` box.
///
/// The top level is walked header by header, so `moov` after a huge `mdat`
/// (the default for most encoders) costs a few reads, and the sample
/// tables inside `moov` (megabytes for a long movie) are skipped, except
/// `stsd`, which names the codec.
struct MP4Reader {
    /// Top-level boxes examined before giving up on finding `moov`.
    static let maxTopLevelBoxes = 256

    private let walker: ISOBoxWalker

    init(reader: BoundedReader) {
        walker = ISOBoxWalker(reader: reader)
    }

    func read() -> MediaMetadata {
        var metadata = MediaMetadata()
        var offset: Int64 = 0
        var count = 0
        while count < Self.maxTopLevelBoxes, let box = walker.header(at: offset, parentEnd: walker.reader.size) {
            count += 1
            if box.type == fourCC("moov") {
                readMovie(box, into: &metadata)
                break
            }
            offset = box.end
        }
        return metadata
    }

    private struct Track {
        var handler: UInt32?
        var width: Int?
        var height: Int?
        var codec: String?
    }

    private func readMovie(_ moov: ISOBox, into metadata: inout MediaMetadata) {
        var timescale: UInt64?
        var fragmentDuration: UInt64?
        walker.forEachChild(from: moov.payload, to: moov.end) { box in
            switch box.type {
            case fourCC("mvhd"):
                if let (scale, duration) = movieHeader(box) {
                    timescale = scale
                    // 0 is what fragmented movies write: unknown, not empty.
                    if let duration, duration > 0 {
                        metadata.durationMilliseconds = milliseconds(units: duration, timescale: scale)
                    }
                }
            case fourCC("mvex"):
                // Fragmented movies may leave mvhd's duration 0 and give it here.
                if let mehd = walker.firstChild(fourCC("mehd"), in: box), let p = walker.payload(of: mehd, limit: 16) {
                    fragmentDuration = p.u8(0) == 1 ? p.u64be(4) : p.u32be(4).map(UInt64.init)
                }
            case fourCC("trak"):
                let track = readTrack(box)
                if track.handler == fourCC("vide"), metadata.videoCodec == nil, metadata.width == nil {
                    metadata.videoCodec = track.codec
                    metadata.width = track.width
                    metadata.height = track.height
                } else if track.handler == fourCC("soun"), metadata.audioCodec == nil {
                    metadata.audioCodec = track.codec
                }
            case fourCC("udta"):
                if metadata.title == nil { metadata.title = userDataTitle(box) }
            default:
                break
            }
            return true
        }
        if metadata.durationMilliseconds == nil, let timescale, let fragmentDuration, fragmentDuration > 0 {
            metadata.durationMilliseconds = milliseconds(units: fragmentDuration, timescale: timescale)
        }
    }

    /// Timescale and duration from `mvhd` (version 0: 32-bit fields, 1: 64-bit);
    /// the duration is nil when it is the all-ones "unknown" value.
    private func movieHeader(_ box: ISOBox) -> (UInt64, UInt64?)? {
        guard let p = walker.payload(of: box, limit: 32) else { return nil }
        if p.u8(0) == 1 {
            guard let scale = p.u32be(20), let duration = p.u64be(24) else { return nil }
            return (UInt64(scale), duration == .max ? nil : duration)
        }
        guard let scale = p.u32be(12), let duration = p.u32be(16) else { return nil }
        return (UInt64(scale), duration == .max ? nil : UInt64(duration))
    }

    private func readTrack(_ trak: ISOBox) -> Track {
        var track = Track()
        walker.forEachChild(from: trak.payload, to: trak.end) { box in
            switch box.type {
            case fourCC("tkhd"):
                readTrackHeader(box, into: &track)
            case fourCC("mdia"):
                readMedia(box, into: &track)
            default:
                break
            }
            return true
        }
        return track
    }

    /// Width and height from `tkhd`, 16.16 fixed point; the integer part is the pixel size.
    private func readTrackHeader(_ box: ISOBox, into track: inout Track) {
        guard let p = walker.payload(of: box, limit: 96), let version = p.u8(0) else { return }
        // version/flags 4, times and ids (v0: 20 bytes, v1: 32), reserved 8,
        // layer/group/volume/reserved 8, matrix 36, then width and height.
        let widthOffset = 4 + (version == 1 ? 32 : 20) + 8 + 8 + 36
        guard let width = p.u32be(widthOffset), let height = p.u32be(widthOffset + 4) else { return }
        if width >> 16 > 0, height >> 16 > 0 {
            track.width = Int(width >> 16)
            track.height = Int(height >> 16)
        }
    }

    private func readMedia(_ mdia: ISOBox, into track: inout Track) {
        walker.forEachChild(from: mdia.payload, to: mdia.end) { box in
            switch box.type {
            case fourCC("hdlr"):
                // version/flags 4, pre_defined 4, handler_type 4
                track.handler = walker.payload(of: box, limit: 12)?.u32be(8)
            case fourCC("minf"):
                if let stbl = walker.firstChild(fourCC("stbl"), in: box),
                    let stsd = walker.firstChild(fourCC("stsd"), in: stbl)
                {
                    readSampleDescription(stsd, into: &track)
                }
            default:
                break
            }
            return true
        }
    }

    /// The codec of the first sample entry in `stsd`, and for video its
    /// coded size when `tkhd` gave none.
    private func readSampleDescription(_ stsd: ISOBox, into track: inout Track) {
        // version/flags 4, entry_count 4, then the first entry: size 4, format 4, ...
        guard let p = walker.payload(of: stsd, limit: 4096),
            let entrySize = p.u32be(8), let format = p.u32be(12)
        else { return }
        let entry = p.sub(8, min(Int(min(entrySize, UInt32(Int32.max))), p.count - 8)) ?? p[p.endIndex...]
        var original = format
        if format == fourCC("encv") || format == fourCC("enca") {
            // Encrypted: the clear format is in sinf/frma inside the entry.
            if let frma = find(fourCC("frma"), in: entry), let clear = entry.u32be(frma + 4) { original = clear }
        }
        var codec = MP4Reader.codecName(original)
        if original == fourCC("mp4a"), let esds = find(fourCC("esds"), in: entry) {
            codec = MP4Reader.esdsAudioCodec(entry, esdsType: esds) ?? codec
        }
        track.codec = codec
        if track.width == nil, let w = entry.u16be(32), let h = entry.u16be(34), w > 0, h > 0,
            MP4Reader.isVisualFormat(original)
        {
            track.width = Int(w)
            track.height = Int(h)
        }
    }

    /// The offset of a four-character code inside `bytes`, past the 8-byte entry header.
    private func find(_ code: UInt32, in bytes: ArraySlice<UInt8>) -> Int? {
        var i = 8
        while let value = bytes.u32be(i) {
            if value == code { return i }
            i += 1
        }
        return nil
    }

    /// The title: iTunes-style `udta/meta/ilst/©nam/data`, or a QuickTime `udta/©nam` string.
    private func userDataTitle(_ udta: ISOBox) -> String? {
        var title: String?
        walker.forEachChild(from: udta.payload, to: udta.end) { box in
            switch box.type {
            case fourCC("meta"):
                title = metaTitle(box)
            case MP4Reader.nameAtom:
                // u16 length, u16 language, text
                if let p = walker.payload(of: box, limit: 1024), let length = p.u16be(0),
                    let text = p.sub(4, min(Int(length), p.count - 4))
                {
                    title = metadataText(text)
                }
            default:
                break
            }
            return title == nil
        }
        return title
    }

    private static let nameAtom: UInt32 = 0xA96E_616D  // "©nam"

    private func metaTitle(_ meta: ISOBox) -> String? {
        // ISO `meta` is a full box (4 bytes version/flags before the children);
        // QuickTime's is not. Tell them apart by where a child type appears.
        guard let probe = walker.reader.bytes(at: meta.payload, count: 8) else { return nil }
        let childrenStart = probe.u32be(4) == fourCC("hdlr") ? meta.payload : meta.payload + 4
        var title: String?
        walker.forEachChild(from: childrenStart, to: meta.end) { box in
            guard box.type == fourCC("ilst") else { return true }
            walker.forEachChild(from: box.payload, to: box.end) { item in
                guard item.type == MP4Reader.nameAtom else { return true }
                if let data = walker.firstChild(fourCC("data"), in: item),
                    let p = walker.payload(of: data, limit: 1024 + 8), p.u32be(0) == 1,  // 1: UTF-8
                    let text = p.suffix(from: 8)
                {
                    title = metadataText(text)
                }
                return false
            }
            return false
        }
        return title
    }

    static func isVisualFormat(_ format: UInt32) -> Bool {
        switch codecName(format) {
        case "h264", "hevc", "av1", "vp9", "vp8", "mpeg4", "h263", "mjpeg", "prores": true
        default: false
        }
    }

    /// The codec behind an `stsd` sample-entry format, named as ffmpeg names it.
    static func codecName(_ format: UInt32) -> String? {
        switch format {
        case fourCC("avc1"), fourCC("avc3"): "h264"
        case fourCC("hev1"), fourCC("hvc1"), fourCC("dvh1"), fourCC("dvhe"): "hevc"
        case fourCC("av01"): "av1"
        case fourCC("vp09"): "vp9"
        case fourCC("vp08"): "vp8"
        case fourCC("mp4v"): "mpeg4"
        case fourCC("s263"), fourCC("h263"): "h263"
        case fourCC("jpeg"), fourCC("mjpa"), fourCC("mjpb"): "mjpeg"
        case fourCC("apch"), fourCC("apcn"), fourCC("apcs"), fourCC("apco"), fourCC("ap4h"): "prores"
        case fourCC("mp4a"): "aac"
        case fourCC("ac-3"): "ac3"
        case fourCC("ec-3"): "eac3"
        case fourCC("Opus"): "opus"
        case fourCC(".mp3"): "mp3"
        case fourCC("fLaC"): "flac"
        case fourCC("alac"): "alac"
        case fourCC("samr"): "amr_nb"
        case fourCC("sawb"): "amr_wb"
        default: nil
        }
    }

    /// `mp4a` is a wrapper: the MPEG-4 object type in `esds` says whether it is AAC or MP3.
    static func esdsAudioCodec(_ entry: ArraySlice<UInt8>, esdsType offset: Int) -> String? {
        // After the type: version/flags 4, then the ES_Descriptor (tag 3).
        var i = offset + 8
        guard entry.u8(i) == 0x03 else { return nil }
        i += 1
        guard skipDescriptorLength(entry, &i), let flags = entry.u8(i + 2) else { return nil }
        i += 3
        if flags & 0x80 != 0 { i += 2 }
        if flags & 0x40 != 0 {
            guard let urlLength = entry.u8(i) else { return nil }
            i += 1 + Int(urlLength)
        }
        if flags & 0x20 != 0 { i += 2 }
        // DecoderConfigDescriptor (tag 4): objectTypeIndication first.
        guard entry.u8(i) == 0x04 else { return nil }
        i += 1
        guard skipDescriptorLength(entry, &i), let objectType = entry.u8(i) else { return nil }
        switch objectType {
        case 0x40, 0x66, 0x67, 0x68: return "aac"
        case 0x69, 0x6B: return "mp3"
        case 0xA5: return "ac3"
        case 0xA6: return "eac3"
        case 0xAD: return "opus"
        case 0xDD: return "vorbis"
        default: return nil
        }
    }

    /// MPEG-4 descriptor lengths are 1-4 bytes of 7 bits each.
    private static func skipDescriptorLength(_ bytes: ArraySlice<UInt8>, _ i: inout Int) -> Bool {
        for _ in 0..<4 {
            guard let byte = bytes.u8(i) else { return false }
            i += 1
            if byte & 0x80 == 0 { return true }
        }
        return true
    }
}
