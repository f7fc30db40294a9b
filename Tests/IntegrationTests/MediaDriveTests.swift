import Foundation
import Testing

/// A drive mounted inside a media folder (a USB stick on `media/usb` of a folder on the SD card): while it is out, its
/// mount point is an empty folder on the SD card, and its titles must stay listed until it is back, as they do for a
/// media folder that is itself a drive's mount point (the fault suite's late-drive scenario).
@Suite(.serialized) struct MediaDriveTests {
    @Test(.enabled(if: LoopDrive.available, "no loop device or mkfs.ext4 here"))
    func aDriveMountedBelowAMediaFolderKeepsItsTitlesWhileItIsOutAndIsFoundAgainWhenItIsBack() throws {
        let home = try SimulatedHome(boxes: 1, tag: "md")
        let drive = try LoopDrive(home, box: 1, at: home.box(1) + "/media/usb", megabytes: 64)
        defer { withExtendedLifetime(home) { drive.unmount() } }
        try drive.mount()
        try FaultSuite.addTree(home, box: 1, folder: "usb/films", count: 6)
        try FaultSuite.addTree(home, box: 1, folder: "card", count: 2)
        try home.startDaemon(1)
        let titles = { try home.indexCount(1, "SELECT count(*) FROM media;") }
        try eventually(timeout: .seconds(60), "box 1 indexes the card's and the drive's files") { try titles() == 8 }

        // Pulled out while the daemon runs: the mount table changes, the daemon rescans and keeps the drive's titles.
        let scans = try home.status(1).scan.completedScans
        drive.unmount()
        try eventually("box 1 rescans once the drive is out\n\(home.log(1).suffix(3000))") {
            try home.status(1).scan.completedScans > scans
        }
        #expect(try titles() == 8, "\(home.log(1).suffix(3000))")
        #expect(home.log(1).contains("a drive mounted in a media folder is not mounted now"))

        // Started again with the drive still out: the first scan keeps them too.
        try home.signalDaemon(1, SIGTERM)
        let logBefore = home.log(1).count
        try home.startDaemon(1)
        try eventually(timeout: .seconds(60), "box 1's first scan ends") {
            try home.status(1).scan.completedScans >= 1
        }
        #expect(try titles() == 8, "\(home.log(1).dropFirst(logBefore).suffix(3000))")

        // Back in, with a new file on it: found, and watched (a file added afterwards is listed without a rescan).
        try drive.mount()
        try FaultSuite.addTree(home, box: 1, folder: "usb/arrivals", count: 1)
        try eventually(timeout: .seconds(60), "box 1 lists the drive's new file\n\(home.log(1).suffix(3000))") {
            try titles() == 9
        }
        try FaultSuite.addTree(home, box: 1, folder: "usb/later", count: 1)
        try eventually(timeout: .seconds(60), "box 1 lists a file added to the drive\n\(home.log(1).suffix(3000))") {
            try titles() == 10
        }

        // A folder emptied on purpose is not a drive: its titles go.
        try FileManager.default.removeItem(atPath: home.box(1) + "/media/card")
        try eventually(timeout: .seconds(60), "box 1 drops the card's deleted files") { try titles() == 8 }
    }
}
