import PeerProtocol
import Synchronization
import WireVocabulary

/// Remembers for a second which file serves which object. A fetching box asks for one chunk after another, and a
/// player for many small ranges: without this, every request would cost two SQLite queries and the decoding of
/// the object's whole chunk-hash list. A second is short enough that a file replaced meanwhile is noticed at once
/// by the size check before sending, and by the receiver's chunk verification in any case.
final class ServableObjectCache: Sendable {
    private struct Entry {
        var object: ServableObject
        var expires: ContinuousClock.Instant
    }

    private let entries = Mutex<[ContentID: Entry]>([:])
    private let lifetime: Duration = .seconds(1)
    private let capacity = 256

    func lookup(_ id: ContentID) -> ServableObject? {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard let entry = entries[id] else { return nil }
            guard entry.expires > now else {
                entries[id] = nil
                return nil
            }
            return entry.object
        }
    }

    func store(_ object: ServableObject) {
        let now = ContinuousClock.now
        entries.withLock { entries in
            if entries.count >= capacity { entries = entries.filter { $0.value.expires > now } }
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[object.id] = Entry(object: object, expires: now + lifetime)
        }
    }
}
