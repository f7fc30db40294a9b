/// Which block of a file range to read next and when the body is done: the pure core of ``FileBodySender``.
///
/// One read at a time (blocks must reach the socket in order, and one disk read ahead keeps up with it), and at
/// most `window` blocks handed to the connection but not yet taken by the kernel: the socket's back-pressure paces
/// the reads, and a transfer holds at most `window` blocks of memory whatever the range's length.
///
/// Offsets are `Int64` on every architecture and no sum can overflow: the end is `upperBound + 1`, checked once
/// (a range ending at `Int64.max` is refused), and each block's length is `min(blockLength, end - offset)` with
/// `0 <= offset < end`, so a block starting in the last megabyte below 2^31, 2^32 or `Int64.max` is cut at the end
/// instead of running past it.
struct FileBodyWindow: Sendable, Equatable {
    /// A block of the file: `length` bytes at `offset`.
    struct Block: Sendable, Equatable {
        var offset: Int64
        var length: Int
    }

    enum Action: Sendable, Equatable {
        /// Read this block (one read is outstanding at most).
        case read(Block)
        /// Hand the block just read to the connection.
        case write
        /// Every block has been taken by the connection.
        case finish
        /// Stop: a read or write failed, and nothing is outstanding any more.
        case fail
    }

    let end: Int64
    let blockLength: Int
    let window: Int
    /// The next byte to read.
    private(set) var next: Int64
    private var reading: Block?
    private var writesOutstanding = 0
    private var failed = false
    private var over = false

    /// - Throws: ``FileBodyError/unrepresentableRange(_:)`` for a negative start or an end of `Int64.max` (whose
    ///   exclusive end does not exist); ``ByteRangeRequest`` never yields either for a real file.
    init(range: ClosedRange<Int64>, blockLength: Int, window: Int) throws(FileBodyError) {
        precondition(blockLength > 0 && window > 0, "a block and the window hold at least one byte and one block")
        let (end, overflow) = range.upperBound.addingReportingOverflow(1)
        guard range.lowerBound >= 0, !overflow else { throw .unrepresentableRange(range) }
        self.end = end
        self.blockLength = blockLength
        self.window = window
        next = range.lowerBound
    }

    /// The block starting at `offset` of a range ending before `end`: at most `maxLength` bytes, never past `end`.
    static func block(at offset: Int64, end: Int64, maxLength: Int) -> Block {
        precondition(0 <= offset && offset < end && maxLength > 0)
        // `end - offset` is positive and fits Int64: no sum is formed that could pass Int64.max (or Int.max).
        let remaining = end - offset
        let length = remaining < Int64(maxLength) ? Int(exactly: remaining) ?? maxLength : maxLength
        return Block(offset: offset, length: length)
    }

    mutating func start() -> [Action] {
        readIfRoom()
    }

    /// The read of the outstanding block ended with `byteCount` bytes (fewer when the file was cut meanwhile).
    mutating func readCompleted(byteCount: Int) -> [Action] {
        guard let block = reading else { preconditionFailure("no read outstanding") }
        reading = nil
        guard !failed, byteCount == block.length else {
            failed = true
            return finishIfDrained()
        }
        next = block.offset + Int64(block.length)
        writesOutstanding += 1
        return [.write] + readIfRoom()
    }

    mutating func readFailed() -> [Action] {
        precondition(reading != nil, "no read outstanding")
        reading = nil
        failed = true
        return finishIfDrained()
    }

    /// The oldest outstanding write completed; `succeeded` false when the connection refused it (closed, reset).
    mutating func writeCompleted(succeeded: Bool) -> [Action] {
        precondition(writesOutstanding > 0, "no write outstanding")
        writesOutstanding -= 1
        if !succeeded { failed = true }
        return readIfRoom() + finishIfDrained()
    }

    private mutating func readIfRoom() -> [Action] {
        guard !failed, reading == nil, writesOutstanding < window, next < end else { return [] }
        let block = Self.block(at: next, end: end, maxLength: blockLength)
        reading = block
        return [.read(block)]
    }

    private mutating func finishIfDrained() -> [Action] {
        guard !over, reading == nil, writesOutstanding == 0, failed || next >= end else { return [] }
        over = true
        return [failed ? .fail : .finish]
    }
}

/// Why a file body could not be sent. The response head has gone out by then: the connection is closed.
public enum FileBodyError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, errno: Int32)
    case changedSize(path: String)
    case cannotRead(path: String, offset: Int64, errno: Int32)
    /// The file ended before the range did: it was cut while being sent.
    case shortened(path: String, offset: Int64)
    case unrepresentableRange(ClosedRange<Int64>)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let number): "cannot open \(path): \(errorText(number))"
        case .changedSize(let path): "\(path) changed size since it was indexed"
        case .cannotRead(let path, let offset, let number):
            "cannot read \(path) at byte \(offset): \(errorText(number))"
        case .shortened(let path, let offset): "\(path) ends before byte \(offset): it was cut while being sent"
        case .unrepresentableRange(let range): "the byte range \(range) has no end below 2^63"
        }
    }
}
