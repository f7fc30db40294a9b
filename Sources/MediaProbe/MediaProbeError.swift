/// Why a file could not be probed at all.
///
/// Only I/O failures are errors: a file that opens but holds garbage is
/// reported as "not media" (nil) by ``MediaSniffer`` and as empty fields by
/// ``MediaProbe``.
public enum MediaProbeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `open(2)` failed; `reason` is the errno text, e.g. "No such file or directory".
    case cannotOpen(path: String, reason: String)
    /// Reading or measuring an opened file failed; `reason` is the errno text.
    case readFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open \(path): \(reason)"
        case .readFailed(let path, let reason): "cannot read \(path): \(reason)"
        }
    }
}
