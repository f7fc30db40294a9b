import WireVocabulary

/// Duration and codecs of MPEG transport streams (`.ts`, `.m2ts`) and
/// program streams (`.mpg`), which have no header: the start and the end of
/// the file are sampled (a fixed window each) and the duration is the
/// distance between the first and last presentation timestamps.
struct MPEGStreamReader {
    /// Bytes sampled at each end of the file.
    static let window = 256 << 10
    /// Bytes sampled at the start of a transport stream: the program tables
    /// repeat about every 100 ms, which is 256 KiB of a 20 Mbit/s broadcast.
    static let transportStreamHead = 1 << 20
    /// PTS ticks per second.
    static let clock: UInt64 = 90_000
    /// PTS is a 33-bit counter that wraps (every 26.5 hours).
    static let ptsModulus: UInt64 = 1 << 33

    private let reader: BoundedReader

    init(reader: BoundedReader) {
        self.reader = reader
    }

    // MARK: Transport stream

    func readTransportStream() -> MediaMetadata {
        var metadata = MediaMetadata()
        guard let head = reader.bytes(upTo: Self.transportStreamHead, at: 0) else { return metadata }
        // 188-byte packets, or 192 with a 4-byte timestamp first (M2TS).
        let layout: (size: Int, sync: Int)
        if head.u8(0) == 0x47, head.u8(188) == 0x47 || head.count <= 188 {
            layout = (188, 0)
        } else if head.u8(4) == 0x47, head.u8(196) == 0x47 || head.count <= 196 {
            layout = (192, 4)
        } else {
            return metadata
        }

        var pmtPID: Int?
        var streams: [(pid: Int, type: UInt8, codec: String?)] = []
        var firstPTS: [Int: UInt64] = [:]
        forEachPacket(head, layout) { pid, unitStart, payload in
            guard unitStart else { return }
            if pid == 0, pmtPID == nil {
                pmtPID = Self.pmtPID(fromPAT: payload)
            } else if pid == pmtPID, streams.isEmpty {
                streams = Self.streams(fromPMT: payload)
            } else if firstPTS[pid] == nil, let pts = Self.pesTimestamp(payload) {
                firstPTS[pid] = pts
            }
        }
        let video = streams.first { Self.isVideo($0.type) }
        let audio = streams.first { !Self.isVideo($0.type) && $0.codec != nil }
        metadata.videoCodec = video?.codec
        metadata.audioCodec = audio?.codec

        // Time the stream on the video PID if there is one.
        guard let timed = video ?? audio ?? streams.first, let first = firstPTS[timed.pid] else { return metadata }
        let size = Int64(layout.size)
        let packets = reader.size / size
        let tailStart = max(0, packets - Int64(Self.window) / size) * size
        guard let tail = reader.bytes(upTo: Self.window, at: tailStart) else { return metadata }
        var latest = Latest(first: first)
        forEachPacket(tail, layout) { pid, unitStart, payload in
            if unitStart, pid == timed.pid, let pts = Self.pesTimestamp(payload) { latest.add(pts) }
        }
        metadata.durationMilliseconds = latest.durationMilliseconds
        return metadata
    }

    /// The latest presentation time seen after `first`. With B-frames the
    /// last packet in file order is not the last one shown, so the largest
    /// distance from `first` (modulo the 33-bit wrap) wins; a "distance" of
    /// more than half the range is a timestamp before `first`, ignored.
    struct Latest {
        let first: UInt64
        private var ticks: UInt64 = 0

        init(first: UInt64) {
            self.first = first
        }

        mutating func add(_ pts: UInt64) {
            let distance = (pts &+ MPEGStreamReader.ptsModulus &- first) % MPEGStreamReader.ptsModulus
            if distance < MPEGStreamReader.ptsModulus / 2 { ticks = max(ticks, distance) }
        }

        var durationMilliseconds: Int64? {
            ticks > 0 ? milliseconds(units: ticks, timescale: MPEGStreamReader.clock) : nil
        }
    }

    /// Calls `body` with (PID, payload_unit_start, payload) for each packet in `bytes`.
    private func forEachPacket(
        _ bytes: ArraySlice<UInt8>, _ layout: (size: Int, sync: Int), _ body: (Int, Bool, ArraySlice<UInt8>) -> Void
    ) {
        var offset = layout.sync
        while let packet = bytes.sub(offset, 188) {
            offset += layout.size
            guard packet.u8(0) == 0x47, let b1 = packet.u8(1), let b2 = packet.u8(2), let b3 = packet.u8(3) else {
                continue
            }
            let pid = Int(b1 & 0x1F) << 8 | Int(b2)
            let control = (b3 >> 4) & 0x3
            guard control & 0x1 != 0 else { continue }
            var start = 4
            if control & 0x2 != 0 {
                guard let adaptationLength = packet.u8(4) else { continue }
                start += 1 + Int(adaptationLength)
            }
            guard let payload = packet.suffix(from: start), !payload.isEmpty else { continue }
            body(pid, b1 & 0x40 != 0, payload)
        }
    }

    /// The PID of the first program's map table, from a PAT section.
    static func pmtPID(fromPAT payload: ArraySlice<UInt8>) -> Int? {
        guard let pointer = payload.u8(0), let section = payload.suffix(from: 1 + Int(pointer)),
            section.u8(0) == 0x00, let length = section.u16be(1).map({ Int($0 & 0x0FFF) })
        else { return nil }
        // Entries from byte 8 to the CRC: program number 2, PID 2 (13 bits).
        var i = 8
        while i + 4 <= min(3 + length - 4, section.count), let program = section.u16be(i),
            let pid = section.u16be(i + 2)
        {
            if program != 0 { return Int(pid & 0x1FFF) }
            i += 4
        }
        return nil
    }

    /// The elementary streams of a PMT section: PID, stream type and codec name.
    static func streams(fromPMT payload: ArraySlice<UInt8>) -> [(pid: Int, type: UInt8, codec: String?)] {
        guard let pointer = payload.u8(0), let section = payload.suffix(from: 1 + Int(pointer)),
            section.u8(0) == 0x02, let length = section.u16be(1).map({ Int($0 & 0x0FFF) }),
            let infoLength = section.u16be(10).map({ Int($0 & 0x0FFF) })
        else { return [] }
        let end = min(3 + length - 4, section.count)
        var streams: [(pid: Int, type: UInt8, codec: String?)] = []
        var i = 12 + infoLength
        while i + 5 <= end, streams.count < 64, let type = section.u8(i), let pid = section.u16be(i + 1),
            let esInfoLength = section.u16be(i + 3).map({ Int($0 & 0x0FFF) })
        {
            let descriptors = section.sub(i + 5, max(0, min(esInfoLength, end - i - 5))) ?? []
            streams.append((Int(pid & 0x1FFF), type, codecName(streamType: type, descriptors: descriptors)))
            i += 5 + esInfoLength
        }
        return streams
    }

    static func isVideo(_ type: UInt8) -> Bool {
        [0x01, 0x02, 0x10, 0x1B, 0x24, 0xEA].contains(type)
    }

    static func codecName(streamType: UInt8, descriptors: ArraySlice<UInt8>) -> String? {
        switch streamType {
        case 0x01: return "mpeg1video"
        case 0x02: return "mpeg2video"
        case 0x10: return "mpeg4"
        case 0x1B: return "h264"
        case 0x24: return "hevc"
        case 0xEA: return "vc1"
        case 0x0F, 0x11: return "aac"
        case 0x81: return "ac3"
        case 0x87: return "eac3"
        case 0x06:
            // PES private data: DVB says what it is with a descriptor.
            var i = 0
            while let tag = descriptors.u8(i), let length = descriptors.u8(i + 1) {
                switch tag {
                case 0x6A: return "ac3"
                case 0x7A: return "eac3"
                case 0x7B: return "dts"
                case 0x05 where descriptors.matches(i + 2, "Opus"): return "opus"
                case 0x05 where descriptors.matches(i + 2, "AC-3"): return "ac3"
                default: break
                }
                i += 2 + Int(length)
            }
            return nil
        default:
            // 0x03/0x04 (MPEG audio) may be layer 2 or 3: the PMT cannot say which.
            return nil
        }
    }

    /// The PTS of a PES packet starting at `payload`, if it has one.
    static func pesTimestamp(_ payload: ArraySlice<UInt8>) -> UInt64? {
        guard let header = pesHeader(payload), let at = header.pts else { return nil }
        return timestamp(payload, at: at)
    }

    /// Where a PES packet's PTS (if any) and its data start: MPEG-2 headers
    /// give a header length; MPEG-1 ones (program streams) are stuffing, an
    /// optional buffer size and then the timestamps.
    static func pesHeader(_ payload: ArraySlice<UInt8>) -> (pts: Int?, data: Int)? {
        guard payload.matches(0, [0x00, 0x00, 0x01]), let streamID = payload.u8(3) else { return nil }
        if let marker = payload.u8(6), marker & 0xC0 == 0x80 {
            guard let flags = payload.u8(7), let length = payload.u8(8) else { return nil }
            return (flags & 0x80 != 0 ? 9 : nil, 9 + Int(length))
        }
        // Padding and private stream 2 have no timestamps in either form.
        guard streamID >= 0xC0 || streamID == 0xBD else { return nil }
        var i = 6
        while payload.u8(i) == 0xFF, i < 22 { i += 1 }
        if let byte = payload.u8(i), byte & 0xC0 == 0x40 { i += 2 }
        guard let byte = payload.u8(i) else { return nil }
        switch byte & 0xF0 {
        case 0x20: return (i, i + 5)
        case 0x30: return (i, i + 10)
        default: return byte == 0x0F ? (nil, i + 1) : nil
        }
    }

    /// A 33-bit timestamp spread over 5 bytes with marker bits.
    static func timestamp(_ bytes: ArraySlice<UInt8>, at i: Int) -> UInt64? {
        guard let b0 = bytes.u8(i), let b12 = bytes.u16be(i + 1), let b34 = bytes.u16be(i + 3) else { return nil }
        return UInt64((b0 >> 1) & 0x07) << 30 | UInt64(b12 >> 1) << 15 | UInt64(b34 >> 1)
    }

    // MARK: Program stream

    func readProgramStream() -> MediaMetadata {
        var metadata = MediaMetadata()
        guard let head = reader.bytes(upTo: Self.window, at: 0) else { return metadata }
        var first: UInt64?
        var videoID: UInt8?
        var sequenceHeader = false
        var mpeg2 = false
        Self.forEachStartCode(head) { code, at in
            switch code {
            case 0xB3 where !sequenceHeader:
                // Sequence header: 12 bits width, 12 bits height.
                sequenceHeader = true
                if let size = head.u24be(at + 4),
                    let (w, h) = ImageReader.dimensions(UInt64(size >> 12), UInt64(size & 0xFFF))
                {
                    metadata.width = w
                    metadata.height = h
                }
            case 0xB5:
                // A sequence extension (id 1) exists only in MPEG-2 video.
                if head.u8(at + 4).map({ $0 >> 4 == 1 }) == true { mpeg2 = true }
            case 0xE0...0xEF:
                if videoID == nil { videoID = code }
                if code == videoID, first == nil, let payload = head.suffix(from: at) {
                    first = Self.pesTimestamp(payload)
                }
            case 0xBD, 0xC0...0xDF:
                if metadata.audioCodec == nil, let payload = head.suffix(from: at) {
                    metadata.audioCodec = Self.programStreamAudio(code, payload)
                }
            default:
                break
            }
            return true
        }
        if sequenceHeader { metadata.videoCodec = mpeg2 ? "mpeg2video" : "mpeg1video" }
        guard let videoID, let first else { return metadata }
        let tailStart = max(0, reader.size - Int64(Self.window))
        guard let tail = reader.bytes(upTo: Self.window, at: tailStart) else { return metadata }
        var latest = Latest(first: first)
        Self.forEachStartCode(tail) { code, at in
            if code == videoID, let payload = tail.suffix(from: at), let pts = Self.pesTimestamp(payload) {
                latest.add(pts)
            }
            return true
        }
        metadata.durationMilliseconds = latest.durationMilliseconds
        return metadata
    }

    /// The codec of a program stream audio PES packet: MPEG audio (stream
    /// 0xC0-0xDF, layer from the frame header) or DVD private stream 1 (0xBD,
    /// by substream number).
    static func programStreamAudio(_ streamID: UInt8, _ payload: ArraySlice<UInt8>) -> String? {
        guard let data = pesHeader(payload)?.data else { return nil }
        if streamID == 0xBD {
            switch payload.u8(data) {
            case (0x80...0x87)?: return "ac3"
            case (0x88...0x8F)?: return "dts"
            case (0xA0...0xA7)?: return "pcm"
            default: return nil
            }
        }
        guard payload.u8(data) == 0xFF, let b1 = payload.u8(data + 1), b1 & 0xE0 == 0xE0 else { return nil }
        switch (b1 >> 1) & 0x3 {
        case 1: return "mp3"
        case 2: return "mp2"
        default: return nil
        }
    }

    /// Calls `body` with the code byte and offset of each `00 00 01 xx` start code.
    static func forEachStartCode(_ bytes: ArraySlice<UInt8>, _ body: (UInt8, Int) -> Bool) {
        var i = bytes.startIndex
        let end = bytes.endIndex - 3
        while i < end {
            if bytes[i + 2] > 1 {
                i += 3
            } else if bytes[i] == 0, bytes[i + 1] == 0, bytes[i + 2] == 1 {
                guard body(bytes[i + 3], i - bytes.startIndex) else { return }
                i += 4
            } else {
                i += 1
            }
        }
    }
}
