import MediaIndex

/// Why replication failed.
public enum ReplicationError: Error, Equatable, CustomStringConvertible {
    /// The cache folder or a file in it could not be written.
    case cache(String)
    case doesNotFit(needed: Int64, available: Int64, reason: String)
    /// The index failed (busy, damaged, …: the case says which).
    case index(IndexError)

    public var description: String {
        switch self {
        case .cache(let message): "cache: \(message)"
        case .doesNotFit(let needed, let available, let reason):
            "the object does not fit: it needs \(needed) bytes and \(reason) leaves \(available)"
        case .index(let error): "index: \(error)"
        }
    }
}
