import WireVocabulary

/// Picks the reader for a file from its first bytes and runs it.
///
/// The choice is made on content, not on the caller's ``SniffResult``, so a
/// stale or hand-made sniff result cannot send a file to the wrong parser.
/// Everything here is pure Swift over a ``BoundedReader`` (no libexif or
/// TagLib), so the fuzz harness compiles it directly.
enum ContainerProbe {
    enum Format: Equatable {
        case image(ImageReader.Format)
        case isoMovie
        case matroska
        case avi
        case asf
        case transportStream
        case programStream
    }

    static func format(of header: ArraySlice<UInt8>) -> Format? {
        if Signature.isJPEG(header) { return .image(.jpeg) }
        if Signature.isPNG(header) { return .image(.png) }
        if Signature.isGIF(header) { return .image(.gif) }
        if Signature.isWebP(header) { return .image(.webp) }
        if Signature.isTIFF(header) { return .image(.tiff) }
        if Signature.isBMP(header) { return .image(.bmp) }
        if Signature.isEBML(header) { return .matroska }
        if Signature.isAVI(header) { return .avi }
        if Signature.isASF(header) { return .asf }
        switch Signature.isoBrand(header) {
        case .image?: return .image(.heif)
        case .video?, .audio?: return .isoMovie
        case nil: break
        }
        if Signature.isQuickTimeAtom(header) { return .isoMovie }
        if Signature.isTransportStream(header) { return .transportStream }
        if Signature.isProgramStream(header) { return .programStream }
        return nil
    }

    /// The container's metadata, and the raw EXIF block for an image that has one.
    static func read(_ reader: BoundedReader) -> (metadata: MediaMetadata, exif: [UInt8]?) {
        guard let header = reader.bytes(upTo: MediaSniffer.headerLength, at: 0), let format = format(of: header) else {
            return (MediaMetadata(), nil)
        }
        switch format {
        case .image(let imageFormat):
            let info = ImageReader.read(reader, format: imageFormat)
            var metadata = MediaMetadata()
            metadata.width = info.width
            metadata.height = info.height
            return (metadata, info.exif)
        case .isoMovie:
            return (MP4Reader(reader: reader).read(), nil)
        case .matroska:
            return (MatroskaReader(reader: reader).read(), nil)
        case .avi:
            return (AVIReader(reader: reader).read(), nil)
        case .asf:
            return (ASFReader(reader: reader).read(), nil)
        case .transportStream:
            return (MPEGStreamReader(reader: reader).readTransportStream(), nil)
        case .programStream:
            return (MPEGStreamReader(reader: reader).readProgramStream(), nil)
        }
    }
}
