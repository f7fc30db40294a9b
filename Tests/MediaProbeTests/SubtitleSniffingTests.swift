import Foundation
import Testing
import WireVocabulary

@testable import MediaProbe

/// Subtitle files beside videos: recognised by extension and by their first lines.
@Suite struct SubtitleSniffingTests {
    static let srt =
        "1\r\n00:00:01,000 --> 00:00:04,000\r\nHello there\r\n\r\n2\r\n00:00:05,000 --> 00:00:06,000\r\nBye\r\n"
    static let vtt = "WEBVTT\n\n00:01.000 --> 00:04.000\nHello there\n"
    static let ass = "[Script Info]\nTitle: Film\nScriptType: v4.00+\n\n[Events]\n"
    static let bom = "\u{FEFF}"

    private func sniff(_ text: String, as name: String) throws -> SniffResult? {
        try withTemporaryDirectory { dir in
            try writeBytes(Array(text.utf8), to: dir + "/" + name)
            return try MediaSniffer.sniff(path: dir + "/" + name)
        }
    }

    @Test(arguments: [
        (srt, "Film.srt", "text/srt"), (bom + srt, "Film.en.SRT", "text/srt"),
        ("\n\n" + srt, "Film.srt", "text/srt"), (vtt, "Film.vtt", "text/vtt"),
        (bom + "WEBVTT - with a header\n\n", "Film.vtt", "text/vtt"), (ass, "Film.ass", "text/x-ssa"),
        (bom + ass, "Film.ssa", "text/x-ssa"),
    ])
    func aSubtitleFileIsSniffedAsASubtitleWithItsMIMEType(text: String, name: String, mimeType: String) throws {
        #expect(try sniff(text, as: name) == SniffResult(kind: .subtitle, mimeType: mimeType))
    }

    @Test(arguments: [
        ("Some notes about the film\n", "Film.srt"), ("1\nnot a timing line\n", "Film.srt"),
        ("12345678901\n00:00:01,000 --> 00:00:02,000\n", "Film.srt"), ("WEBVTTX\n", "Film.vtt"),
        ("webvtt\n", "Film.vtt"), ("[Events]\n", "Film.ass"), (vtt, "Film.srt"), (srt, "Film.vtt"),
        (ass, "Film.srt"),
    ])
    func textThatIsNotThatSubtitleFormatIsNotMedia(text: String, name: String) throws {
        #expect(try sniff(text, as: name) == nil)
    }

    @Test func probingASubtitleGivesItsKindAndNoMetadata() throws {
        let probed = try withTemporaryDirectory { dir in
            try writeBytes(Array(Self.srt.utf8), to: dir + "/Film.srt")
            return try MediaProbe.probe(path: dir + "/Film.srt")
        }
        #expect(probed?.sniffed == SniffResult(kind: .subtitle, mimeType: "text/srt"))
        #expect(probed?.metadata == MediaMetadata())
    }

    @Test func theMetadataOfASubtitleIsEmpty() throws {
        let metadata = try withTemporaryDirectory { dir in
            try writeBytes(Array(Self.ass.utf8), to: dir + "/Film.ass")
            return MediaProbe.metadata(
                path: dir + "/Film.ass", sniffed: SniffResult(kind: .subtitle, mimeType: "text/x-ssa"))
        }
        #expect(metadata == MediaMetadata())
    }
}
