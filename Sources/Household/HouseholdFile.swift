import BoxIdentity
import Foundation
import PeerWire

/// `state_dir/household`: the roster of the household this box is in, as JSON, written atomically with mode 0600
/// (it names every box of the home). No file: the box is in LAN mode.
public struct HouseholdFile: Sendable {
    public let path: String

    public init(stateDirectory: String) {
        path = stateDirectory + "/household"
    }

    struct Contents: Codable {
        /// The roster's tag when written (``Roster/tag``), for a person reading the file.
        var version: String
        var roster: RosterDocument
    }

    /// The roster kept, every record checked again; nil when there is none (LAN mode).
    public func load() throws(HouseholdFileError) -> Roster? {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as CocoaError where error.code == .fileReadNoSuchFile {
            return nil
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        guard data.count <= 1 << 20 else { throw .unreadable(path: path, reason: "larger than 1 MiB") }
        do {
            let contents = try JSONDecoder().decode(Contents.self, from: data)
            return try Roster(verifying: contents.roster)
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
    }

    public func save(_ roster: Roster) throws(HouseholdFileError) {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(Contents(version: roster.tag, roster: roster.document))
            try AtomicFile.write(data, to: path, mode: 0o600)
        } catch {
            throw .cannotWrite(path: path, reason: "\(error)")
        }
    }

    /// Back to LAN mode.
    public func remove() throws(HouseholdFileError) {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw .cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
    }
}

public enum HouseholdFileError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            "the household file \(path) cannot be read: \(reason). Restore it from a backup, or move it away to "
                + "start in LAN mode and pair the box again"
        case .cannotWrite(let path, let reason):
            "cannot write \(path): \(reason); check that state_dir is writable by the daemon"
        }
    }
}
