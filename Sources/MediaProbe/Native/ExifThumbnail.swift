/// The small preview a camera embeds in a JPEG's EXIF block, for TVs that show thumbnails while browsing.
///
/// ```swift
/// if let jpeg = ExifThumbnail.read(path: "/srv/media/photos/beach.jpg") {
///     // at most 64 KiB, starting with the JPEG SOI marker
/// }
/// ```
public enum ExifThumbnail {
    /// The largest thumbnail given out: an APP1 segment, which holds the EXIF block, cannot be larger.
    public static let maximumBytes = 64 << 10

    /// The EXIF thumbnail of the JPEG at `path`; nil when the file cannot be read, is not a JPEG, has no EXIF
    /// block, or its thumbnail is missing, larger than ``maximumBytes`` or not a JPEG. Reads the file's headers
    /// only, with a few bounded `pread`s.
    public static func read(path: String) -> [UInt8]? {
        guard let file = try? FileByteSource(path: path, measure: true) else { return nil }
        return read(file)
    }

    /// The bytes of a JPEG's start that hold its EXIF block wherever a camera or an editor puts it: after the SOI,
    /// an APP0 (JFIF) segment and the APP1 (EXIF) segment, each at most 64 KiB.
    public static let prefixLength = 2 * (64 << 10) + 4

    /// The EXIF thumbnail in the first bytes of a JPEG (at most ``prefixLength`` are looked at, as a neighbour's
    /// holder sends them), with the checks of ``read(path:)``; nil when they hold no whole EXIF block with one.
    public static func read(jpegPrefix bytes: [UInt8]) -> [UInt8]? {
        read(MemoryByteSource(Array(bytes.prefix(prefixLength))))
    }

    private static func read(_ source: some ByteSource) -> [UInt8]? {
        let reader = BoundedReader(source: source)
        guard let header = reader.bytes(upTo: MediaSniffer.headerLength, at: 0), Signature.isJPEG(header),
            let block = ContainerProbe.read(reader).exif
        else { return nil }
        return ExifReader.thumbnail(block)
    }
}
