import GRDB

/// Errors of the media index. Callers tell apart a database that is only busy (ask again later) from one that is
/// damaged (it is moved aside and rebuilt at the next start) and from other failures.
public enum IndexError: Error, CustomStringConvertible, Equatable {
    case cannotOpenDatabase(path: String, reason: String)
    case cannotCreateDirectory(path: String, reason: String)
    /// The state folder exists but the daemon cannot write in it (a read-only file system, its permissions).
    case stateFolderNotWritable(path: String, reason: String)
    /// Another connection held the database longer than the busy timeout (SQLITE_BUSY, SQLITE_LOCKED).
    case busy(String)
    /// SQLite found the file damaged or not a database (SQLITE_CORRUPT, SQLITE_NOTADB).
    case corrupt(String)
    /// Any other database failure.
    case database(String)
    /// The task waiting for the database was cancelled (the daemon is stopping).
    case cancelled
    case invalidQuery(String)

    /// Classifies an error thrown by GRDB.
    init(_ error: any Error) {
        switch error {
        case let error as IndexError:
            self = error
        case is CancellationError:
            self = .cancelled
        case let error as DatabaseError:
            let message = error.message ?? "\(error)"
            switch error.resultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED: self = .busy(message)
            case .SQLITE_CORRUPT, .SQLITE_NOTADB: self = .corrupt(message)
            // GRDB interrupts a statement whose task is cancelled.
            case .SQLITE_INTERRUPT: self = .cancelled
            default: self = .database("\(error)")
            }
        default:
            self = .database("\(error)")
        }
    }

    public var description: String {
        switch self {
        case .cannotOpenDatabase(let path, let reason): "cannot open the index database \(path): \(reason)"
        case .cannotCreateDirectory(let path, let reason): "cannot create \(path): \(reason)"
        case .stateFolderNotWritable(let path, let reason):
            "the state folder \(path) (state_dir) is not writable: \(reason); make it writable for the daemon's user "
                + "(remount its file system read-write if it is read-only) or set state_dir to a writable folder"
        case .busy(let message): "the index database is busy: \(message)"
        case .corrupt(let message): "the index database is damaged (it is rebuilt at the next start): \(message)"
        case .database(let message): "index database error: \(message)"
        case .cancelled: "cancelled while waiting for the index database"
        case .invalidQuery(let message): "invalid query: \(message)"
        }
    }
}
