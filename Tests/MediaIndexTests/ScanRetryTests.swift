import Testing

@testable import MediaIndex

/// A scan whose writes failed (the state disk full) is tried again, sooner first and then less often.
@Suite struct ScanRetryTests {
    @Test func aFirstFailureRetriesAfterTheFirstDelay() {
        var retry = ScanRetry()
        #expect(retry.failed() == ScanRetry.firstDelay)
        #expect(retry.delay == ScanRetry.firstDelay)
    }

    @Test func eachFurtherFailureDoublesTheDelayUpToTheLongest() {
        var retry = ScanRetry()
        var delays: [Duration] = []
        for _ in 0..<12 { delays.append(retry.failed()) }
        #expect(delays.prefix(3) == [.seconds(5), .seconds(10), .seconds(20)])
        #expect(delays.last == ScanRetry.longestDelay)
        #expect(zip(delays, delays.dropFirst()).allSatisfy { $0 <= $1 })
    }

    @Test func aScanThatRecordsEverythingEndsTheRetries() {
        var retry = ScanRetry()
        _ = retry.failed()
        _ = retry.failed()
        retry.succeeded()
        #expect(retry.delay == nil)
        #expect(retry.failed() == ScanRetry.firstDelay)
    }
}

/// An empty media folder on another file system than when its files were indexed is a drive not mounted yet: its
/// files stay in the index. A folder emptied on its own file system loses them.
@Suite struct UnmountedDriveTests {
    @Test func anEmptyFolderOnAnotherDeviceIsADriveNotMounted() {
        #expect(Scanner.isUnmountedDrive(indexedFiles: 40, device: 2049, recordedDevice: 2050, isEmpty: true))
    }

    @Test func anEmptyFolderOnTheSameDeviceWasEmptiedOnPurpose() {
        #expect(!Scanner.isUnmountedDrive(indexedFiles: 40, device: 2049, recordedDevice: 2049, isEmpty: true))
    }

    @Test func aFolderWithEntriesIsWalkedWhateverItsDevice() {
        #expect(!Scanner.isUnmountedDrive(indexedFiles: 40, device: 2049, recordedDevice: 2050, isEmpty: false))
    }

    @Test func aFolderWhoseDeviceWasNeverRecordedIsWalked() {
        #expect(!Scanner.isUnmountedDrive(indexedFiles: 40, device: 2049, recordedDevice: nil, isEmpty: true))
    }

    @Test func aFolderWithNothingIndexedHasNothingToKeep() {
        #expect(!Scanner.isUnmountedDrive(indexedFiles: 0, device: 2049, recordedDevice: 2050, isEmpty: true))
    }
}
