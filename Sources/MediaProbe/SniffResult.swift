import WireVocabulary

/// What the first bytes of a file (checked against its extension) say it is.
public struct SniffResult: Sendable, Equatable {
    public var kind: MediaKind
    /// The MIME type served to peers and players, e.g. `image/jpeg`, `video/mp4`, `audio/mpeg`.
    public var mimeType: String

    public init(kind: MediaKind, mimeType: String) {
        self.kind = kind
        self.mimeType = mimeType
    }
}
