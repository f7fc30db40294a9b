import Testing
import WireVocabulary

@Suite struct ChunkBitmapTests {
    @Test func anEmptyBitmapHoldsNothing() {
        let map = ChunkBitmap(chunkCount: 10)
        #expect(map.bytes == [0, 0])
        #expect(map.count == 0)
        #expect(!map.isComplete)
        #expect(!(0..<10).contains(where: map.contains))
    }

    @Test func aFullBitmapHoldsEveryChunkAndNoPaddingBit() {
        let map = ChunkBitmap(chunkCount: 10, full: true)
        #expect(map.bytes == [0xFF, 0b1100_0000])
        #expect(map.count == 10)
        #expect(map.isComplete)
    }

    @Test func bitZeroIsTheMostSignificantBitOfTheFirstByte() {
        var map = ChunkBitmap(chunkCount: 16)
        map.insert(0)
        map.insert(9)
        #expect(map.bytes == [0b1000_0000, 0b0100_0000])
    }

    @Test func containsIsFalseOutsideTheObject() {
        let map = ChunkBitmap(chunkCount: 3, full: true)
        #expect(!map.contains(-1))
        #expect(!map.contains(3))
        #expect(!map.contains(Int.max))
    }

    @Test func anObjectWithoutChunksIsComplete() {
        let map = ChunkBitmap(chunkCount: 0)
        #expect(map.bytes.isEmpty)
        #expect(map.isComplete)
    }

    @Test func containsAllChecksEveryChunkOfTheRange() {
        var map = ChunkBitmap(chunkCount: 8)
        for index in [2, 3, 4, 6] { map.insert(index) }
        #expect(map.containsAll(2..<5))
        #expect(!map.containsAll(2..<7))
        #expect(map.containsAll(5..<5))
        #expect(!map.containsAll(7..<9))
    }

    @Test func parsedBytesRoundTrip() {
        var map = ChunkBitmap(chunkCount: 21)
        for index in [0, 7, 8, 15, 20] { map.insert(index) }
        #expect(ChunkBitmap(chunkCount: 21, bytes: map.bytes) == map)
    }

    @Test func parsingRejectsTheWrongLength() {
        #expect(ChunkBitmap(chunkCount: 9, bytes: [0xFF]) == nil)
        #expect(ChunkBitmap(chunkCount: 8, bytes: [0xFF, 0]) == nil)
        #expect(ChunkBitmap(chunkCount: 0, bytes: [0]) == nil)
    }

    @Test func parsingRejectsAPaddingBitSet() {
        #expect(ChunkBitmap(chunkCount: 9, bytes: [0xFF, 0b0100_0000]) == nil)
        #expect(ChunkBitmap(chunkCount: 9, bytes: [0xFF, 0b0000_0001]) == nil)
        #expect(ChunkBitmap(chunkCount: 9, bytes: [0xFF, 0b1000_0000]) != nil)
    }

    @Test func parsingAcceptsAnyLastByteWhenTheCountIsAMultipleOfEight() {
        #expect(ChunkBitmap(chunkCount: 16, bytes: [0x01, 0xFF])?.count == 9)
    }

    @Test func parsingRejectsANegativeCount() {
        #expect(ChunkBitmap(chunkCount: -1, bytes: []) == nil)
    }

    @Test func parsingAnAbsurdCountFromThePeerReturnsNilRatherThanTrapping() async {
        await #expect(processExitsWith: .success) {
            precondition(ChunkBitmap(chunkCount: Int.max, bytes: []) == nil)
            precondition(ChunkBitmap(chunkCount: Int.max - 3, bytes: []) == nil)
        }
    }
}
