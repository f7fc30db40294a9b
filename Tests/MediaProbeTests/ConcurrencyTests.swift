import Foundation
import Testing
import WireVocabulary

@testable import MediaProbe

struct ConcurrencyTests {
    @Test func concurrentReadsAgreeWithSequentialReads() async throws {
        try await withTemporaryDirectoryAsync { dir in
            let paths = try [Fixture.mp3, .flac, .m4a, .ogg, .jpeg, .mp4, .mkv].map { try $0.make(in: dir) }
            let sniffed = try paths.map { try #require(try MediaSniffer.sniff(path: $0)) }
            let expected = zip(paths, sniffed).map { MediaProbe.metadata(path: $0, sniffed: $1) }
            // Two tasks per core-ish, each reading every file many times: TagLib and libexif run side by side.
            let results = await withTaskGroup(of: [MediaMetadata].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var out: [MediaMetadata] = []
                        for _ in 0..<25 {
                            for (path, sniff) in zip(paths, sniffed) {
                                out.append(MediaProbe.metadata(path: path, sniffed: sniff))
                            }
                        }
                        return out
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            for result in results {
                for (index, metadata) in result.enumerated() {
                    #expect(metadata == expected[index % expected.count])
                }
            }
        }
    }
}

func withTemporaryDirectoryAsync(_ body: (String) async throws -> Void) async throws {
    let path = NSTemporaryDirectory() + "mediaprobe-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    try await body(path)
}
