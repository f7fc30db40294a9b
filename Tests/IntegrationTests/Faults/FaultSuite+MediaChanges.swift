import ControlWire
import Foundation
import Testing
import WireVocabulary

/// Media files changing under the daemon: truncated, overwritten in place, replaced or renamed while box 1 hashes
/// them or serves them to box 2's fetch. No crash, no changed bytes accepted under a content id (box 2 verifies every
/// chunk, the invariants every complete replica), and box 1's index settles to the files present, each with the
/// content id of the bytes it now has.
extension FaultSuite {
    /// How a media file changes.
    private enum MediaChange: CaseIterable {
        /// Cut at a seeded length, as a copy that ran out of space leaves it.
        case truncated
        /// A seeded run of bytes overwritten in place: same size, same inode, a new mtime.
        case overwritten
        /// Another file of the same size renamed over it, as a tagger or a downloader does.
        case replaced
        /// Renamed in its folder: the same bytes under another name.
        case renamed
    }

    /// The folder of box 1's media that the scenario changes.
    private static let changingFolder = "changing"

    @Test func mediaChangingWhileHashedOrServedNeverServesChangedBytes() throws {
        let harness = try FaultHarness(scenario: "media-changes", boxes: 2, tag: "mc", aroundTheDaemon: true)
        let folder = harness.home.box(1) + "/media/" + Self.changingFolder
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try harness.start(1)
        try harness.start(2)
        try harness.home.shape(1, rate: "40mbit")
        try harness.runs { run in
            // The previous run's files go (a change the index follows like any other), so that each run's checks
            // read one file's worth of media, not every run's.
            for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
                try FileManager.default.removeItem(atPath: folder + "/" + name)
            }
            let served = harness.pick(0...1) == 1
            let change = MediaChange.allCases[harness.pick(0...(MediaChange.allCases.count - 1))]
            let path = folder + "/subject-\(run).mkv"
            let size = Int64(harness.pick(16...32)) << 20
            let pid = try #require(harness.status(1)?.pid)
            try Self.writeVideo(harness, at: path, size: size)
            var fetched: ContentID?
            if served {
                let id = try harness.home.contentID(of: Self.changingFolder + "/subject-\(run).mkv", in: 1)
                try harness.home.waitUntilListed(id, in: 2, heldBy: ["Box 1"], timeout: .seconds(60))
                let fetch = try harness.home.ctl(2, ["fetch", id.hex])
                guard fetch.status == 0 else { throw TestFailure("box 2 cannot fetch: \(fetch.stderr)") }
                let moment = harness.pick(1...Int(size >> 20) - 1)
                var finished = false
                try eventually(timeout: .seconds(120), "box 2 verified \(moment) chunks") {
                    guard let state = try harness.home.fetchState(id, in: 2) else { return false }
                    finished = state.isFinished
                    return state.chunksDone >= moment || finished
                }
                if finished { harness.missedPhase() }
                fetched = id
            } else {
                // The moment: the hasher's read offset in the file (its descriptor's position in /proc).
                let moment = Int64(harness.pick(1...99)) * size / 100
                if !Self.waitUntilRead(pid: pid, path: path, reaches: moment) { harness.missedPhase() }
            }
            try Self.apply(change, to: path, size: size, harness, run: run)
            harness.injectedElsewhere()
            let ended = ContinuousClock.now
            let answered = harness.timeToAnswer(1, since: ended)
            if let id = fetched { try Self.endFetch(id, harness, after: change) }
            try Self.waitUntilIndexHasTheBytes(harness, folder: folder)
            let before = try harness.mediaDigests([1, 2])
            try harness.check([1, 2], mediaBefore: before, recovered: [1: answered])
        }
    }

    /// A fresh Matroska file of `size` bytes (the fixture padded with random bytes), moved in whole.
    private static func writeVideo(_ harness: FaultHarness, at path: String, size: Int64) throws {
        let staging = harness.home.folder + "/staging-changing"
        let fixture = MediaFixtures.folder + "/" + MediaFixtures.film
        let fixtureSize = (try FileManager.default.attributesOfItem(atPath: fixture)[.size] as? NSNumber)?.int64Value
        let padding = size - (fixtureSize ?? 0)
        let made = try Command.run(
            "/bin/sh",
            ["-c", "cat \"$1\" > \"$2\" && head -c \(padding) /dev/urandom >> \"$2\" && mv \"$2\" \"$3\"", "sh"]
                + [fixture, staging, path],
            timeout: .seconds(120))
        guard made.status == 0 else { throw TestFailure("cannot write \(path): \(made.stderr)") }
    }

    /// Waits (polling /proc, a millisecond at a time) until process `pid` has read `path` up to `offset`; false if
    /// it was not seen reading there before the file was hashed (the moment had passed).
    private static func waitUntilRead(pid: Int32, path: String, reaches offset: Int64) -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        var seenOpen = false
        while ContinuousClock.now < deadline {
            if let position = readPosition(pid: pid, path: path) {
                seenOpen = true
                if position >= offset { return true }
            } else if seenOpen {
                return false
            }
            usleep(1000)
        }
        return false
    }

    /// The file position of `pid`'s descriptor open on `path`, if it has one.
    private static func readPosition(pid: Int32, path: String) -> Int64? {
        let descriptors = "/proc/\(pid)/fd"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: descriptors) else { return nil }
        for name in names {
            guard (try? FileManager.default.destinationOfSymbolicLink(atPath: descriptors + "/" + name)) == path,
                let info = try? String(contentsOfFile: "/proc/\(pid)/fdinfo/\(name)", encoding: .utf8),
                let line = info.split(separator: "\n").first(where: { $0.hasPrefix("pos:") })
            else { continue }
            return Int64(line.dropFirst(4).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    private static func apply(
        _ change: MediaChange, to path: String, size: Int64, _ harness: FaultHarness, run: Int
    ) throws {
        switch change {
        case .truncated:
            guard truncate(path, off_t(harness.pick((1 << 20)...Int(size - 1)))) == 0 else {
                throw TestFailure("cannot truncate \(path): errno \(errno)")
            }
        case .overwritten:
            let length = harness.pick(4096...65536)
            let offset = UInt64(harness.pick(0...Int(size) - length))
            let garbage = (0..<length).map { _ in UInt8.random(in: 0...255, using: &harness.random) }
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            try handle.seek(toOffset: offset)
            try handle.write(contentsOf: garbage)
        case .replaced:
            try writeVideo(harness, at: path, size: size)
        case .renamed:
            let renamed = (path as NSString).deletingLastPathComponent + "/renamed-\(run).mkv"
            guard rename(path, renamed) == 0 else { throw TestFailure("cannot rename \(path): errno \(errno)") }
        }
    }

    /// Lets box 2's fetch of `id` finish; one whose object no longer exists anywhere waits for a holder forever, so
    /// it is cancelled once box 1 no longer lists it. A renamed file still holds the same bytes: its fetch completes.
    private static func endFetch(_ id: ContentID, _ harness: FaultHarness, after change: MediaChange) throws {
        let mustComplete = change == .renamed
        var state: FetchProgress?
        do {
            try eventually(timeout: .seconds(120), "box 2's fetch completes or its object is gone") {
                state = try harness.home.fetchState(id, in: 2)
                if state?.isFinished ?? true { return true }
                let held = try harness.home.indexCount(
                    1, "SELECT count(*) FROM media WHERE content_id = x'\(id.hex)';")
                return !mustComplete && held == 0 && state?.state != .downloading
            }
        } catch {
            throw TestFailure(
                "\(error) after the file was \(change): \(String(describing: state))\n"
                    + "box 1's log ends:\n\(harness.home.log(1).suffix(2500))\nbox 2's log ends:\n"
                    + harness.home.log(2).suffix(4000))
        }
        if mustComplete, state?.state != .complete {
            throw TestFailure("box 2's fetch of a renamed file ended \(String(describing: state))")
        }
        if let state, !state.isFinished {
            let cancel = try harness.home.ctl(2, ["fetch", "--cancel", id.hex])
            guard cancel.status == 0 else { throw TestFailure("box 2 cannot cancel: \(cancel.stderr)") }
        }
    }

    /// Waits until box 1's index lists exactly the files in `folder`, each with the content id of its bytes now.
    private static func waitUntilIndexHasTheBytes(_ harness: FaultHarness, folder: String) throws {
        var differences: [String] = []
        do {
            try eventually(timeout: .seconds(60), "box 1's index has the content ids of the files present") {
                let files = try SimulatedHome.contentIDs(ofFilesIn: folder)
                let rows = try harness.home.indexRows(
                    1,
                    "SELECT rel_path, lower(hex(content_id)) FROM media WHERE rel_path LIKE '\(Self.changingFolder)/%';"
                )
                let indexed = Dictionary(rows.map { ($0[0], $0.count > 1 ? $0[1] : "") }) { first, _ in first }
                let present = Dictionary(
                    files.map { (Self.changingFolder + "/" + $0.name, $0.contentIDOfBytes ?? "") }
                ) { first, _ in first }
                differences = Set(indexed.keys).union(present.keys).sorted().compactMap { path in
                    indexed[path] == present[path]
                        ? nil : "\(path): index \(indexed[path] ?? "none"), bytes \(present[path] ?? "none")"
                }
                return differences.isEmpty
            }
        } catch {
            throw TestFailure(
                "box 1's index does not match its changed files:\n" + differences.joined(separator: "\n") + "\n"
                    + harness.home.log(1).suffix(3000))
        }
    }
}
