/// The kinds of media the index tracks.
public enum MediaKind: String, Codable, Sendable, CaseIterable {
    case video, audio, image
    /// A subtitle file beside a video (`Film.srt`, `Film.en.vtt`, `Film.ass`): indexed, hashed and fetched like a
    /// title, but listed only when asked for by kind, and offered with its video (`Catalog.subtitles(forVideos:)`).
    case subtitle

    /// The kinds listings and searches show when no kind is asked for: subtitles go with their videos instead.
    public static let titles: [MediaKind] = [.video, .audio, .image]
}

/// Metadata a media browser needs, per kind. Every field is optional: a file with a broken tag still indexes.
public struct MediaMetadata: Sendable, Equatable, Codable {
    // Common
    /// The title from the file's own tags or container, if it has one
    /// (nil, not empty, otherwise: the index then uses the file name).
    public var title: String?
    /// The playing time. Audio durations come from TagLib's C API, which
    /// counts whole seconds; MPEG streams (`.ts`, `.mpg`) measure first to
    /// last frame, so they fall one frame short.
    public var durationMilliseconds: Int64?
    /// The pixel size: of the image, or of the first video track (MP4: its
    /// `tkhd` display size; Matroska: PixelWidth/PixelHeight).
    public var width: Int?
    /// See ``width``.
    public var height: Int?
    // Photo (EXIF)
    /// EXIF DateTimeOriginal as written by the camera, normalised to `YYYY-MM-DDTHH:MM:SS` (no zone: EXIF has none).
    public var dateTaken: String?
    public var cameraMake: String?
    public var cameraModel: String?
    /// EXIF orientation 1...8.
    public var orientation: Int?
    /// True when the EXIF block carries a JPEG thumbnail a TV can show (at most 64 KiB; see `ExifThumbnail`).
    public var hasThumbnail: Bool?
    // Audio (tags)
    public var artist: String?
    public var album: String?
    public var track: Int?
    public var genre: String?
    public var year: Int?
    // Video (container)
    /// The first video track's codec, named as ffmpeg names it: `h264`,
    /// `hevc`, `av1`, `vp9`, `vp8`, `mpeg4`, `mpeg2video`, ...; nil if unknown.
    public var videoCodec: String?
    /// The first audio track's codec, named as ffmpeg names it: `aac`,
    /// `opus`, `mp3`, `ac3`, `eac3`, `vorbis`, `flac`, ...; nil if unknown.
    /// Not filled for audio files.
    public var audioCodec: String?

    public init() {}
}
