import Foundation

/// What the fault suite read of one box once a fault ended and the box recovered: plain values, so the invariants
/// below are checked by a pure function that tests can feed made-up facts.
struct BoxFacts: Sendable, Equatable {
    var box: Int
    var peerID: String
    /// Every regular file under the media folder before the fault, by path relative to it: its SHA-256.
    var mediaBefore: [String: String]
    /// The same after the fault and the recovery.
    var mediaAfter: [String: String]
    /// What `PRAGMA integrity_check` printed.
    var integrityCheck: String
    /// The paths (relative to the media folder) the index lists, after the rescan that follows a restart.
    var indexedPaths: Set<String>
    /// The content ids of the box's own media files, as its index has them.
    var mediaContentIDs: Set<String>
    /// The replica records, by content id: whether each is complete.
    var replicaRecords: [String: Bool]
    /// The files in `cache_dir/objects`.
    var cacheFiles: [CacheFile]
    var cacheMaxBytes: Int64
    /// How long `mediapeerctl status` took to answer once the fault ended; nil if it never did within the wait.
    var statusAnsweredAfter: Duration?
    /// Whether the daemon was still running when the facts were read (a daemon that died by itself crashed).
    var daemonRunning: Bool
    /// Media-folder files no player can play (empty, cut before their format's header, unreadable to the daemon):
    /// present, yet the index must not list them.
    var unplayable: Set<String> = []

    struct CacheFile: Sendable, Equatable {
        var name: String
        var size: Int64
        /// For a complete file (no `.partial`): the content id its bytes hash to, computed apart from the daemon.
        var contentIDOfBytes: String?
    }

    /// The content ids this box holds whole: its media files' and its complete replicas'.
    var heldWhole: Set<String> {
        mediaContentIDs.union(replicaRecords.filter(\.value).keys)
    }
}

/// What a neighbour's index lists for a box: content id → listed as complete.
struct CatalogView: Sendable, Equatable {
    var observer: Int
    var subject: Int
    var entries: [String: Bool]
}

/// One broken promise, worded so that a failing run says what to look at.
struct InvariantViolation: Sendable, Equatable, CustomStringConvertible {
    enum Invariant: String, Sendable, CaseIterable {
        case mediaUnchanged = "media bytes unchanged"
        case nothingWrittenInMedia = "nothing written inside a media folder"
        case indexIntact = "index integrity_check ok"
        case indexMatchesMedia = "index lists exactly the media files present"
        case replicaMatchesID = "every complete replica hashes to its content id"
        case partialHasRecord = "no .partial file without a record"
        case cacheWithinQuota = "cache within cache_max"
        case catalogTruthful = "no catalog entry for an object the box does not hold"
        case statusAnswers = "status answers within the bound"
        case noCrash = "the daemon did not die by itself"
    }

    var invariant: Invariant
    var box: Int
    var detail: String

    var description: String { "box \(box): \(invariant.rawValue): \(detail)" }
}

/// The promises to a household, checked over the whole end state of every box after a fault and its recovery.
enum FaultInvariants {
    /// The violations in `boxes`' facts and the neighbours' `views` of them; empty when every promise holds.
    static func violations(_ boxes: [BoxFacts], views: [CatalogView], statusBound: Duration) -> [InvariantViolation] {
        boxes.flatMap { violations($0, statusBound: statusBound) }
            + views.flatMap { view in
                boxes.first { $0.box == view.subject }.map { catalogViolations(view, of: $0) } ?? []
            }
    }

    static func violations(_ box: BoxFacts, statusBound: Duration) -> [InvariantViolation] {
        var found: [InvariantViolation] = []
        func add(_ invariant: InvariantViolation.Invariant, _ detail: String) {
            found.append(InvariantViolation(invariant: invariant, box: box.box, detail: detail))
        }
        for (path, digest) in box.mediaBefore.sorted(by: { $0.key < $1.key }) {
            switch box.mediaAfter[path] {
            case nil: add(.mediaUnchanged, "\(path) is gone")
            case let after? where after != digest: add(.mediaUnchanged, "\(path) changed (\(digest) → \(after))")
            default: break
            }
        }
        for path in Set(box.mediaAfter.keys).subtracting(box.mediaBefore.keys).sorted() {
            add(.nothingWrittenInMedia, "\(path) appeared")
        }
        if box.integrityCheck.trimmingCharacters(in: .whitespacesAndNewlines) != "ok" {
            add(.indexIntact, box.integrityCheck)
        }
        let present = Set(box.mediaAfter.keys).subtracting(box.unplayable)
        for path in box.indexedPaths.intersection(box.unplayable).sorted() {
            add(.indexMatchesMedia, "lists \(path), not playable")
        }
        for path in box.indexedPaths.subtracting(present).subtracting(box.unplayable).sorted() {
            add(.indexMatchesMedia, "lists \(path), absent")
        }
        for path in present.subtracting(box.indexedPaths).sorted() { add(.indexMatchesMedia, "misses \(path)") }
        checkCache(box, add: add)
        if let answered = box.statusAnsweredAfter {
            if answered > statusBound { add(.statusAnswers, "answered after \(answered), bound \(statusBound)") }
        } else {
            add(.statusAnswers, "never answered")
        }
        if !box.daemonRunning { add(.noCrash, "mediapeerd is not running") }
        return found
    }

    private static func checkCache(_ box: BoxFacts, add: (InvariantViolation.Invariant, String) -> Void) {
        var completeFiles: Set<String> = []
        for file in box.cacheFiles {
            if file.name.hasSuffix(".partial") {
                let id = String(file.name.dropLast(".partial".count))
                if box.replicaRecords[id] == nil { add(.partialHasRecord, file.name) }
            } else {
                completeFiles.insert(file.name)
                if file.contentIDOfBytes != file.name {
                    add(.replicaMatchesID, "\(file.name) hashes to \(file.contentIDOfBytes ?? "nothing")")
                }
            }
        }
        for (id, complete) in box.replicaRecords.sorted(by: { $0.key < $1.key }) where complete {
            if !completeFiles.contains(id) { add(.replicaMatchesID, "\(id) is recorded complete but has no file") }
        }
        let used = box.cacheFiles.reduce(Int64(0)) { $0 + $1.size }
        if used > box.cacheMaxBytes { add(.cacheWithinQuota, "\(used) bytes in a cache of \(box.cacheMaxBytes)") }
    }

    /// A neighbour may list an object as complete only if the box holds it whole, and as partial only if the box
    /// has a replica record of it.
    static func catalogViolations(_ view: CatalogView, of box: BoxFacts) -> [InvariantViolation] {
        let held = box.heldWhole
        return view.entries.sorted(by: { $0.key < $1.key }).compactMap { id, complete in
            let holds = complete ? held.contains(id) : (held.contains(id) || box.replicaRecords[id] != nil)
            guard !holds else { return nil }
            return InvariantViolation(
                invariant: .catalogTruthful, box: box.box,
                detail: "box \(view.observer) lists \(id.prefix(16)) (\(complete ? "complete" : "partial"))")
        }
    }
}
