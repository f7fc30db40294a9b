import Testing

@testable import HTTPFiles

/// The blocks a file range is sent in: 64-bit offsets, no sum past the end (a block starting in the last
/// megabyte below 2^31 used to overflow `Int` on 32-bit boxes), and the read/write window.
@Suite struct FileBodyWindowTests {
    typealias Block = FileBodyWindow.Block
    static let megabyte = 1 << 20

    /// Every block of `range`, reading and writing as fast as asked.
    static func blocks(of range: ClosedRange<Int64>, blockLength: Int = megabyte, window: Int = 4) throws -> [Block] {
        var core = try FileBodyWindow(range: range, blockLength: blockLength, window: window)
        var blocks: [Block] = []
        var pending = core.start()
        var finished = false
        while let action = pending.first {
            pending.removeFirst()
            switch action {
            case .read(let block):
                blocks.append(block)
                pending += core.readCompleted(byteCount: block.length)
            case .write: pending += core.writeCompleted(succeeded: true)
            case .finish: finished = true
            case .fail: Issue.record("failed")
            }
        }
        #expect(finished)
        return blocks
    }

    @Test func aBlockStartingInTheLastMegabyteBelow2GiBEndsAtTheRangesEnd() {
        let end = Int64(Int32.max)
        #expect(
            FileBodyWindow.block(at: end - 1000, end: end, maxLength: Self.megabyte)
                == Block(offset: end - 1000, length: 1000))
    }

    @Test func aBlockJustBelowInt64MaxEndsThere() {
        #expect(
            FileBodyWindow.block(at: .max - 10, end: .max, maxLength: Self.megabyte)
                == Block(offset: .max - 10, length: 10))
        #expect(
            FileBodyWindow.block(at: .max - 1, end: .max, maxLength: Self.megabyte)
                == Block(offset: .max - 1, length: 1))
    }

    @Test func aFullBlockIsTheMaximumLength() {
        #expect(
            FileBodyWindow.block(at: 1 << 32, end: 5 << 30, maxLength: Self.megabyte)
                == Block(offset: 1 << 32, length: Self.megabyte))
    }

    @Test func theWholeOfAFileJustUnder2GiBIsSentInFullBlocksAndOneShortOne() throws {
        let size = Int64(Int32.max)  // 2^31 - 1 bytes
        let blocks = try Self.blocks(of: 0...(size - 1))
        #expect(blocks.count == 2048)
        #expect(blocks.last == Block(offset: size - Int64(Self.megabyte) + 1, length: Self.megabyte - 1))
        #expect(blocks.map { Int64($0.length) }.reduce(0, +) == size)
    }

    @Test func theIssuesCraftedRangeIsOneShortBlock() throws {
        let blocks = try Self.blocks(of: 2_147_000_000...2_147_483_646)
        #expect(blocks == [Block(offset: 2_147_000_000, length: 483_647)])
    }

    @Test func blocksAcross2And4GiBAreContiguous() throws {
        let range: ClosedRange<Int64> = ((1 << 31) - 3_000_000)...((1 << 32) + 2_500_000)
        let blocks = try Self.blocks(of: range)
        #expect(blocks.first?.offset == range.lowerBound)
        for (block, following) in zip(blocks, blocks.dropFirst()) {
            #expect(block.offset + Int64(block.length) == following.offset)
        }
        let last = try #require(blocks.last)
        #expect(last.offset + Int64(last.length) == range.upperBound + 1)
    }

    @Test func theLastByteBeforeInt64MaxIsOneBlock() throws {
        #expect(try Self.blocks(of: (.max - 1)...(.max - 1)) == [Block(offset: .max - 1, length: 1)])
    }

    @Test func aRangeEndingAtInt64MaxOrStartingBelowZeroIsRefused() {
        #expect(throws: FileBodyError.unrepresentableRange(0...Int64.max)) {
            try FileBodyWindow(range: 0...Int64.max, blockLength: Self.megabyte, window: 4)
        }
        #expect(throws: FileBodyError.unrepresentableRange(-1...10)) {
            try FileBodyWindow(range: -1...10, blockLength: Self.megabyte, window: 4)
        }
    }

    @Test func oneReadAtATimeAndAtMostTheWindowWaitingForTheSocket() throws {
        var core = try FileBodyWindow(range: 0...(10 << 20), blockLength: Self.megabyte, window: 2)
        #expect(core.start() == [.read(Block(offset: 0, length: Self.megabyte))])
        #expect(
            core.readCompleted(byteCount: Self.megabyte)
                == [.write, .read(Block(offset: 1 << 20, length: Self.megabyte))])
        // Two blocks wait for the socket: no third read until one of them is sent.
        #expect(core.readCompleted(byteCount: Self.megabyte) == [.write])
        #expect(core.writeCompleted(succeeded: true) == [.read(Block(offset: 2 << 20, length: Self.megabyte))])
    }

    @Test func aShortReadFailsOnceTheWritesAreDone() throws {
        var core = try FileBodyWindow(range: 0...(3 << 20), blockLength: Self.megabyte, window: 4)
        _ = core.start()
        #expect(core.readCompleted(byteCount: Self.megabyte).count == 2)
        // The file was cut: the second block comes back short; the first is still being written.
        #expect(core.readCompleted(byteCount: 100) == [])
        #expect(core.writeCompleted(succeeded: true) == [.fail])
    }

    @Test func aRefusedWriteStopsTheReadsAndFailsOnceTheReadIsBack() throws {
        var core = try FileBodyWindow(range: 0...(3 << 20), blockLength: Self.megabyte, window: 4)
        _ = core.start()
        _ = core.readCompleted(byteCount: Self.megabyte)
        // The connection closed while the second block was being read.
        #expect(core.writeCompleted(succeeded: false) == [])
        #expect(core.readCompleted(byteCount: Self.megabyte) == [.fail])
    }
}
