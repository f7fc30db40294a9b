import Foundation
import Testing
import WireVocabulary

@testable import MediaProbe

struct MediaSnifferTests {
    static let expectations: [(Fixture, MediaKind, String)] = [
        (.mp4, .video, "video/mp4"), (.mp4FastStart, .video, "video/mp4"), (.mov, .video, "video/quicktime"),
        (.mkv, .video, "video/x-matroska"), (.webm, .video, "video/webm"), (.avi, .video, "video/x-msvideo"),
        (.wmv, .video, "video/x-ms-wmv"), (.mpegTS, .video, "video/mp2t"), (.mpegPS, .video, "video/mpeg"),
        (.mp3, .audio, "audio/mpeg"), (.flac, .audio, "audio/flac"), (.wav, .audio, "audio/wav"),
        (.m4a, .audio, "audio/mp4"), (.ogg, .audio, "audio/ogg"), (.opus, .audio, "audio/ogg"),
        (.png, .image, "image/png"), (.jpeg, .image, "image/jpeg"), (.gif, .image, "image/gif"),
        (.bmp, .image, "image/bmp"), (.tiff, .image, "image/tiff"), (.webp, .image, "image/webp"),
        (.webpLossless, .image, "image/webp"),
    ]

    @Test(arguments: expectations)
    func sniffReportsTheKindAndMIMETypeOfRealMedia(fixture: Fixture, kind: MediaKind, mimeType: String) throws {
        let result = try withTemporaryDirectory { dir in try MediaSniffer.sniff(path: fixture.make(in: dir)) }
        #expect(result == SniffResult(kind: kind, mimeType: mimeType))
    }

    @Test func textFileNamedJPGIsNotMedia() throws {
        let result = try withTemporaryDirectory { dir in
            let path = dir + "/notes.jpg"
            try writeBytes(Array("These are not the pixels you are looking for.\n".utf8), to: path)
            return try MediaSniffer.sniff(path: path)
        }
        #expect(result == nil)
    }

    @Test func jpegRenamedToMP3IsNotMedia() throws {
        let result = try withTemporaryDirectory { dir in
            let jpeg = try Fixture.jpeg.make(in: dir)
            let renamed = dir + "/song.mp3"
            try FileManager.default.moveItem(atPath: jpeg, toPath: renamed)
            return try MediaSniffer.sniff(path: renamed)
        }
        #expect(result == nil)
    }

    @Test func unknownExtensionIsNotMediaAndTheFileIsNotOpened() throws {
        // The file does not exist: a nil rather than a cannotOpen error shows it was never opened.
        #expect(try MediaSniffer.sniff(path: "/nonexistent/readme.txt") == nil)
        #expect(try MediaSniffer.sniff(path: "/nonexistent/no-extension") == nil)
        #expect(try MediaSniffer.sniff(path: "/nonexistent.jpg/file") == nil)
    }

    @Test func mediaExtensionsAreRecognisedWithoutReadingTheFile() {
        #expect(MediaSniffer.hasMediaExtension("/nonexistent/Holiday.MKV"))
        #expect(MediaSniffer.hasMediaExtension("album/01 intro.flac"))
        #expect(!MediaSniffer.hasMediaExtension("/nonexistent/readme.txt"))
        #expect(!MediaSniffer.hasMediaExtension("/nonexistent/mp4"))
        #expect(!MediaSniffer.hasMediaExtension("/photos.jpg/notes"))
    }

    @Test func emptyFileIsNotMedia() throws {
        let result = try withTemporaryDirectory { dir in
            let path = dir + "/empty.mp4"
            try writeBytes([], to: path)
            return try MediaSniffer.sniff(path: path)
        }
        #expect(result == nil)
    }

    @Test func missingMediaFileThrowsCannotOpenWithTheErrnoText() {
        #expect(throws: MediaProbeError.cannotOpen(path: "/nonexistent/movie.mkv", reason: "No such file or directory"))
        {
            try MediaSniffer.sniff(path: "/nonexistent/movie.mkv")
        }
    }

    @Test func errorDescriptionNamesThePathAndTheReason() {
        let error = MediaProbeError.cannotOpen(path: "/srv/a.mp4", reason: "Permission denied")
        #expect(error.description == "cannot open /srv/a.mp4: Permission denied")
    }

    @Test func extensionsAreCaseInsensitive() throws {
        let result = try withTemporaryDirectory { dir in
            let jpeg = try Fixture.jpeg.make(in: dir)
            let upper = dir + "/PHOTO.JPEG"
            try FileManager.default.moveItem(atPath: jpeg, toPath: upper)
            return try MediaSniffer.sniff(path: upper)
        }
        #expect(result == SniffResult(kind: .image, mimeType: "image/jpeg"))
    }

    @Test func headerSniffAcceptsAnExtensionWithADot() {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]
        #expect(
            MediaSniffer.sniff(header: png, fileExtension: ".PNG") == SniffResult(kind: .image, mimeType: "image/png"))
    }

    @Test func mp4WithAnAudioBrandIsAudio() {
        let header = box("ftyp", Array("M4A ".utf8) + [0, 0, 2, 0] + Array("M4A isom".utf8))
        #expect(
            MediaSniffer.sniff(header: header, fileExtension: "mp4") == SniffResult(kind: .audio, mimeType: "audio/mp4")
        )
    }

    @Test func heicNeedsAnImageBrand() {
        let heic = box("ftyp", Array("heic".utf8) + [0, 0, 0, 0] + Array("mif1heic".utf8))
        let movie = box("ftyp", Array("isom".utf8) + [0, 0, 2, 0] + Array("isomavc1".utf8))
        #expect(
            MediaSniffer.sniff(header: heic, fileExtension: "heic") == SniffResult(kind: .image, mimeType: "image/heic")
        )
        #expect(MediaSniffer.sniff(header: movie, fileExtension: "heic") == nil)
        #expect(MediaSniffer.sniff(header: heic, fileExtension: "mp4") == nil)
    }

    @Test func bareMPEGAudioFrameIsMP3ButADTSIsNot() {
        let mpegFrame: [UInt8] = [0xFF, 0xFB, 0x90, 0x64, 0, 0, 0, 0]
        let adts: [UInt8] = [0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC]
        #expect(MediaSniffer.sniff(header: mpegFrame, fileExtension: "mp3")?.mimeType == "audio/mpeg")
        #expect(MediaSniffer.sniff(header: adts, fileExtension: "mp3") == nil)
        #expect(MediaSniffer.sniff(header: adts, fileExtension: "aac")?.mimeType == "audio/aac")
    }

    @Test func riffFormMustMatchTheExtension() {
        let wave = Array("RIFF".utf8) + [0x24, 0, 0, 0] + Array("WAVEfmt ".utf8)
        #expect(MediaSniffer.sniff(header: wave, fileExtension: "wav")?.kind == .audio)
        #expect(MediaSniffer.sniff(header: wave, fileExtension: "avi") == nil)
        #expect(MediaSniffer.sniff(header: wave, fileExtension: "webp") == nil)
    }

    @Test func typeScriptSourceNamedTSIsNotMedia() {
        let source = Array("G = 1; // TypeScript, not a transport stream\nexport const x = 2;\n".utf8)
        let shifted = Array("let G: number = 3;\n".utf8)
        #expect(MediaSniffer.sniff(header: source, fileExtension: "ts") == nil)
        #expect(MediaSniffer.sniff(header: shifted, fileExtension: "ts") == nil)
    }

    @Test func fifoNamedLikeMediaFailsInsteadOfBlocking() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/pipe.mp4"
            try #require(mkfifo(path, 0o600) == 0)
            // Opened without waiting for a writer, then refused by pread.
            #expect(throws: MediaProbeError.readFailed(path: path, reason: "Illegal seek")) {
                try MediaSniffer.sniff(path: path)
            }
        }
    }

    @Test func truncatedSignaturesAreNotMedia() {
        #expect(MediaSniffer.sniff(header: [0xFF, 0xD8], fileExtension: "jpg") == nil)
        #expect(MediaSniffer.sniff(header: [0x1A, 0x45, 0xDF], fileExtension: "mkv") == nil)
        #expect(MediaSniffer.sniff(header: [UInt8](), fileExtension: "ts") == nil)
    }
}
