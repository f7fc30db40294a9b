/// Errors of the media index.
public enum IndexError: Error, CustomStringConvertible, Equatable {
    case cannotOpenDatabase(path: String, reason: String)
    case cannotCreateDirectory(path: String, reason: String)
    case database(String)
    case invalidQuery(String)

    public var description: String {
        switch self {
        case .cannotOpenDatabase(let path, let reason): "cannot open the index database \(path): \(reason)"
        case .cannotCreateDirectory(let path, let reason): "cannot create \(path): \(reason)"
        case .database(let message): "index database error: \(message)"
        case .invalidQuery(let message): "invalid query: \(message)"
        }
    }
}
