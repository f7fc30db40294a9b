import Foundation
import Testing

@testable import PlayerEndpoint

/// A sparse 5 GiB title served by a real server on loopback: ranges across 2^31 and 2^32 and the last bytes come
/// from the right offsets (the file is zeros except for known bytes there), and a range starting at `Int64.max`
/// gets 416. The sender's offsets are `Int64` on every architecture; this machine checks the values past 2^31.
@Suite(.timeLimit(.minutes(2))) final class LargeFileTests: Sendable {
    static let size: Int64 = 5 << 30
    /// Known bytes written over the zeros: 8 bytes straddling each edge, and the last 8 bytes.
    static let marks: [(offset: Int64, bytes: [UInt8])] = [
        ((1 << 31) - 4, Array("<2GiB>!!".utf8)), ((1 << 32) - 4, Array("<4GiB>!!".utf8)),
        (size - 8, Array("THE-END.".utf8)),
    ]
    let path: String
    let film: PlayableTitle
    let handler: FakePlayerHandler

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("large-\(UUID().uuidString).mkv").path
        FileManager.default.createFile(atPath: path, contents: nil)
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? file.close() }
        try file.truncate(atOffset: UInt64(Self.size))
        for mark in Self.marks {
            try file.seek(toOffset: UInt64(mark.offset))
            file.write(Data(mark.bytes))
        }
        film = PlayableTitle(
            id: contentID(5), kind: .video, mimeType: "video/x-matroska", size: Self.size, title: "Long film",
            durationMilliseconds: nil, fileExtension: "mkv")
        handler = FakePlayerHandler([FakeTitle(title: film, source: .file(path))])
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// What the file holds in `range`: zeros but for the marks.
    static func expected(_ range: ClosedRange<Int64>) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Int(range.upperBound - range.lowerBound + 1))
        for mark in marks {
            for (index, byte) in mark.bytes.enumerated() where range.contains(mark.offset + Int64(index)) {
                bytes[Int(mark.offset + Int64(index) - range.lowerBound)] = byte
            }
        }
        return bytes
    }

    /// Across 2^31, blocks on both sides; the crafted range ending just below 2^31; across 2^32.
    static let ranges: [ClosedRange<Int64>] = [
        ((1 << 31) - 600_000)...((1 << 31) + 300_000), 2_147_000_000...2_147_483_646, ((1 << 32) - 5)...((1 << 32) + 5),
    ]

    @Test(arguments: ranges)
    func aRangePastTwoGiBHasTheFilesBytes(range: ClosedRange<Int64>) async throws {
        try await withPlayerServer(handler) { port in
            let response = try await fetch(
                "http://127.0.0.1:\(port)/media/\(self.film.id.hex).mkv",
                headers: [("range", "bytes=\(range.lowerBound)-\(range.upperBound)")])
            #expect(response.status == 206)
            #expect(response.header("content-range") == "bytes \(range.lowerBound)-\(range.upperBound)/\(Self.size)")
            #expect(response.body == Self.expected(range))
        }
    }

    @Test func theLastBytesAreTheFilesEnd() async throws {
        try await withPlayerServer(handler) { port in
            let response = try await fetch(
                "http://127.0.0.1:\(port)/media/\(self.film.id.hex)", headers: [("range", "bytes=-8")])
            #expect(response.status == 206)
            #expect(response.body == Array("THE-END.".utf8))
        }
    }

    @Test func aRangeStartingAtInt64MaxIs416() async throws {
        try await withPlayerServer(handler) { port in
            let response = try await fetch(
                "http://127.0.0.1:\(port)/media/\(self.film.id.hex)",
                headers: [("range", "bytes=9223372036854775807-")])
            #expect(response.status == 416)
            #expect(response.header("content-range") == "bytes */\(Self.size)")
        }
    }
}
