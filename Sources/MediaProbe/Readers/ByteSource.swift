/// Random access to the bytes of one file.
///
/// The container readers only see this protocol, so the same code runs over
/// a file descriptor in production and over an in-memory buffer in tests and
/// fuzzing.
protocol ByteSource {
    /// The total length in bytes.
    var size: Int64 { get }

    /// Copies up to `buffer.count` bytes starting at `offset` into `buffer`.
    ///
    /// - returns: The number of bytes copied, which is smaller than
    ///   `buffer.count` only at the end of the data, or nil on an I/O error.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int?
}

/// A byte source over an array, for tests and fuzzing.
struct MemoryByteSource: ByteSource {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var size: Int64 { Int64(bytes.count) }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int? {
        guard offset >= 0 else { return nil }
        guard offset < Int64(bytes.count) else { return 0 }
        let start = Int(offset)
        let count = min(buffer.count, bytes.count - start)
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start..<(start + count)]))
        }
        return count
    }
}

/// Reads from a ``ByteSource`` through a small cache, and refuses to read
/// more than a fixed budget.
///
/// The budget is what keeps a hostile file (a box chain hopping across a
/// multi-gigabyte file, an element claiming a terabyte) from turning one
/// metadata probe into unbounded I/O: once it is spent every read returns
/// nil and the readers give up with whatever they found.
///
/// Not thread-safe: one instance serves one probe on one thread.
final class BoundedReader {
    /// Bytes read from the source across one probe, at most.
    static let defaultBudget = 4 << 20
    /// The first read of a file: most image headers (JPEG with EXIF, PNG
    /// chunks before IDAT) and `ftyp`+`moov` of small faststart movies fit.
    static let firstWindow = 64 << 10
    /// Later cache misses: container headers are walked in small sequential
    /// steps (box headers, EBML elements), so a modest window serves several.
    static let laterWindow = 16 << 10

    let source: any ByteSource
    let size: Int64
    private(set) var budget: Int
    private var window: [UInt8] = []
    private var windowStart: Int64 = 0
    private var hasRead = false
    private let firstWindow: Int

    /// - parameter firstWindow: The size of the first read; smaller when
    ///   only a few header bytes are wanted (sniffing an audio file).
    init(
        source: any ByteSource, budget: Int = BoundedReader.defaultBudget, firstWindow: Int = BoundedReader.firstWindow
    ) {
        self.source = source
        self.size = max(0, source.size)
        self.budget = budget
        self.firstWindow = firstWindow
    }

    convenience init(bytes: [UInt8], budget: Int = BoundedReader.defaultBudget) {
        self.init(source: MemoryByteSource(bytes), budget: budget)
    }

    /// Exactly `count` bytes at `offset`, or nil if they are not all there,
    /// the budget is spent or the read failed.
    func bytes(at offset: Int64, count: Int) -> ArraySlice<UInt8>? {
        guard let slice = bytes(upTo: count, at: offset), slice.count == count else { return nil }
        return slice
    }

    /// Up to `count` bytes at `offset`: fewer at the end of the data, nil if
    /// `offset` is outside the data, the budget is spent or the read failed.
    func bytes(upTo count: Int, at offset: Int64) -> ArraySlice<UInt8>? {
        guard count >= 0, offset >= 0, offset <= size else { return nil }
        let available = size - offset
        let wanted = Int(min(Int64(count), available))
        if wanted == 0 { return window[0..<0] }
        // Served from the window when it holds the whole range.
        if offset >= windowStart {
            let relative = offset - windowStart
            if relative <= Int64(window.count), Int64(wanted) <= Int64(window.count) - relative {
                let start = Int(relative)
                return window[start..<(start + wanted)]
            }
        }
        let preferred = hasRead ? Self.laterWindow : firstWindow
        let length = Int(min(Int64(max(wanted, preferred)), available))
        guard length <= budget else {
            // Spend what is left on exactly the bytes asked for before giving up.
            guard wanted <= budget else { return nil }
            return fill(at: offset, length: wanted)
        }
        return fill(at: offset, length: length).map { $0.prefix(wanted) }
    }

    private func fill(at offset: Int64, length: Int) -> ArraySlice<UInt8>? {
        budget -= length
        hasRead = true
        var buffer = [UInt8](repeating: 0, count: length)
        let got = buffer.withUnsafeMutableBytes { source.read(into: $0, at: offset) }
        guard let got, got > 0 else { return nil }
        if got < length { buffer.removeLast(length - got) }
        window = buffer
        windowStart = offset
        return window[0..<got]
    }
}

// Bounds-checked integer reads at offsets relative to the slice start.
// Input-derived offsets go through these so a bad length becomes nil, not a trap.
extension ArraySlice<UInt8> {
    @inline(__always)
    private func has(_ offset: Int, _ width: Int) -> Bool {
        offset >= 0 && offset <= count - width
    }

    func u8(_ offset: Int) -> UInt8? {
        guard has(offset, 1) else { return nil }
        return self[startIndex + offset]
    }

    func u16be(_ offset: Int) -> UInt16? {
        guard has(offset, 2) else { return nil }
        let i = startIndex + offset
        return UInt16(self[i]) << 8 | UInt16(self[i + 1])
    }

    func u24be(_ offset: Int) -> UInt32? {
        guard has(offset, 3) else { return nil }
        let i = startIndex + offset
        return UInt32(self[i]) << 16 | UInt32(self[i + 1]) << 8 | UInt32(self[i + 2])
    }

    func u32be(_ offset: Int) -> UInt32? {
        guard has(offset, 4) else { return nil }
        let i = startIndex + offset
        return UInt32(self[i]) << 24 | UInt32(self[i + 1]) << 16 | UInt32(self[i + 2]) << 8 | UInt32(self[i + 3])
    }

    func u64be(_ offset: Int) -> UInt64? {
        guard let high = u32be(offset), let low = u32be(offset + 4) else { return nil }
        return UInt64(high) << 32 | UInt64(low)
    }

    func u16le(_ offset: Int) -> UInt16? {
        guard has(offset, 2) else { return nil }
        let i = startIndex + offset
        return UInt16(self[i]) | UInt16(self[i + 1]) << 8
    }

    func u24le(_ offset: Int) -> UInt32? {
        guard has(offset, 3) else { return nil }
        let i = startIndex + offset
        return UInt32(self[i]) | UInt32(self[i + 1]) << 8 | UInt32(self[i + 2]) << 16
    }

    func u32le(_ offset: Int) -> UInt32? {
        guard has(offset, 4) else { return nil }
        let i = startIndex + offset
        return UInt32(self[i]) | UInt32(self[i + 1]) << 8 | UInt32(self[i + 2]) << 16 | UInt32(self[i + 3]) << 24
    }

    func u64le(_ offset: Int) -> UInt64? {
        guard let low = u32le(offset), let high = u32le(offset + 4) else { return nil }
        return UInt64(high) << 32 | UInt64(low)
    }

    /// `length` bytes from `offset`, or nil if they are not all there.
    func sub(_ offset: Int, _ length: Int) -> ArraySlice<UInt8>? {
        guard length >= 0, has(offset, length) else { return nil }
        return self[(startIndex + offset)..<(startIndex + offset + length)]
    }

    /// The bytes from `offset` to the end, or nil if `offset` is past it.
    func suffix(from offset: Int) -> ArraySlice<UInt8>? {
        guard offset >= 0, offset <= count else { return nil }
        return self[(startIndex + offset)...]
    }

    func matches(_ offset: Int, _ expected: StaticString) -> Bool {
        let count = expected.utf8CodeUnitCount
        guard has(offset, count) else { return false }
        let p = expected.utf8Start
        var i = startIndex + offset
        for k in 0..<count {
            if self[i] != p[k] { return false }
            i += 1
        }
        return true
    }

    func matches(_ offset: Int, _ expected: [UInt8]) -> Bool {
        guard has(offset, expected.count) else { return false }
        var i = startIndex + offset
        for byte in expected {
            if self[i] != byte { return false }
            i += 1
        }
        return true
    }
}

/// A four-character code as a big-endian `UInt32`, so box and chunk types
/// compare as integers in the hot loops.
@inline(__always)
func fourCC(_ code: StaticString) -> UInt32 {
    precondition(code.utf8CodeUnitCount == 4)
    let p = code.utf8Start
    return UInt32(p[0]) << 24 | UInt32(p[1]) << 16 | UInt32(p[2]) << 8 | UInt32(p[3])
}

/// Text from a metadata field: decoded leniently (bad UTF-8 becomes U+FFFD
/// rather than dropping the field), cut at the first NUL, trimmed, capped in
/// length, and nil when nothing is left.
func metadataText(_ bytes: ArraySlice<UInt8>, maxBytes: Int = 1024) -> String? {
    var end = bytes.startIndex
    let limit = bytes.startIndex + min(bytes.count, maxBytes)
    while end < limit, bytes[end] != 0 { end += 1 }
    return trimmedText(String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self))
}

/// `text` without surrounding whitespace and NULs, or nil if that leaves nothing.
func trimmedText(_ text: String) -> String? {
    let isPadding: (Character) -> Bool = { $0.isWhitespace || $0 == "\0" }
    guard let first = text.firstIndex(where: { !isPadding($0) }),
        let last = text.lastIndex(where: { !isPadding($0) })
    else { return nil }
    return String(text[first...last])
}

/// Milliseconds for `units` ticks of a clock running at `timescale` ticks per second,
/// without overflowing on hostile values.
func milliseconds(units: UInt64, timescale: UInt64) -> Int64? {
    guard timescale > 0 else { return nil }
    let (whole, overflow) = (units / timescale).multipliedReportingOverflow(by: 1000)
    guard !overflow else { return nil }
    // remainder < timescale ≤ 2^64, so compute the fractional part in a way that cannot overflow
    let remainder = units % timescale
    let fraction: UInt64
    if remainder <= UInt64.max / 1000 {
        fraction = remainder * 1000 / timescale
    } else {
        fraction = remainder / (timescale / 1000 == 0 ? 1 : timescale / 1000)
    }
    let (total, overflow2) = whole.addingReportingOverflow(min(fraction, 999))
    guard !overflow2, total <= UInt64(Int64.max) else { return nil }
    return Int64(total)
}

/// Milliseconds from a floating-point duration, nil unless finite, positive
/// and representable (`Int64(_:)` traps on NaN and out-of-range values).
func milliseconds(fromDouble value: Double) -> Int64? {
    guard value.isFinite, value >= 0, value < 9.0e15 else { return nil }
    return Int64(value.rounded())
}
