import ControlWire
import Foundation
import WireVocabulary

/// What the fetch tests need of a simulated home: media of a chosen size, checksums, and the fetch state.
extension SimulatedHome {
    /// A real Matroska file padded with random bytes to about `megabytes` MiB: sniffed and indexed as video, large
    /// enough to span many chunks. Written next to the media folder and moved in, so the index sees it whole.
    @discardableResult
    func addLargeVideo(_ name: String, megabytes: Int, to boxes: [Int]) throws -> String {
        let staging = folder + "/staging-" + name
        if !FileManager.default.fileExists(atPath: staging) {
            try MediaFixtures.copy(MediaFixtures.film, to: staging)
            let pad = try Command.run(
                "/bin/sh", ["-c", "head -c \(megabytes << 20) /dev/urandom >> '\(staging)'"], timeout: .seconds(120))
            guard pad.status == 0 else { throw TestFailure("cannot pad \(staging): \(pad.stderr)") }
        }
        for index in boxes {
            try FileManager.default.createDirectory(atPath: box(index) + "/media", withIntermediateDirectories: true)
            let copy = try Command.run(
                "/bin/sh",
                [
                    "-c",
                    "cp '\(staging)' '\(box(index))/media/.\(name)' && mv '\(box(index))/media/.\(name)' '\(box(index))/media/\(name)'",
                ])
            guard copy.status == 0 else { throw TestFailure("cannot copy \(name) into box \(index): \(copy.stderr)") }
        }
        return staging
    }

    /// The content id box `index` computed for one of its media files, once it has.
    func contentID(of name: String, in index: Int, timeout: Duration = .seconds(60)) throws -> ContentID {
        var found: ContentID?
        try eventually(timeout: timeout, "box \(index) hashed \(name)") {
            let page = try decode(LibraryPage.self, index, ["library", "list"])
            found = page.items.first { $0.path == name }?.contentID
            return found != nil
        }
        return found!
    }

    /// What box `index` lists of the whole home.
    func home(_ index: Int) throws -> HomePage {
        // Past a page of the default length: a hostile neighbour's catalog (the fault suite's, up to its 2000
        // entries) may come first.
        try decode(HomePage.self, index, ["library", "list", "--all", "--limit", "5000"])
    }

    /// Waits until box `index` lists `id` as held by every box in `holders` (by name).
    func waitUntilListed(_ id: ContentID, in index: Int, heldBy holders: Set<String>, timeout: Duration = .seconds(30))
        throws
    {
        try eventually(timeout: timeout, "box \(index) lists \(id.hex.prefix(12)) at \(holders)") {
            let item = try home(index).items.first { $0.id == id }
            return item.map { Set($0.holderNames).isSuperset(of: holders) } ?? false
        }
    }

    func fetches(_ index: Int) throws -> [FetchProgress] {
        try decode(FetchList.self, index, ["fetches"]).fetches
    }

    func fetchState(_ id: ContentID, in index: Int) throws -> FetchProgress? {
        try fetches(index).last { $0.id == id }
    }

    /// Waits for box `index`'s fetch of `id` to finish, and returns its final state.
    func waitForFetch(_ id: ContentID, in index: Int, timeout: Duration = .seconds(120)) throws -> FetchProgress {
        var state: FetchProgress?
        try eventually(
            timeout: timeout, "box \(index) finishes fetching \(id.hex.prefix(12))\n\(log(index).suffix(3000))"
        ) {
            state = try fetchState(id, in: index)
            return state?.isFinished ?? false
        }
        return state!
    }

    /// Where box `index` keeps a complete replica.
    func replicaPath(_ id: ContentID, in index: Int) -> String { box(index) + "/cache/objects/" + id.hex }

    func shape(_ index: Int, rate: String) throws {
        let result = try Command.run(
            Self.script, ["shape", "--prefix", prefix, String(index), rate], timeout: .seconds(30))
        guard result.status == 0 else { throw TestFailure("home-sim shape \(index) \(rate) failed: \(result.stderr)") }
    }

    /// Impairs box `index`'s link both ways as `home-sim impair` does (`--loss PCT`, `--delay MS`, `--jitter MS`,
    /// `--reorder PCT`, `--duplicate PCT`, `--seed N`), or ends the impairment (`["off"]`).
    func impair(_ index: Int, _ arguments: [String]) throws {
        let result = try Command.run(
            Self.script, ["impair", "--prefix", prefix, String(index)] + arguments, timeout: .seconds(30))
        guard result.status == 0 else {
            throw TestFailure("home-sim impair \(index) \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
    }
}

/// The SHA-256 of a file, as sha256sum prints it.
func sha256(_ path: String) throws -> String {
    let result = try Command.run("/usr/bin/sha256sum", [path], timeout: .seconds(120))
    guard result.status == 0, let digest = result.stdout.split(separator: " ").first else {
        throw TestFailure("sha256sum \(path) failed: \(result.stderr)")
    }
    return String(digest)
}
