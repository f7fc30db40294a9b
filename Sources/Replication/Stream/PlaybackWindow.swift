/// How far ahead of a player's read the fetch gives deadlines, and how fast the play goes: a few seconds of play,
/// from the title's bitrate (its size over its duration) when the catalog knows its duration, else from a
/// generous assumed one.
struct PlaybackWindow: Sendable, Equatable {
    /// Assumed when the duration is unknown: 50 Mbit/s, above most home video, so the window is ample.
    static let assumedBytesPerSecond: Int64 = 6_250_000
    /// Never less, whatever the bitrate: 32 chunks.
    static let minimumBytes: Int64 = 32 << 20
    /// Seconds of play the window covers.
    static let seconds: Int64 = 10

    let bytesPerSecond: Int64
    /// The bytes ahead of a read that get deadlines.
    let bytes: Int64

    init(size: Int64?, durationMilliseconds: Int64?) {
        if let size, let durationMilliseconds, size > 0, durationMilliseconds > 0 {
            bytesPerSecond = max(1, Int64(Double(size) * 1000 / Double(durationMilliseconds)))
        } else {
            bytesPerSecond = Self.assumedBytesPerSecond
        }
        bytes = max(Self.minimumBytes, bytesPerSecond.multipliedReportingOverflow(by: Self.seconds).partialValue)
    }

    /// The bytes to fetch first for a read of `range`: those under it (up to one window: a player asks for the
    /// rest of the file and reads it as it plays) and a window after them.
    func span(of range: ClosedRange<Int64>) -> Range<Int64> {
        let start = max(0, range.lowerBound)
        let underEnd = min(range.upperBound, start + bytes - 1) + 1
        return start..<(underEnd + bytes)
    }

    /// True when a read at `offset` has left `span` or used half of it: the deadlines move with the play.
    func needsMove(_ span: Range<Int64>, readingAt offset: Int64) -> Bool {
        offset < span.lowerBound || offset >= span.lowerBound + bytes / 2
    }
}
