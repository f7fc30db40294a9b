import WireVocabulary

/// Decides whether a file is media, and which kind, from its extension and
/// its first bytes.
///
/// Both have to agree: the extension picks the candidate type (so a `.jpg`
/// is only ever an image) and the magic bytes confirm it, so a text file
/// named `.jpg` or a JPEG renamed `.mp3` is not media.
///
/// ```swift
/// if let sniffed = try MediaSniffer.sniff(path: "/srv/media/holiday.mp4") {
///     print(sniffed.kind, sniffed.mimeType) // video video/mp4
/// }
/// ```
///
/// All methods are thread-safe.
public enum MediaSniffer {
    /// How many bytes ``sniff(path:)`` reads: enough for every signature
    /// checked, including the `ftyp` compatible brands that follow the major one.
    static let headerLength = 64

    /// Sniffs the file at `path`.
    ///
    /// Files whose extension is not a media extension are not opened at
    /// all. Otherwise the file is opened once and its first 64 bytes read
    /// with a single `pread`.
    ///
    /// - returns: The kind and MIME type, or nil if the file is not media or
    ///   its content does not match its extension (an empty file is not media).
    /// - throws: ``MediaProbeError`` if the file cannot be opened or read.
    public static func sniff(path: String) throws(MediaProbeError) -> SniffResult? {
        guard let ext = fileExtension(of: path), candidates[ext] != nil else { return nil }
        let file = try FileByteSource(path: path, measure: false)
        let header = try file.readPrefix(count: headerLength)
        return sniff(header: header, fileExtension: ext)
    }

    /// Sniffs a file from its first bytes (64 are enough) and its extension.
    ///
    /// - parameter header: The first bytes of the file.
    /// - parameter fileExtension: The extension, with or without the dot, in any case.
    /// - returns: The kind and MIME type, or nil if this is not media or the
    ///   bytes do not match the extension.
    public static func sniff(header: some Collection<UInt8>, fileExtension: String) -> SniffResult? {
        var ext = fileExtension.lowercased()
        if ext.hasPrefix(".") { ext.removeFirst() }
        guard let candidate = candidates[ext] else { return nil }
        let bytes = ArraySlice(header.prefix(headerLength))
        return candidate.check(bytes)
    }

    /// Whether `path` ends in one of the media extensions the sniffer knows
    /// (case-insensitive). Says nothing about the content: a file for which
    /// this is true but ``sniff(path:)`` returns nil is a mismatch, such as a
    /// text file named `.jpg`.
    public static func hasMediaExtension(_ path: String) -> Bool {
        fileExtension(of: path).map { candidates[$0] != nil } ?? false
    }

    /// The lowercased extension of the last path component, if it has one.
    static func fileExtension(of path: String) -> String? {
        let utf8 = path.utf8
        guard let dot = utf8.lastIndex(of: UInt8(ascii: ".")) else { return nil }
        if let slash = utf8.lastIndex(of: UInt8(ascii: "/")), slash > dot { return nil }
        let ext = path[path.index(after: dot)...]
        guard !ext.isEmpty, ext.utf8.count <= 8 else { return nil }
        return ext.lowercased()
    }

    /// What an extension claims, and how its content is checked.
    struct Candidate: Sendable {
        /// The kind when the extension alone decides it (all but `.mp4`).
        let kind: MediaKind?
        let check: @Sendable (ArraySlice<UInt8>) -> SniffResult?

        init(_ kind: MediaKind, _ mime: String, _ matches: @escaping @Sendable (ArraySlice<UInt8>) -> Bool) {
            let result = SniffResult(kind: kind, mimeType: mime)
            self.kind = kind
            check = { matches($0) ? result : nil }
        }

        init(check: @escaping @Sendable (ArraySlice<UInt8>) -> SniffResult?) {
            self.kind = nil
            self.check = check
        }
    }

    static let candidates: [String: Candidate] = {
        let jpeg = Candidate(.image, "image/jpeg", Signature.isJPEG)
        let tiff = Candidate(.image, "image/tiff", Signature.isTIFF)
        let ogg = Candidate(.audio, "audio/ogg", Signature.isOgg)
        let isoVideo = Candidate { bytes in
            switch Signature.isoBrand(bytes) {
            case .video?: SniffResult(kind: .video, mimeType: "video/mp4")
            case .audio?: SniffResult(kind: .audio, mimeType: "audio/mp4")
            case .image?, nil: nil
            }
        }
        let transportStream = Candidate(.video, "video/mp2t", Signature.isTransportStream)
        let programStream = Candidate(.video, "video/mpeg", Signature.isProgramStream)
        return [
            "jpg": jpeg, "jpeg": jpeg,
            "png": Candidate(.image, "image/png", Signature.isPNG),
            "gif": Candidate(.image, "image/gif", Signature.isGIF),
            "webp": Candidate(.image, "image/webp", Signature.isWebP),
            "heic": Candidate(.image, "image/heic") { Signature.isoBrand($0) == .image },
            "tif": tiff, "tiff": tiff,
            "bmp": Candidate(.image, "image/bmp", Signature.isBMP),

            "mp3": Candidate(.audio, "audio/mpeg") { Signature.isID3($0) || Signature.isMPEGAudioFrame($0) },
            "flac": Candidate(.audio, "audio/flac") { Signature.isFLAC($0) || Signature.isID3($0) },
            "ogg": ogg, "oga": ogg, "opus": ogg,
            "m4a": Candidate(.audio, "audio/mp4") { [.audio, .video].contains(Signature.isoBrand($0)) },
            "aac": Candidate(.audio, "audio/aac") {
                Signature.isADTS($0) || Signature.isID3($0) || $0.matches(0, "ADIF")
            },
            "wav": Candidate(.audio, "audio/wav", Signature.isWAVE),
            "wma": Candidate(.audio, "audio/x-ms-wma", Signature.isASF),

            "mp4": isoVideo,
            "m4v": Candidate(.video, "video/x-m4v") { Signature.isoBrand($0) == .video },
            "mov": Candidate(.video, "video/quicktime") {
                Signature.isoBrand($0) == .video || Signature.isQuickTimeAtom($0)
            },
            "3gp": Candidate(.video, "video/3gpp") { Signature.isoBrand($0) == .video },
            "mkv": Candidate(.video, "video/x-matroska", Signature.isEBML),
            "webm": Candidate(.video, "video/webm", Signature.isEBML),
            "avi": Candidate(.video, "video/x-msvideo", Signature.isAVI),
            "ts": transportStream, "m2ts": transportStream,
            "mpg": programStream, "mpeg": programStream,
            "wmv": Candidate(.video, "video/x-ms-wmv", Signature.isASF),

            "srt": Candidate(.subtitle, "text/srt", Signature.isSubRip),
            "vtt": Candidate(.subtitle, "text/vtt", Signature.isWebVTT),
            "ass": Candidate(.subtitle, "text/x-ssa", Signature.isSubStationAlpha),
            "ssa": Candidate(.subtitle, "text/x-ssa", Signature.isSubStationAlpha),
        ]
    }()
}

/// Magic-byte tests, shared by the sniffer and by ``MediaProbe``'s choice of reader.
enum Signature {
    enum BrandClass: Sendable, Equatable {
        case image, audio, video
    }

    static let asfHeaderGUID: [UInt8] = [
        0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C,
    ]

    static func isJPEG(_ b: ArraySlice<UInt8>) -> Bool { b.matches(0, [0xFF, 0xD8, 0xFF]) }
    static func isPNG(_ b: ArraySlice<UInt8>) -> Bool {
        b.matches(0, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    }
    static func isGIF(_ b: ArraySlice<UInt8>) -> Bool { b.matches(0, "GIF87a") || b.matches(0, "GIF89a") }
    static func isRIFF(_ b: ArraySlice<UInt8>, form: StaticString) -> Bool {
        b.matches(0, "RIFF") && b.matches(8, form)
    }
    static func isWebP(_ b: ArraySlice<UInt8>) -> Bool { isRIFF(b, form: "WEBP") }
    static func isAVI(_ b: ArraySlice<UInt8>) -> Bool { isRIFF(b, form: "AVI ") }
    static func isWAVE(_ b: ArraySlice<UInt8>) -> Bool {
        // RF64 and BW64 are the 64-bit-size variants for WAVs past 4 GiB.
        (b.matches(0, "RIFF") || b.matches(0, "RF64") || b.matches(0, "BW64"))
            && b.matches(8, "WAVE")
    }
    static func isTIFF(_ b: ArraySlice<UInt8>) -> Bool {
        // 42 is classic TIFF, 43 BigTIFF.
        b.matches(0, "II") && (b.u16le(2) == 42 || b.u16le(2) == 43)
            || b.matches(0, "MM") && (b.u16be(2) == 42 || b.u16be(2) == 43)
    }
    static func isBMP(_ b: ArraySlice<UInt8>) -> Bool {
        // "BM" alone is too weak; the DIB header size must be one of the defined ones.
        guard b.matches(0, "BM"), let dib = b.u32le(14) else { return false }
        return [12, 16, 40, 52, 56, 64, 108, 124].contains(dib)
    }
    static func isID3(_ b: ArraySlice<UInt8>) -> Bool {
        guard b.matches(0, "ID3"), let major = b.u8(3), let revision = b.u8(4) else { return false }
        return major != 0xFF && revision != 0xFF
    }
    static func isMPEGAudioFrame(_ b: ArraySlice<UInt8>) -> Bool {
        guard let b0 = b.u8(0), let b1 = b.u8(1), let b2 = b.u8(2) else { return false }
        return b0 == 0xFF && b1 & 0xE0 == 0xE0
            && (b1 >> 3) & 0x3 != 1  // version: reserved
            && (b1 >> 1) & 0x3 != 0  // layer: reserved (ADTS uses 0)
            && b2 >> 4 != 0xF  // bitrate: bad
            && (b2 >> 2) & 0x3 != 3  // sample rate: reserved
    }
    static func isADTS(_ b: ArraySlice<UInt8>) -> Bool {
        guard let b0 = b.u8(0), let b1 = b.u8(1) else { return false }
        return b0 == 0xFF && b1 & 0xF6 == 0xF0
    }
    static func isFLAC(_ b: ArraySlice<UInt8>) -> Bool { b.matches(0, "fLaC") }
    static func isOgg(_ b: ArraySlice<UInt8>) -> Bool { b.matches(0, "OggS") }
    static func isEBML(_ b: ArraySlice<UInt8>) -> Bool { b.matches(0, [0x1A, 0x45, 0xDF, 0xA3]) }
    static func isASF(_ b: ArraySlice<UInt8>) -> Bool { b.matches(0, asfHeaderGUID) }
    static func isTransportStream(_ b: ArraySlice<UInt8>) -> Bool {
        // M2TS (Blu-ray, AVCHD) prefixes each 188-byte packet with a 4-byte timestamp.
        // One sync byte is only a "G", and `.ts` is also TypeScript: a
        // packet header and its payload always hold binary bytes, text does not.
        (b.u8(0) == 0x47 || b.u8(4) == 0x47) && b.contains { $0 < 0x09 || (0x0E...0x1F).contains($0) || $0 == 0xFF }
    }
    static func isProgramStream(_ b: ArraySlice<UInt8>) -> Bool {
        // A pack header, or a bare MPEG-1/2 video elementary stream (sequence header).
        b.matches(0, [0x00, 0x00, 0x01, 0xBA]) || b.matches(0, [0x00, 0x00, 0x01, 0xB3])
    }
    /// Subtitle files are text, so their checks look at the first lines, after a UTF-8 byte order mark if any.
    static func textAfterBOM(_ b: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        b.starts(with: [0xEF, 0xBB, 0xBF]) ? b.dropFirst(3) : b
    }

    /// SubRip: blank lines, then a cue number alone on its line, then a timing line `00:00:01,000 --> ...`.
    static func isSubRip(_ b: ArraySlice<UInt8>) -> Bool {
        let text = textAfterBOM(b).drop { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }
        let number = text.prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        guard (1...9).contains(number.count) else { return false }
        var rest = text.dropFirst(number.count)
        while rest.first == UInt8(ascii: " ") { rest = rest.dropFirst() }
        if rest.first == UInt8(ascii: "\r") { rest = rest.dropFirst() }
        guard rest.first == UInt8(ascii: "\n") else { return false }
        let timing = rest.dropFirst().prefix { $0 != UInt8(ascii: "\n") }
        guard let first = timing.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        let arrow = Array("-->".utf8)
        return timing.indices.contains { timing[$0...].starts(with: arrow) }
    }

    /// WebVTT: the file starts with `WEBVTT`, then a space, a tab or the end of the line.
    static func isWebVTT(_ b: ArraySlice<UInt8>) -> Bool {
        let text = textAfterBOM(b)
        guard text.starts(with: Array("WEBVTT".utf8)) else { return false }
        let next = text.dropFirst(6).first
        return next == nil
            || [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n")]
                .contains(next!)
    }

    /// SubStation Alpha and Advanced SubStation Alpha: the first section is `[Script Info]`.
    static func isSubStationAlpha(_ b: ArraySlice<UInt8>) -> Bool {
        let text = textAfterBOM(b).drop { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }
        return text.starts(with: Array("[Script Info]".utf8))
    }

    /// Old QuickTime files start with a `moov`/`mdat`/... atom instead of `ftyp`.
    static func isQuickTimeAtom(_ b: ArraySlice<UInt8>) -> Bool {
        guard let type = b.u32be(4) else { return false }
        return [fourCC("moov"), fourCC("mdat"), fourCC("wide"), fourCC("free"), fourCC("skip"), fourCC("pnot")]
            .contains(type)
    }

    /// The class of an ISO base media file (MP4, QuickTime, 3GP, HEIF) by
    /// its `ftyp` major brand, or nil if it does not start with `ftyp`.
    /// HEIF writers put an image brand (`heic`, `mif1`, ...) first; anything
    /// that is neither image nor audio-only is a movie.
    static func isoBrand(_ b: ArraySlice<UInt8>) -> BrandClass? {
        guard b.u32be(4) == fourCC("ftyp"), let major = b.u32be(8) else { return nil }
        if imageBrands.contains(major) { return .image }
        if audioBrands.contains(major) { return .audio }
        return .video
    }

    static let imageBrands: Set<UInt32> = [
        fourCC("heic"), fourCC("heix"), fourCC("heim"), fourCC("heis"), fourCC("hevc"), fourCC("hevx"),
        fourCC("mif1"), fourCC("msf1"), fourCC("avif"), fourCC("avis"),
    ]
    static let audioBrands: Set<UInt32> = [
        fourCC("M4A "), fourCC("M4B "), fourCC("M4P "), fourCC("F4A "), fourCC("F4B "),
    ]
}
