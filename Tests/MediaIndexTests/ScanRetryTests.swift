import Testing

@testable import MediaIndex

/// A scan whose writes failed (the state disk full) is tried again, sooner first and then less often.
@Suite struct ScanRetryTests {
    @Test func aFirstFailureRetriesAfterTheFirstDelay() {
        var retry = ScanRetry()
        #expect(retry.failed() == ScanRetry.firstDelay)
        #expect(retry.delay == ScanRetry.firstDelay)
    }

    @Test func eachFailedRetryDoublesTheDelayUpToTheLongest() {
        var retry = ScanRetry()
        var delays: [Duration] = []
        for _ in 0..<12 {
            if let delay = retry.failed() { delays.append(delay) }
            retry.retryStarted()
        }
        #expect(delays.prefix(3) == [.seconds(5), .seconds(10), .seconds(20)])
        #expect(delays.last == ScanRetry.longestDelay)
        #expect(zip(delays, delays.dropFirst()).allSatisfy { $0 <= $1 })
    }

    @Test func aScanThatRecordsEverythingEndsTheRetries() {
        var retry = ScanRetry()
        _ = retry.failed()
        retry.retryStarted()
        _ = retry.failed()
        retry.succeeded()
        #expect(retry.delay == nil)
        #expect(retry.failed() == ScanRetry.firstDelay)
    }

    /// A burst of failed live changes on a full disk (the fault suite saw dozens in a second) once drove the wait to
    /// ten minutes at once, so the index caught up ten minutes after space was back.
    @Test func failuresWhileARetryIsScheduledNeitherPostponeItNorLengthenTheNextWait() {
        var retry = ScanRetry()
        #expect(retry.failed() == ScanRetry.firstDelay)
        for _ in 0..<50 { #expect(retry.failed() == nil) }
        #expect(retry.delay == ScanRetry.firstDelay)
        retry.retryStarted()
        #expect(retry.failed() == .seconds(10))
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
