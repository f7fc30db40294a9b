import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import WireVocabulary

@testable import PlayerEndpoint

/// On a channel without NIO's HTTP/1 codec (Hummingbird's in-process test channel) the file's blocks go through
/// Hummingbird's body writer instead of below it: the same bytes.
@Suite struct BufferedFileTests {
    @Test func aRangeReadInBlocksIsTheFilesBytes() async throws {
        let bytes = patternBytes(2 << 20 + 777)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("player-\(UUID().uuidString)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let title = PlayableTitle(
            id: contentID(1), kind: .video, mimeType: "video/mp4", size: Int64(bytes.count), title: "Film",
            durationMilliseconds: nil, fileExtension: "mp4")
        let router = PlayerServer.makeRouter(
            handler: FakePlayerHandler([FakeTitle(title: title, source: .file(path))]), upnp: nil,
            limits: PlayerLimits(), clock: ContinuousClock(), logger: Logger(label: "test.player"))
        try await Application(router: router).test(.router) { client in
            let whole = try await client.execute(uri: "/media/\(title.id.hex)", method: .get)
            #expect(whole.status == .ok)
            #expect(Array(buffer: whole.body) == bytes)
            let range = try await client.execute(
                uri: "/media/\(title.id.hex).mp4", method: .get, headers: [.range: "bytes=1048000-2000000"])
            #expect(range.status == .partialContent)
            #expect(Array(buffer: range.body) == Array(bytes[1_048_000...2_000_000]))
        }
    }

    @Test func aFileThatChangedSizeIsNotSent() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("player-\(UUID().uuidString)").path
        try Data(patternBytes(1000)).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        // The index says 2000 bytes: the file was cut since it was hashed.
        let title = PlayableTitle(
            id: contentID(1), kind: .audio, mimeType: "audio/mpeg", size: 2000, title: "Song",
            durationMilliseconds: nil, fileExtension: "mp3")
        let router = PlayerServer.makeRouter(
            handler: FakePlayerHandler([FakeTitle(title: title, source: .file(path))]), upnp: nil,
            limits: PlayerLimits(), clock: ContinuousClock(), logger: Logger(label: "test.player"))
        await #expect(throws: (any Error).self) {
            try await Application(router: router).test(.router) { client in
                let response = try await client.execute(uri: "/media/\(title.id.hex)", method: .get)
                #expect(response.body.readableBytes < 2000)
            }
        }
    }
}
