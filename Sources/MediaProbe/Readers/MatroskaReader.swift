import WireVocabulary

/// Duration, dimensions, codecs and title of a Matroska or WebM file, from
/// the Segment's `Info` and `Tracks`.
///
/// The Segment's children are walked by header; the walk stops at the first
/// `Cluster` (media data, never read), and the `SeekHead` index is followed
/// to find `Info`/`Tracks` written after the clusters.
struct MatroskaReader {
    enum ID {
        static let ebml: UInt32 = 0x1A45_DFA3
        static let segment: UInt32 = 0x1853_8067
        static let seekHead: UInt32 = 0x114D_9B74
        static let seek: UInt32 = 0x4DBB
        static let seekID: UInt32 = 0x53AB
        static let seekPosition: UInt32 = 0x53AC
        static let info: UInt32 = 0x1549_A966
        static let timecodeScale: UInt32 = 0x2A_D7B1
        static let duration: UInt32 = 0x4489
        static let title: UInt32 = 0x7BA9
        static let tracks: UInt32 = 0x1654_AE6B
        static let trackEntry: UInt32 = 0xAE
        static let trackType: UInt32 = 0x83
        static let codecID: UInt32 = 0x86
        static let video: UInt32 = 0xE0
        static let pixelWidth: UInt32 = 0xB0
        static let pixelHeight: UInt32 = 0xBA
        static let cluster: UInt32 = 0x1F43_B675
    }

    /// Segment children examined in the linear walk.
    static let maxSegmentChildren = 512
    /// SeekHeads followed (a file may have a second one, pointed to by the first).
    static let maxSeekHeads = 4
    /// The largest Info/Tracks/SeekHead payload read; Tracks with big
    /// CodecPrivate blobs are parsed as far as this goes.
    static let maxMasterPayload = 256 << 10

    struct Element {
        let id: UInt32
        let dataStart: Int64
        /// nil when the element has the "unknown size" marker (live streams).
        let size: Int64?
        /// Where the element ends: clamped to its parent, the parent's end if unknown.
        let end: Int64
    }

    private let reader: BoundedReader

    init(reader: BoundedReader) {
        self.reader = reader
    }

    func read() -> MediaMetadata {
        var metadata = MediaMetadata()
        guard let ebml = element(at: 0, parentEnd: reader.size), ebml.id == ID.ebml else { return metadata }
        var offset = ebml.end
        // Tolerate a few stray top-level elements (Void) before the Segment.
        for _ in 0..<8 {
            guard let top = element(at: offset, parentEnd: reader.size) else { return metadata }
            if top.id == ID.segment {
                readSegment(top, into: &metadata)
                return metadata
            }
            guard top.size != nil, top.end > offset else { return metadata }
            offset = top.end
        }
        return metadata
    }

    private func readSegment(_ segment: Element, into metadata: inout MediaMetadata) {
        var seekTargets: [(id: UInt32, position: Int64)] = []
        var haveInfo = false
        var haveTracks = false
        var seekHeadsRead = 0
        var offset = segment.dataStart
        var count = 0
        while count < Self.maxSegmentChildren, !(haveInfo && haveTracks),
            let child = element(at: offset, parentEnd: segment.end)
        {
            count += 1
            switch child.id {
            case ID.cluster:
                count = Self.maxSegmentChildren
                continue
            case ID.info:
                readInfo(child, into: &metadata)
                haveInfo = true
            case ID.tracks:
                readTracks(child, into: &metadata)
                haveTracks = true
            case ID.seekHead where seekHeadsRead < Self.maxSeekHeads:
                seekHeadsRead += 1
                seekTargets += readSeekHead(child)
            default:
                break
            }
            // An element of unknown size cannot be skipped.
            guard child.size != nil, child.end > offset else { break }
            offset = child.end
        }

        // Info/Tracks after the clusters: jump there through the SeekHead(s).
        var index = 0
        while index < seekTargets.count, index < 64, !(haveInfo && haveTracks) {
            let target = seekTargets[index]
            index += 1
            let (position, overflow) = segment.dataStart.addingReportingOverflow(target.position)
            guard !overflow, let child = element(at: position, parentEnd: segment.end), child.id == target.id else {
                continue
            }
            switch child.id {
            case ID.info where !haveInfo:
                readInfo(child, into: &metadata)
                haveInfo = true
            case ID.tracks where !haveTracks:
                readTracks(child, into: &metadata)
                haveTracks = true
            case ID.seekHead where seekHeadsRead < Self.maxSeekHeads:
                seekHeadsRead += 1
                seekTargets += readSeekHead(child)
            default:
                break
            }
        }
    }

    private func readSeekHead(_ seekHead: Element) -> [(id: UInt32, position: Int64)] {
        guard let payload = payload(of: seekHead) else { return [] }
        var targets: [(id: UInt32, position: Int64)] = []
        Self.forEachChild(of: payload) { id, data in
            guard id == ID.seek else { return }
            var seekID: UInt32?
            var position: UInt64?
            Self.forEachChild(of: data) { id, data in
                switch id {
                case ID.seekID: seekID = Self.unsigned(data).flatMap { $0 <= UInt64(UInt32.max) ? UInt32($0) : nil }
                case ID.seekPosition: position = Self.unsigned(data)
                default: break
                }
            }
            if let seekID, let position, position <= UInt64(Int64.max),
                [ID.info, ID.tracks, ID.seekHead].contains(seekID)
            {
                targets.append((seekID, Int64(position)))
            }
        }
        return targets
    }

    private func readInfo(_ info: Element, into metadata: inout MediaMetadata) {
        guard let payload = payload(of: info) else { return }
        var scale: UInt64 = 1_000_000  // nanoseconds per tick, the default
        var duration: Double?
        Self.forEachChild(of: payload) { id, data in
            switch id {
            case ID.timecodeScale:
                if let value = Self.unsigned(data), value > 0 { scale = value }
            case ID.duration:
                duration = Self.float(data)
            case ID.title:
                metadata.title = metadataText(data)
            default:
                break
            }
        }
        if let duration {
            metadata.durationMilliseconds = milliseconds(fromDouble: duration * Double(scale) / 1_000_000)
        }
    }

    private func readTracks(_ tracks: Element, into metadata: inout MediaMetadata) {
        guard let payload = payload(of: tracks) else { return }
        Self.forEachChild(of: payload) { id, entry in
            guard id == ID.trackEntry else { return }
            var type: UInt64?
            var codec: String?
            var width: UInt64?
            var height: UInt64?
            Self.forEachChild(of: entry) { id, data in
                switch id {
                case ID.trackType: type = Self.unsigned(data)
                case ID.codecID: codec = metadataText(data, maxBytes: 64).flatMap(Self.codecName)
                case ID.video:
                    Self.forEachChild(of: data) { id, data in
                        switch id {
                        case ID.pixelWidth: width = Self.unsigned(data)
                        case ID.pixelHeight: height = Self.unsigned(data)
                        default: break
                        }
                    }
                default: break
                }
            }
            switch type {
            case 1? where metadata.videoCodec == nil && metadata.width == nil:
                metadata.videoCodec = codec
                if let width, let height, width > 0, height > 0, width <= 1 << 20, height <= 1 << 20 {
                    metadata.width = Int(width)
                    metadata.height = Int(height)
                }
            case 2? where metadata.audioCodec == nil:
                metadata.audioCodec = codec
            default:
                break
            }
        }
    }

    /// The payload of a master element, capped at ``maxMasterPayload``.
    private func payload(of element: Element) -> ArraySlice<UInt8>? {
        reader.bytes(
            upTo: Int(min(element.end - element.dataStart, Int64(Self.maxMasterPayload))), at: element.dataStart)
    }

    /// The element header at `offset` in the file.
    func element(at offset: Int64, parentEnd: Int64) -> Element? {
        guard offset >= 0, offset < parentEnd,
            let bytes = reader.bytes(upTo: 12, at: offset),
            let header = Self.header(bytes, at: 0)
        else { return nil }
        let dataStart = offset + Int64(header.length)
        guard dataStart <= parentEnd else { return nil }
        guard let size = header.size else {
            return Element(id: header.id, dataStart: dataStart, size: nil, end: parentEnd)
        }
        let (end, overflow) = dataStart.addingReportingOverflow(size)
        return Element(id: header.id, dataStart: dataStart, size: size, end: overflow ? parentEnd : min(end, parentEnd))
    }

    /// An element header in memory: the ID (marker bits kept, as IDs are
    /// written in specs), the size (nil for "unknown") and the header length.
    static func header(_ bytes: ArraySlice<UInt8>, at offset: Int) -> (id: UInt32, size: Int64?, length: Int)? {
        guard let first = bytes.u8(offset), first != 0 else { return nil }
        let idLength = first.leadingZeroBitCount + 1
        guard idLength <= 4 else { return nil }
        var id = UInt32(first)
        for k in 1..<idLength {
            guard let byte = bytes.u8(offset + k) else { return nil }
            id = id << 8 | UInt32(byte)
        }
        guard let sizeFirst = bytes.u8(offset + idLength), sizeFirst != 0 else { return nil }
        let sizeLength = sizeFirst.leadingZeroBitCount + 1
        var size = UInt64(sizeFirst & (0xFF >> sizeLength))
        var allOnes = size == UInt64(0xFF >> sizeLength)
        for k in 1..<sizeLength {
            guard let byte = bytes.u8(offset + idLength + k) else { return nil }
            size = size << 8 | UInt64(byte)
            allOnes = allOnes && byte == 0xFF
        }
        // At most 56 bits: always fits Int64.
        return (id, allOnes ? nil : Int64(size), idLength + sizeLength)
    }

    /// Calls `body` with each child element in an in-memory master payload.
    /// Children of unknown size run to the end of the payload; the walk
    /// stops at the first malformed header.
    static func forEachChild(of payload: ArraySlice<UInt8>, _ body: (UInt32, ArraySlice<UInt8>) -> Void) {
        var offset = 0
        var count = 0
        while count < 4096, offset < payload.count, let header = header(payload, at: offset) {
            count += 1
            let dataStart = offset + header.length
            let available = payload.count - dataStart
            guard available >= 0 else { return }
            let length = header.size.map { Int(min($0, Int64(available))) } ?? available
            guard let data = payload.sub(dataStart, length) else { return }
            body(header.id, data)
            offset = dataStart + length
        }
    }

    static func unsigned(_ data: ArraySlice<UInt8>) -> UInt64? {
        guard data.count <= 8 else { return nil }
        return data.reduce(0) { $0 << 8 | UInt64($1) }
    }

    static func float(_ data: ArraySlice<UInt8>) -> Double? {
        switch data.count {
        case 4: data.u32be(0).map { Double(Float(bitPattern: $0)) }
        case 8: data.u64be(0).map { Double(bitPattern: $0) }
        default: nil
        }
    }

    /// The codec behind a Matroska CodecID, named as ffmpeg names it.
    static func codecName(_ codecID: String) -> String? {
        switch codecID {
        case "V_MPEG4/ISO/AVC": return "h264"
        case "V_MPEGH/ISO/HEVC": return "hevc"
        case "V_VP8": return "vp8"
        case "V_VP9": return "vp9"
        case "V_AV1": return "av1"
        case "V_MPEG1": return "mpeg1video"
        case "V_MPEG2": return "mpeg2video"
        case "V_MPEG4/ISO/SP", "V_MPEG4/ISO/ASP", "V_MPEG4/ISO/AP": return "mpeg4"
        case "V_THEORA": return "theora"
        case "V_PRORES": return "prores"
        case "A_OPUS": return "opus"
        case "A_VORBIS": return "vorbis"
        case "A_AC3": return "ac3"
        case "A_EAC3": return "eac3"
        case "A_FLAC": return "flac"
        case "A_MPEG/L3": return "mp3"
        case "A_MPEG/L2": return "mp2"
        case "A_TRUEHD": return "truehd"
        case "A_ALAC": return "alac"
        default:
            if codecID.hasPrefix("A_AAC") { return "aac" }
            if codecID.hasPrefix("A_DTS") { return "dts" }
            if codecID.hasPrefix("A_PCM/") { return "pcm" }
            return nil
        }
    }
}
