import Foundation
import Testing

@testable import MediaProbe

/// `MediaProbe.probe(path:)`: sniffing and metadata in one open.
struct ProbeTests {
    @Test(arguments: [Fixture.mp4, .mkv, .avi, .mpegTS, .mp3, .flac, .m4a, .jpeg, .png, .webp])
    func probeAgreesWithSniffThenMetadata(fixture: Fixture) throws {
        let (combined, separate) = try withTemporaryDirectory { dir in
            let path = try fixture.make(in: dir)
            let sniffed = try #require(try MediaSniffer.sniff(path: path))
            let separate = (sniffed, MediaProbe.metadata(path: path, sniffed: sniffed))
            let combined = try #require(try MediaProbe.probe(path: path))
            return (combined, separate)
        }
        #expect(combined.sniffed == separate.0)
        #expect(combined.metadata == separate.1)
    }

    @Test func probeOfNonMediaIsNil() throws {
        let result = try withTemporaryDirectory { dir in
            let path = dir + "/notes.jpg"
            try writeBytes(Array("plain text".utf8), to: path)
            return try MediaProbe.probe(path: path)
        }
        #expect(result == nil)
    }

    @Test func probeDoesNotOpenFilesWithOtherExtensions() throws {
        #expect(try MediaProbe.probe(path: "/nonexistent/readme.md") == nil)
    }

    @Test func probeOfAMissingMediaFileThrowsCannotOpen() {
        #expect(throws: MediaProbeError.cannotOpen(path: "/nonexistent/a.webm", reason: "No such file or directory")) {
            try MediaProbe.probe(path: "/nonexistent/a.webm")
        }
    }

    @Test func probeOfADirectoryNamedLikeMediaThrowsReadFailed() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/album.flac"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            #expect(throws: MediaProbeError.readFailed(path: path, reason: "Is a directory")) {
                try MediaProbe.probe(path: path)
            }
        }
    }
}
