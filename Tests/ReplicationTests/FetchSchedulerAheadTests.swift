import ContentID
import ElapsedTime
import Foundation
import PeerProtocol
import PeerWire
import Testing
import WireVocabulary

@testable import Replication

/// A player's first chunk asked for together with the manifest, where the object's known size places it.
@Suite struct FetchSchedulerAheadTests {
    private static let chunkSize = 1024
    private static let playRate = Int64(chunkSize * 10)
    private static let id = ContentID(bytes: [UInt8](repeating: 7, count: 32))!

    private static func manifest(chunks: Int, lastChunk: Int = chunkSize) throws -> ChunkManifest {
        try ChunkManifest(
            fileSize: Int64((chunks - 1) * chunkSize + lastChunk), chunkSize: chunkSize,
            packedChunkHashes: [UInt8](repeating: 0, count: chunks * 32))
    }

    private static func holder(_ peer: String, complete: Bool = true) -> Holder {
        Holder(peerID: peer, name: "box-\(peer)", addresses: ["127.0.0.1"], port: 7000, complete: complete)
    }

    private static func at(_ milliseconds: Int) -> ElapsedInstant { ElapsedInstant(.milliseconds(milliseconds)) }

    private static func bytes(_ chunks: Range<Int>) -> Range<Int64> {
        Int64(chunks.lowerBound * chunkSize)..<Int64(chunks.upperBound * chunkSize)
    }

    private static func starts(_ actions: [FetchScheduler.Action]) -> [FetchScheduler.Request] {
        actions.compactMap { if case .start(let request) = $0 { request } else { nil } }
    }

    /// A played fetch whose size the caller knew, started, with a player reading chunks 50–59.
    private static func played(size: Int64) -> FetchScheduler {
        var scheduler = FetchScheduler(
            id: Self.id, title: "test", startedAt: Date(timeIntervalSince1970: 0),
            expected: .init(fileSize: size, chunkSize: chunkSize))
        _ = scheduler.start(at: at(0))
        _ = scheduler.want(1, bytes: bytes(50..<60), bytesPerSecond: playRate, at: at(0))
        return scheduler
    }

    @Test func thePlayersFirstChunkIsAskedForWithTheManifestWhenTheSizeIsKnown() throws {
        var scheduler = Self.played(size: Int64(100 * Self.chunkSize))
        let actions = scheduler.holdersFound([Self.holder("a")], at: Self.at(1))
        #expect(actions.contains { if case .obtainManifest = $0 { true } else { false } })
        let ahead = Self.starts(actions)
        #expect(ahead.map(\.chunks) == [50..<51])
        #expect(ahead.map(\.bytes) == [Self.bytes(50..<51)])
        #expect(ahead.map(\.source.peerID) == ["a"])
    }

    @Test func aPlayerArrivingAfterTheHoldersStillHasItsChunkAskedForAhead() throws {
        var scheduler = FetchScheduler(
            id: Self.id, title: "test", startedAt: Date(),
            expected: .init(fileSize: Int64(100 * Self.chunkSize), chunkSize: Self.chunkSize))
        _ = scheduler.start(at: Self.at(0))
        #expect(Self.starts(scheduler.holdersFound([Self.holder("a")], at: Self.at(1))).isEmpty)
        let ahead = Self.starts(
            scheduler.want(1, bytes: Self.bytes(7..<9), bytesPerSecond: Self.playRate, at: Self.at(2)))
        #expect(ahead.map(\.chunks) == [7..<8])
    }

    @Test func nothingIsAskedAheadWithoutAKnownSize() throws {
        var scheduler = FetchScheduler(id: Self.id, title: "test", startedAt: Date())
        _ = scheduler.start(at: Self.at(0))
        _ = scheduler.want(1, bytes: Self.bytes(50..<60), bytesPerSecond: Self.playRate, at: Self.at(0))
        #expect(Self.starts(scheduler.holdersFound([Self.holder("a")], at: Self.at(1))).isEmpty)
    }

    @Test func onlyAHolderOfTheWholeObjectIsAskedAhead() throws {
        var scheduler = Self.played(size: Int64(100 * Self.chunkSize))
        #expect(Self.starts(scheduler.holdersFound([Self.holder("p", complete: false)], at: Self.at(1))).isEmpty)
    }

    @Test func aReadPastTheKnownSizeAsksNothingAhead() throws {
        var scheduler = Self.played(size: Int64(20 * Self.chunkSize))
        #expect(Self.starts(scheduler.holdersFound([Self.holder("a")], at: Self.at(1))).isEmpty)
    }

    @Test func theChunkAskedAheadIsNotAskedAgainAndKeepsItsSourceToItselfOnceTheManifestComes() throws {
        let manifest = try Self.manifest(chunks: 100)
        var scheduler = Self.played(size: manifest.fileSize)
        let ahead = try #require(Self.starts(scheduler.holdersFound([Self.holder("a")], at: Self.at(1))).first)
        // The chunk is in flight: the source that carries it gets nothing else until it ends (it blocks a play).
        #expect(
            Self.starts(scheduler.manifestReady(manifest, have: ChunkBitmap(chunkCount: 100), at: Self.at(5))).isEmpty)
        _ = scheduler.chunkVerified(50, of: ahead, bytes: Int64(Self.chunkSize), at: Self.at(6))
        #expect(scheduler.progress.chunksDone == 1)
        let window = Self.starts(scheduler.requestFinished(ahead, .ended, at: Self.at(7)))
        #expect(window.map(\.chunks) == [51..<53, 53..<55, 55..<57, 57..<59])
    }

    @Test func aChunkVerifiedBeforeTheSchedulerKnowsTheManifestIsCountedWhenItDoes() throws {
        let manifest = try Self.manifest(chunks: 100)
        var scheduler = Self.played(size: manifest.fileSize)
        let ahead = try #require(Self.starts(scheduler.holdersFound([Self.holder("a")], at: Self.at(1))).first)
        _ = scheduler.chunkVerified(50, of: ahead, bytes: Int64(Self.chunkSize), at: Self.at(3))
        _ = scheduler.requestFinished(ahead, .ended, at: Self.at(4))
        #expect(scheduler.progress.chunksDone == 0)
        let next = Self.starts(scheduler.manifestReady(manifest, have: ChunkBitmap(chunkCount: 100), at: Self.at(5)))
        #expect(scheduler.progress.chunksDone == 1)
        #expect(scheduler.progress.bytesReceived == Int64(Self.chunkSize))
        #expect(scheduler.have?.contains(50) == true)
        #expect(!next.contains { $0.chunks.contains(50) })
        #expect(next.map(\.chunks).first == 51..<53)
    }

    @Test func aManifestThatPlacesTheChunkElsewhereHasItAskedForAgainAndTheAheadRequestCountsForNothing() throws {
        // The catalogs said 100 whole chunks; the manifest's last chunk is shorter (another size).
        let manifest = try Self.manifest(chunks: 51, lastChunk: 100)
        var scheduler = Self.played(size: Int64(100 * Self.chunkSize))
        let ahead = try #require(Self.starts(scheduler.holdersFound([Self.holder("a")], at: Self.at(1))).first)
        let again = Self.starts(scheduler.manifestReady(manifest, have: ChunkBitmap(chunkCount: 51), at: Self.at(5)))
        #expect(again.map(\.chunks) == [50..<51])
        // Its end does not free a slot the source never counted it in.
        #expect(Self.starts(scheduler.requestFinished(ahead, .ended, at: Self.at(6))).isEmpty)
    }
}
