import CTagLib
import WireVocabulary

/// Audio tags and duration through TagLib's C API.
enum AudioTagReader {
    /// TagLib's C binding keeps every returned string in one global list
    /// unless string management is off, and that list is not thread-safe.
    /// With it off, each string is ours to free. Both switches are global,
    /// so they are set once, before the first use, through Swift's
    /// thread-safe lazy initialisation of statics.
    private static let configured: Bool = {
        taglib_set_string_management_enabled(0)
        taglib_set_strings_unicode(1)
        return true
    }()

    static func read(path: String) -> MediaMetadata {
        _ = configured
        var metadata = MediaMetadata()
        guard let file = FileSystemName.withFileSystemPath(path, { taglib_file_new($0) }) else { return metadata }
        defer { taglib_file_free(file) }
        guard taglib_file_is_valid(file) != 0 else { return metadata }

        if let tag = taglib_file_tag(file) {
            metadata.title = take(taglib_tag_title(tag))
            metadata.artist = take(taglib_tag_artist(tag))
            metadata.album = take(taglib_tag_album(tag))
            metadata.genre = take(taglib_tag_genre(tag))
            let track = taglib_tag_track(tag)
            if track > 0, track < 100_000 { metadata.track = Int(track) }
            let year = taglib_tag_year(tag)
            if year > 0, year < 100_000 { metadata.year = Int(year) }
        }
        // Whole seconds is all the C API offers; 0 means TagLib could not tell.
        if let properties = taglib_file_audioproperties(file) {
            let seconds = taglib_audioproperties_length(properties)
            if seconds > 0 { metadata.durationMilliseconds = Int64(seconds) * 1000 }
        }
        return metadata
    }

    /// The string TagLib allocated, freed; nil if absent or blank.
    private static func take(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
        guard let pointer else { return nil }
        defer { taglib_free(pointer) }
        return trimmedText(String(cString: pointer))
    }
}
