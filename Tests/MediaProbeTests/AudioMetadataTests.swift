import Foundation
import Testing
import WireVocabulary

@testable import MediaProbe

/// Audio: tags and duration through TagLib.
struct AudioMetadataTests {
    private func probe(_ path: String) throws -> MediaMetadata {
        let sniffed = try #require(try MediaSniffer.sniff(path: path))
        return MediaProbe.metadata(path: path, sniffed: sniffed)
    }

    @Test func mp3TagsAreRead() throws {
        let metadata = try withTemporaryDirectory { dir in try probe(Fixture.mp3.make(in: dir)) }
        #expect(metadata.title == "Sine Song")
        #expect(metadata.artist == "The Testers")
        #expect(metadata.album == "Fixtures")
        #expect(metadata.track == 3)
        #expect(metadata.genre == "Electronic")
        #expect(metadata.year == 2019)
    }

    @Test(arguments: [Fixture.mp3, .flac, .wav, .m4a, .ogg, .opus])
    func durationIsReadInWholeSeconds(fixture: Fixture) throws {
        let metadata = try withTemporaryDirectory { dir in try probe(fixture.make(in: dir)) }
        #expect(metadata.durationMilliseconds == 2000)
    }

    @Test func flacVorbisCommentsAreRead() throws {
        let metadata = try withTemporaryDirectory { dir in try probe(Fixture.flac.make(in: dir)) }
        #expect(metadata.title == "Lossless Sine")
        #expect(metadata.artist == "The Testers")
    }

    @Test func absentTagsAreNilNotEmpty() throws {
        let metadata = try withTemporaryDirectory { dir in try probe(Fixture.wav.make(in: dir)) }
        #expect(metadata.title == nil)
        #expect(metadata.artist == nil)
        #expect(metadata.album == nil)
        #expect(metadata.genre == nil)
        #expect(metadata.track == nil)
        #expect(metadata.year == nil)
    }

    @Test func nonUTF8TagsAreDecoded() throws {
        let metadata = try withTemporaryDirectory { dir in
            let path = dir + "/umlaut.mp3"
            // ID3v2.3 (ffmpeg's choice for Latin-1-representable text when asked) with non-ASCII text.
            try FFmpeg.run([
                "-f", "lavfi", "-i", "sine", "-t", "1", "-id3v2_version", "3", "-metadata", "title=Über Café", path,
            ])
            return try probe(path)
        }
        #expect(metadata.title == "Über Café")
    }

    @Test func garbageBehindAnAudioSignatureGivesEmptyMetadata() throws {
        var generator = SeededGenerator.forTest("garbageBehindAnAudioSignature", seed: 7)
        let metadata = try withTemporaryDirectory { dir in
            let path = dir + "/broken.mp3"
            try writeBytes(
                Array("ID3".utf8) + [4, 0, 0] + (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) },
                to: path)
            return try probe(path)
        }
        #expect(metadata.title == nil)
    }

    @Test func unreadableAudioFileGivesEmptyMetadata() {
        let metadata = MediaProbe.metadata(
            path: "/nonexistent/song.mp3", sniffed: SniffResult(kind: .audio, mimeType: "audio/mpeg"))
        #expect(metadata == MediaMetadata())
    }
}
