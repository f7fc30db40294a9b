import ControlWire
import Foundation
import Testing

/// `mediapeerctl pin`, `unpin`, `cache` and `cache evict` between real daemons in a simulated home.
@Suite(.serialized) struct CacheCommandTests {
    @Test func aPinnedReplicaIsShownThenEvictedByHandAndTheNeighbourStopsListingThisBoxAsAHolder() throws {
        let home = try SimulatedHome(boxes: 2, tag: "cc")
        try home.addLargeVideo("film.mkv", megabytes: 2, to: [2])
        for index in 1...2 { try home.startDaemon(index) }
        let id = try home.contentID(of: "film.mkv", in: 2)
        try home.waitUntilListed(id, in: 1, heldBy: ["Box 2"])

        // Not held here yet: pinning fetches it, and the replica is pinned.
        let pin = try home.ctl(1, ["pin", "film"])
        #expect(pin.status == 0 && pin.stdout.contains("pinned \"Fixture Film\""), "\(pin.stdout)\(pin.stderr)")
        #expect(try home.waitForFetch(id, in: 1).state == .complete)
        var report = try home.decode(CacheReport.self, 1, ["cache"])
        #expect(report.replicas.map(\.id) == [id])
        #expect(report.replicas.first?.pinned == true && report.replicas.first?.complete == true)
        #expect(report.usedBytes == report.replicas.first?.size && report.writtenToday >= report.usedBytes)
        #expect(report.replication == "auto" && report.highWatermark == 0.9 && report.quota == "20%")
        let shown = try home.ctl(1, ["cache"])
        #expect(shown.stdout.contains("pinned") && shown.stdout.contains("Fixture Film"), "\(shown.stdout)")
        try home.waitUntilListed(id, in: 2, heldBy: ["Box 1"])

        #expect(try home.ctl(1, ["unpin", id.hex]).status == 0)
        report = try home.decode(CacheReport.self, 1, ["cache"])
        #expect(report.replicas.first?.pinned == false)
        #expect(try home.ctl(1, ["pin", "film"]).status == 0)

        // The user's own eviction overrides the pin.
        let evict = try home.ctl(1, ["cache", "evict", "film"])
        #expect(evict.status == 0, "\(evict.stderr)")
        #expect(evict.stdout.contains("evicted \"Fixture Film\"") && evict.stdout.contains("it was pinned"))
        #expect(!FileManager.default.fileExists(atPath: home.replicaPath(id, in: 1)))
        #expect(try home.decode(CacheReport.self, 1, ["cache"]).replicas.isEmpty)
        #expect(FileManager.default.fileExists(atPath: home.box(2) + "/media/film.mkv"))
        try eventually(timeout: .seconds(30), "box 2 no longer lists box 1 as a holder") {
            try home.home(2).items.first { $0.id == id }?.holderNames.contains("Box 1") == false
        }
        let again = try home.ctl(1, ["cache", "evict", "film"])
        #expect(again.status != 0 && again.stderr.contains("is not in this box's cache"), "\(again.stderr)")
    }
}
