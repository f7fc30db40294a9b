import WireVocabulary

/// Reads the metadata a media browser shows: duration, size, codecs, EXIF
/// and audio tags.
///
/// ```swift
/// if let sniffed = try MediaSniffer.sniff(path: path) {
///     let metadata = MediaProbe.metadata(path: path, sniffed: sniffed)
///     print(metadata.durationMilliseconds ?? 0, metadata.width ?? 0)
/// }
/// ```
///
/// Photos and videos are read by small pure-Swift header readers (plus
/// libexif for the EXIF block); audio by TagLib. All methods are
/// thread-safe, and can be called from several threads at once.
public enum MediaProbe {
    /// The metadata of the media file at `path`.
    ///
    /// This method never throws and never traps on malformed input:
    /// whatever can be read is filled in and the rest is nil. An unreadable
    /// file gives an empty ``MediaMetadata``.
    ///
    /// Photos and videos are opened once and read with a few `pread` calls,
    /// at most 4 MiB in all, however large the file: a movie's `moov` after
    /// gigabytes of media data costs a jump, not a scan. The reader is
    /// chosen from the file's content.
    ///
    /// - parameter path: The file.
    /// - parameter sniffed: What ``MediaSniffer`` said about the file. Its
    ///   kind selects TagLib (audio) or the header readers (photo, video).
    public static func metadata(path: String, sniffed: SniffResult) -> MediaMetadata {
        switch sniffed.kind {
        case .audio: return AudioTagReader.read(path: path)
        // A subtitle has nothing a browser shows beyond its name; it is listed with its video.
        case .subtitle: return MediaMetadata()
        case .video, .image: break
        }
        guard let file = try? FileByteSource(path: path, measure: true) else { return MediaMetadata() }
        return containerMetadata(BoundedReader(source: file))
    }

    /// Sniffs the file at `path` and, if it is media, reads its metadata,
    /// opening it once: the sniffer's bytes come from the readers' first read.
    ///
    /// This is ``MediaSniffer/sniff(path:)`` followed by
    /// ``metadata(path:sniffed:)``, minus an `open` and a `pread` for photos
    /// and videos. (Audio files are opened a second time, by TagLib.)
    ///
    /// - returns: The sniff result and the metadata, or nil if the file is
    ///   not media. Files whose extension is not a media extension are not opened.
    /// - throws: ``MediaProbeError`` if the file cannot be opened or read.
    public static func probe(path: String) throws(MediaProbeError) -> (sniffed: SniffResult, metadata: MediaMetadata)? {
        guard let ext = MediaSniffer.fileExtension(of: path), let candidate = MediaSniffer.candidates[ext] else {
            return nil
        }
        let sniffed: SniffResult
        do {
            let file = try FileByteSource(path: path, measure: true)
            // An audio file is only sniffed here; TagLib does the reading.
            let firstWindow =
                candidate.kind == .audio || candidate.kind == .subtitle
                ? MediaSniffer.headerLength : BoundedReader.firstWindow
            let reader = BoundedReader(source: file, firstWindow: firstWindow)
            guard let header = reader.bytes(upTo: MediaSniffer.headerLength, at: 0) else {
                throw MediaProbeError.readFailed(path: path, reason: errnoDescription(file.lastError))
            }
            guard let result = MediaSniffer.sniff(header: header, fileExtension: ext) else { return nil }
            switch result.kind {
            case .audio: sniffed = result
            case .subtitle: return (result, MediaMetadata())
            case .video, .image: return (result, containerMetadata(reader))
            }
        }
        // Our descriptor is closed by now; TagLib opens the file itself.
        return (sniffed, AudioTagReader.read(path: path))
    }

    private static func containerMetadata(_ reader: BoundedReader) -> MediaMetadata {
        var (metadata, exif) = ContainerProbe.read(reader)
        if let exif {
            ExifReader.read(exif, into: &metadata)
        }
        return metadata
    }
}
