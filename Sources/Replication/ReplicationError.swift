/// Why replication failed.
public enum ReplicationError: Error, Equatable, CustomStringConvertible {
    case cache(String)
    case doesNotFit(needed: Int64, available: Int64, reason: String)
    case notFound(String)
    case ambiguous(String)
    case index(String)

    public var description: String {
        switch self {
        case .cache(let message): "cache: \(message)"
        case .doesNotFit(let needed, let available, let reason):
            "the object does not fit: it needs \(needed) bytes and \(reason) leaves \(available)"
        case .notFound(let message): message
        case .ambiguous(let message): message
        case .index(let message): "index: \(message)"
        }
    }
}
