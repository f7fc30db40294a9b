import Testing

@testable import MediaIndex

/// The file systems mounted below a media folder, as `/proc/self/mountinfo` lists them.
@Suite struct MountPointsTests {
    static let table = """
        22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw
        35 22 0:31 / /srv/media rw,relatime shared:9 - ext4 /dev/mmcblk0p2 rw
        41 35 8:17 / /srv/media/usb rw,nosuid shared:12 - vfat /dev/sdb1 rw
        42 35 8:33 / /srv/media/My\\040Films/drive rw shared:13 - exfat /dev/sdc1 rw
        43 22 8:49 / /srv/media-other rw shared:14 - ext4 /dev/sdd1 rw
        44 41 8:65 / /srv/media/usb/inner rw shared:15 - ext4 /dev/sde1 rw
        """

    @Test func theMountPointsStrictlyBelowAFolderAreListedRelativeToIt() {
        #expect(
            MountPoints.below("/srv/media", mountinfo: Self.table) == ["usb", "My Films/drive", "usb/inner"])
    }

    @Test func theFolderItselfAndAFolderSharingItsNamePrefixAreNotBelowIt() {
        #expect(!MountPoints.below("/srv/media", mountinfo: Self.table).contains(""))
        #expect(!MountPoints.below("/srv/media", mountinfo: Self.table).contains { $0.contains("other") })
    }

    @Test func aTrailingSlashOnTheFolderChangesNothing() {
        #expect(MountPoints.below("/srv/media/", mountinfo: Self.table) == ["usb", "My Films/drive", "usb/inner"])
    }

    @Test func malformedLinesAndABadEscapeAreTakenAsTheyAre() {
        let table = "garbage\n\n1 2 3\n50 22 8:1 / /srv/media/a\\09z rw - ext4 /dev/x rw\n"
        #expect(MountPoints.below("/srv/media", mountinfo: table) == ["a\\09z"])
    }
}
