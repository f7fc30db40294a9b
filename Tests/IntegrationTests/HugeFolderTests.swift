import ControlWire
import Foundation
import Testing

/// One folder of 100,000 entries, as a camera's card dumped over the years or a download folder leaves: the scan
/// ends, indexes exactly its media, stays within a set-top box's memory, and a rescan after changes settles.
@Suite(.serialized) struct HugeFolderTests {
    static let entries = 100_000
    /// Every fifth entry is a photo; the rest are the sidecars cameras and editors write beside them.
    static let photoEvery = 5
    /// The most the daemon may hold resident while it scans the folder (its peak, `VmHWM`). A box has 1 GiB for
    /// the player, the system and the daemon; idle the daemon holds about 20 MiB.
    static let residentBound: Int64 = 192 << 20

    /// A small PNG made distinct by bytes after its end (readers stop at `IEND`), so every photo has its own
    /// content id.
    static func writeFolder(_ folder: String, range: Range<Int>) throws {
        let drawing = try [UInt8](
            Data(contentsOf: URL(fileURLWithPath: MediaFixtures.folder + "/" + MediaFixtures.drawing)))
        let sidecar = Array("<x:xmpmeta/>\n".utf8)
        for number in range {
            let isPhoto = number % photoEvery == 0
            var bytes = isPhoto ? drawing : sidecar
            if isPhoto { withUnsafeBytes(of: UInt64(number).bigEndian) { bytes.append(contentsOf: $0) } }
            // Plain open and write: 100,000 of Foundation's atomic writes take minutes on a loaded machine.
            let path = folder + "/IMG_\(number)." + (isPhoto ? "png" : "xmp")
            let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw TestFailure("cannot create \(path): errno \(errno)") }
            defer { close(descriptor) }
            guard write(descriptor, bytes, bytes.count) == bytes.count else {
                throw TestFailure("cannot write \(path): errno \(errno)")
            }
        }
    }

    @Test func aFolderOf100000EntriesIsScannedInBoundedMemoryAndRescansSettle() throws {
        let box = try TestBox()
        let folder = box.media + "/DCIM"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Self.writeFolder(folder, range: 0..<Self.entries)
        try box.start()
        let pid = try box.status().pid
        var largest: Int64 = 0
        try eventually(timeout: .seconds(900), "the scan of \(Self.entries) entries ends\n\(box.log.suffix(2000))") {
            largest = max(largest, (try? Footprint.memory(pid).resident) ?? 0)
            let status = try box.status()
            return status.scan.completedScans >= 1 && status.scan.phase == .idle && status.hashing.pendingFiles == 0
        }
        let peak = try Footprint.memory(pid).peak
        print(
            "huge folder: \(Self.entries) entries, peak resident \(peak >> 10) KiB, largest sampled \(largest >> 10) KiB"
        )
        #expect(peak < Self.residentBound, "the scan peaked at \(peak >> 10) KiB resident")
        let photos = Self.entries / Self.photoEvery
        #expect(try box.status().library.files == photos)

        // While it runs: 1,000 sidecars go and 100 photos arrive; the watcher follows.
        for number in stride(from: 1, to: 5001, by: 5) {
            try FileManager.default.removeItem(atPath: folder + "/IMG_\(number).xmp")
        }
        try Self.writeFolder(folder, range: Self.entries..<(Self.entries + 500))
        try eventually(timeout: .seconds(120), "the arrivals are indexed") {
            try box.status().library.files == photos + 100
        }
        // Stopped, a tenth of the photos go; started again, the rescan settles on what is there.
        try box.stop()
        for number in stride(from: 0, to: Self.entries, by: 10 * Self.photoEvery) {
            try FileManager.default.removeItem(atPath: folder + "/IMG_\(number).png")
        }
        try box.start()
        try box.waitUntilIndexed()
        let remaining = photos + 100 - Self.entries / (10 * Self.photoEvery)
        #expect(try box.status().library.files == remaining)
        let rescanPeak = try Footprint.memory(try box.status().pid).peak
        print("huge folder: rescan peak resident \(rescanPeak >> 10) KiB")
        #expect(rescanPeak < Self.residentBound, "the rescan peaked at \(rescanPeak >> 10) KiB resident")
    }
}
