import ContentID
import Foundation
import PeerWire
import Testing
import WireVocabulary

@testable import MediaIndex

/// Subtitle files beside videos, on a real database: indexed and hashed, left out of listings unless asked for by
/// kind, and offered with their videos.
extension CatalogTests {
    static let srt = Array("1\n00:00:01,000 --> 00:00:02,000\nHello\n".utf8)

    /// A file whose first bytes make the sniffer take it for what its extension says; `seed` makes it unique.
    private func addFile(_ name: String, seed: UInt8) throws {
        let path = media + "/" + name
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let header: [UInt8] = name.hasSuffix(".mkv") ? [0x1A, 0x45, 0xDF, 0xA3] : Self.srt
        try Data(header + Array("seed \(seed) of \(name)\n".utf8)).write(to: URL(fileURLWithPath: path))
    }

    /// A neighbour's catalog entry for a video or subtitle file (also used by the playback tests).
    func remoteFile(_ id: ContentID, _ path: String, kind: MediaKind?, size: Int64 = 100) -> CatalogEntry {
        CatalogEntry(
            id: id, generation: 1, size: size, kind: kind,
            mimeType: kind == .subtitle ? "text/srt" : "video/x-matroska", path: path)
    }

    @Test func theSubtitlesBesideAVideoAreOfferedWithTheirLanguages() async throws {
        for (index, name) in [
            "Films/Film.mkv", "Films/Film.srt", "Films/Film.en.srt", "Films/Film.pt-BR.srt", "Films/Film.mkv.srt",
            "Films/Film.commentary.srt", "Films/Filmography.srt", "Films/Film2.srt", "Other/Film.srt",
        ].enumerated() {
            try addFile(name, seed: UInt8(index))
        }
        try scanAndHash()
        let film = try contentID(ofFile: "Films/Film.mkv")
        let found = try await catalog.subtitles(forVideos: [film], online: [])
        let expected = [
            SubtitleRef(
                id: try contentID(ofFile: "Films/Film.mkv.srt"), mimeType: "text/srt", language: nil,
                path: "Films/Film.mkv.srt"),
            SubtitleRef(
                id: try contentID(ofFile: "Films/Film.srt"), mimeType: "text/srt", language: nil,
                path: "Films/Film.srt"),
            SubtitleRef(
                id: try contentID(ofFile: "Films/Film.en.srt"), mimeType: "text/srt", language: "en",
                path: "Films/Film.en.srt"),
            SubtitleRef(
                id: try contentID(ofFile: "Films/Film.pt-BR.srt"), mimeType: "text/srt",
                language: "pt-BR", path: "Films/Film.pt-BR.srt"),
        ]
        #expect(found == [film: expected])
    }

    @Test func aVideoWithoutSubtitlesOrAnUnknownIDIsLeftOut() async throws {
        try addFile("Films/Alone.mkv", seed: 1)
        try addFile("Films/Alone.final.cut.srt", seed: 2)
        try addFile("Films/Alone/Alone.srt", seed: 3)
        try scanAndHash()
        let alone = try contentID(ofFile: "Films/Alone.mkv")
        #expect(try await catalog.subtitles(forVideos: [alone, fakeID(9)], online: []).isEmpty)
        #expect(try await catalog.subtitles(forVideos: [], online: []).isEmpty)
    }

    @Test func aNeighboursSubtitlesAreOfferedWhileItIsOnline() async throws {
        let (show, french, elsewhere, otherBox) = (fakeID(1), fakeID(2), fakeID(3), fakeID(4))
        try await catalog.applyRemoteDelta(
            peerID: "p1", name: "One",
            delta: CatalogDelta(
                epoch: "e", generation: 1,
                entries: [
                    remoteFile(show, "tv/Show.mkv", kind: .video),
                    remoteFile(french, "tv/Show.fr.srt", kind: .subtitle),
                    remoteFile(elsewhere, "tv/old/Show.srt", kind: .subtitle),
                ], more: false), restart: false)
        try await catalog.applyRemoteDelta(
            peerID: "p2", name: "Two",
            delta: CatalogDelta(
                epoch: "e", generation: 1, entries: [remoteFile(otherBox, "tv/Show.srt", kind: .subtitle)],
                more: false), restart: false)
        let online = try await catalog.subtitles(forVideos: [show], online: ["p1", "p2"])
        #expect(
            online == [
                show: [
                    SubtitleRef(id: french, mimeType: "text/srt", language: "fr", path: "tv/Show.fr.srt")
                ]
            ])
        #expect(try await catalog.subtitles(forVideos: [show], online: ["p2"]).isEmpty)
    }

    @Test func listingsAndSearchesShowSubtitlesOnlyWhenAskedForByKind() async throws {
        try addFile("Films/Film.mkv", seed: 1)
        try addFile("Films/Film.srt", seed: 2)
        try scanAndHash()
        let subtitle = try contentID(ofFile: "Films/Film.srt")
        #expect(try await library.list().map(\.path) == ["Films/Film.mkv"])
        #expect(try await library.count() == 1)
        #expect(try await library.list(kind: .subtitle).map(\.path) == ["Films/Film.srt"])
        #expect(try await library.count(kind: .subtitle) == 1)
        #expect(try await library.search("Film").map(\.path) == ["Films/Film.mkv"])
        #expect(try await library.search("Film", kind: .subtitle).map(\.path) == ["Films/Film.srt"])
        #expect(try await catalog.listHome(kind: nil, limit: 10, offset: 0, online: []).total == 1)
        #expect(
            try await catalog.listHome(kind: .subtitle, limit: 10, offset: 0, online: []).items.map(\.id) == [subtitle])
        #expect(try await catalog.searchHome("Film", kind: nil, limit: 10, online: []).map(\.kind) == [.video])
        // Still in the catalog peers sync, so that they can fetch it, and counted in the statistics.
        #expect(try await catalog.delta(since: 0, after: nil, limit: 10).entries.contains { $0.id == subtitle })
        #expect(try await library.statistics().kinds.contains { $0.kind == .subtitle && $0.files == 1 })
    }

    @Test func aSubtitleCanBeReplicatedLikeAnyTitle() async throws {
        let manifest = try replicaManifest(seed: 3, chunks: 1)
        var description = remoteFile(manifest.contentID, "Films/Film.srt", kind: .subtitle)
        description.size = manifest.fileSize
        try await catalog.beginReplica(manifest: manifest, description: description)
        try await catalog.completeReplica(manifest.contentID)
        #expect(try await catalog.replica(manifest.contentID)?.complete == true)
    }
}
