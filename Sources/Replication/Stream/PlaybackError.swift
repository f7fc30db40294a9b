/// Why a player got no bytes.
public enum PlaybackError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No box provided the bytes within the bounded wait, or the fetch failed; the reason says why (for the log
    /// and the player).
    case unavailable(String)
    /// The reading task was cancelled (the player went away).
    case cancelled

    public var description: String {
        switch self {
        case .unavailable(let reason): reason
        case .cancelled: "the read was cancelled"
        }
    }
}
