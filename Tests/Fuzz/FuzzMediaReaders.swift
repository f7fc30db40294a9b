// The libFuzzer entry point for the pure-Swift media readers.
//
// Not part of the SwiftPM package: scripts/fuzz-media-readers compiles this
// file together with the reader sources (which import no C library) using
// `swiftc -sanitize=fuzzer,address`. Which reader runs is chosen by the
// MEDIAPEER_FUZZ_TARGET environment variable, so one binary serves every
// corpus.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

enum FuzzTarget: String {
    /// Extension + magic-byte sniffing, and the content-based reader choice.
    case sniffer
    /// ISO base media: MP4/QuickTime movies and HEIF images.
    case mp4
    /// Matroska / WebM.
    case matroska
    /// JPEG, PNG, GIF, WebP, BMP and TIFF headers.
    case images
    /// AVI (RIFF) and ASF (WMV).
    case riff
    /// MPEG transport and program streams.
    case streams
}

let fuzzTarget: FuzzTarget = {
    guard let name = getenv("MEDIAPEER_FUZZ_TARGET").map({ String(cString: $0) }),
        let target = FuzzTarget(rawValue: name)
    else {
        fatalError("set MEDIAPEER_FUZZ_TARGET to one of: sniffer mp4 matroska images riff streams")
    }
    return target
}()

let sniffedExtensions = Array(MediaSniffer.candidates.keys).sorted()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMediaReaders(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch fuzzTarget {
    case .sniffer:
        for ext in sniffedExtensions {
            _ = MediaSniffer.sniff(header: bytes, fileExtension: ext)
        }
        _ = ContainerProbe.read(BoundedReader(bytes: bytes))
    case .mp4:
        _ = MP4Reader(reader: BoundedReader(bytes: bytes)).read()
        _ = ImageReader.read(BoundedReader(bytes: bytes), format: .heif)
    case .matroska:
        _ = MatroskaReader(reader: BoundedReader(bytes: bytes)).read()
    case .images:
        for format: ImageReader.Format in [.jpeg, .png, .gif, .webp, .bmp, .tiff] {
            _ = ImageReader.read(BoundedReader(bytes: bytes), format: format)
        }
    case .riff:
        _ = AVIReader(reader: BoundedReader(bytes: bytes)).read()
        _ = ASFReader(reader: BoundedReader(bytes: bytes)).read()
    case .streams:
        _ = MPEGStreamReader(reader: BoundedReader(bytes: bytes)).readTransportStream()
        _ = MPEGStreamReader(reader: BoundedReader(bytes: bytes)).readProgramStream()
    }
    return 0
}
