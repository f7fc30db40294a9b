import Foundation
import Synchronization

/// What the hostile side did, as counters in a JSON file the test reads from the host (a box's folder is shared
/// with it): how many requests of each kind it answered, bytes sent, connections held. Written whole and renamed
/// into place on every change (under the lock, so an older snapshot never replaces a newer one), so a reader never
/// sees half a file.
final class Stats: Sendable {
    struct Snapshot: Codable {
        var peerID: String
        /// The content id of the object the peer offers, if any.
        var object: String?
        var counters: [String: Int]
    }

    private let path: String?
    private let state: Mutex<Snapshot>

    init(path: String?, peerID: String, object: String? = nil) {
        self.path = path
        state = Mutex(Snapshot(peerID: peerID, object: object, counters: [:]))
    }

    func add(_ counter: String, _ amount: Int = 1) {
        state.withLock { snapshot in
            snapshot.counters[counter, default: 0] += amount
            write(snapshot)
        }
    }

    func set(_ values: [String: Int]) {
        state.withLock { snapshot in
            snapshot.counters.merge(values) { $1 }
            write(snapshot)
        }
    }

    func setPeerID(_ id: String) {
        state.withLock { snapshot in
            snapshot.peerID = id
            write(snapshot)
        }
    }

    private func write(_ snapshot: Snapshot) {
        guard let path, let data = try? JSONEncoder().encode(snapshot) else { return }
        let temporary = path + ".\(UUID().uuidString.prefix(8))"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else { return }
        _ = rename(temporary, path)
    }
}
