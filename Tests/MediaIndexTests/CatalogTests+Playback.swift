import ContentID
import Foundation
import PeerWire
import Testing
import WireVocabulary

@testable import MediaIndex

/// What a player's request learns of a title from the index, in one read.
extension CatalogTests {
    private func neighbourLists(_ entries: [CatalogEntry], peerID: String = "p1") async throws {
        try await catalog.applyRemoteDelta(
            peerID: peerID, name: peerID,
            delta: CatalogDelta(epoch: "e", generation: 1, entries: entries, more: false), restart: false)
    }

    @Test func aTitleOfThisBoxIsDescribedByItsOwnFile() async throws {
        try Data([0x1A, 0x45, 0xDF, 0xA3] + Array("own film".utf8))
            .write(to: URL(fileURLWithPath: media + "/Film.mkv"))
        try scanAndHash()
        let film = try contentID(ofFile: "Film.mkv")
        // A neighbour's catalog naming the same bytes differently does not change how this box describes them.
        try await neighbourLists([remoteFile(film, "elsewhere/Other.mkv", kind: .video, size: 12)])
        let found = try #require(try await catalog.playbackDescription(of: film, online: ["p1"]))
        #expect(found.entry.path == "Film.mkv")
        #expect(found.entry.kind == .video)
    }

    @Test func aNeighboursTitleIsDescribedByItsCatalogWhileItIsOnline() async throws {
        let show = fakeID(1)
        try await neighbourLists([remoteFile(show, "tv/Show.mkv", kind: .video)])
        let found = try #require(try await catalog.playbackDescription(of: show, online: ["p1"]))
        #expect(found.entry.path == "tv/Show.mkv")
        #expect(found.entry.size == 100)
        #expect(try await catalog.playbackDescription(of: show, online: ["p2"]) == nil)
        #expect(try await catalog.playbackDescription(of: fakeID(2), online: ["p1"]) == nil)
    }

    @Test func anObjectWithoutAKindIsNoTitle() async throws {
        let blob = fakeID(1)
        try await neighbourLists([remoteFile(blob, "notes/readme", kind: nil)])
        #expect(try await catalog.playbackDescription(of: blob, online: ["p1"]) == nil)
    }

    @Test func aVideoComesWithTheSubtitlesBesideIt() async throws {
        let (show, french, song, lyrics) = (fakeID(1), fakeID(2), fakeID(3), fakeID(4))
        try await neighbourLists([
            remoteFile(show, "tv/Show.mkv", kind: .video),
            remoteFile(french, "tv/Show.fr.srt", kind: .subtitle),
            remoteFile(song, "music/Song.mp3", kind: .audio),
            remoteFile(lyrics, "music/Song.srt", kind: .subtitle),
        ])
        let video = try #require(try await catalog.playbackDescription(of: show, online: ["p1"]))
        #expect(video.subtitles.map(\.id) == [french])
        #expect(video.subtitles.first?.language == "fr")
        let audio = try #require(try await catalog.playbackDescription(of: song, online: ["p1"]))
        #expect(audio.subtitles.isEmpty)
    }
}
