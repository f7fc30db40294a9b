import Foundation
import PeerWire
import Testing
import WireVocabulary

@testable import PeerProtocol

@Suite struct HaveMapTests {
    let id = ContentID(bytes: [UInt8](repeating: 0xAB, count: 32))!

    @Test func aPartialBitmapRoundTripsThroughJSON() throws {
        var have = ChunkBitmap(chunkCount: 13)
        for index in [0, 3, 7, 8, 12] { have.insert(index) }
        let decoded = try JSONDecoder().decode(HaveMap.self, from: JSONEncoder().encode(HaveMap(id: id, have: have)))
        #expect(decoded.id == id)
        #expect(decoded.chunkCount == 13)
        #expect(decoded.complete == false)
        #expect(decoded.chunks == have)
    }

    @Test func aFullBitmapIsMarkedComplete() {
        let map = HaveMap(id: id, have: ChunkBitmap(chunkCount: 9, full: true))
        #expect(map.complete)
        #expect(map.chunks == ChunkBitmap(chunkCount: 9, full: true))
    }

    @Test func anObjectWithNoChunksRoundTrips() {
        let map = HaveMap(id: id, have: ChunkBitmap(chunkCount: 0))
        #expect(map.chunks == ChunkBitmap(chunkCount: 0))
    }

    @Test func aBitmapOfTheWrongLengthGivesNoChunks() {
        var map = HaveMap(id: id, have: ChunkBitmap(chunkCount: 16))
        map.bitmap = Data([0xFF]).base64EncodedString()
        #expect(map.chunks == nil)
        map.bitmap = Data([0xFF, 0xFF, 0xFF]).base64EncodedString()
        #expect(map.chunks == nil)
    }

    @Test func aBitmapClaimingChunksPastTheEndGivesNoChunks() {
        var map = HaveMap(id: id, have: ChunkBitmap(chunkCount: 10))
        // Chunk 10 would be the third bit of the second byte: a padding bit.
        map.bitmap = Data([0xFF, 0b1110_0000]).base64EncodedString()
        #expect(map.chunks == nil)
    }

    @Test func aBitmapThatIsNotBase64GivesNoChunks() {
        var map = HaveMap(id: id, have: ChunkBitmap(chunkCount: 8))
        map.bitmap = "not base64!"
        #expect(map.chunks == nil)
    }

    @Test func aNegativeChunkCountGivesNoChunks() {
        var map = HaveMap(id: id, have: ChunkBitmap(chunkCount: 0))
        map.chunkCount = -8
        #expect(map.chunks == nil)
    }

    @Test func aHugeChunkCountFromAPeerGivesNoChunksRatherThanTrapping() async {
        // `(chunkCount + 7) / 8` overflows for a count near Int.max: a hostile have-map would crash the daemon.
        await #expect(processExitsWith: .success) {
            let json =
                #"{"id":"\#(String(repeating: "ab", count: 32))","chunkCount":9223372036854775807,"complete":false,"bitmap":""}"#
            let map = try! JSONDecoder().decode(HaveMap.self, from: Data(json.utf8))
            precondition(map.chunks == nil)
        }
    }
}
