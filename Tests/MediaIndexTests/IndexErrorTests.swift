import Foundation
import GRDB
import Logging
import Testing

@testable import MediaIndex

/// Callers tell a busy index from a damaged one and from other failures by the error's case.
@Suite struct IndexErrorTests {
    @Test(arguments: [ResultCode.SQLITE_BUSY, .SQLITE_LOCKED])
    func aLockHeldTooLongIsBusy(code: ResultCode) {
        guard case .busy = IndexError(DatabaseError(resultCode: code, message: "locked")) else {
            Issue.record("\(code) is not busy")
            return
        }
    }

    @Test(arguments: [ResultCode.SQLITE_CORRUPT, .SQLITE_NOTADB])
    func aDamagedFileIsCorrupt(code: ResultCode) {
        #expect(IndexError(DatabaseError(resultCode: code, message: "malformed")) == .corrupt("malformed"))
    }

    @Test func aCancelledWaitIsCancelled() {
        #expect(IndexError(CancellationError()) == .cancelled)
        #expect(IndexError(DatabaseError(resultCode: .SQLITE_INTERRUPT)) == .cancelled)
    }

    @Test func otherFailuresAreDatabaseErrors() {
        guard case .database = IndexError(DatabaseError(resultCode: .SQLITE_CONSTRAINT, message: "UNIQUE")) else {
            Issue.record("a constraint failure is not a database error")
            return
        }
    }

    @Test func aQueryAfterTheIndexIsClosedIsADatabaseError() async throws {
        let folder = NSTemporaryDirectory() + "index-error-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let library = try MediaLibrary(
            configuration: LibraryConfiguration(mediaFolders: [], stateDirectory: folder),
            logger: Logger(label: "test"))
        library.shutdown()
        let error = await #expect(throws: IndexError.self) { try await library.count() }
        guard case .database? = error else {
            Issue.record("a closed index is not a database error: \(String(describing: error))")
            return
        }
    }

    /// Whether this machine can make a folder immutable (`chattr +i`: root cannot write in it either), tried on a
    /// folder made for the question.
    static let immutableFoldersWork: Bool = {
        let folder = NSTemporaryDirectory() + "immutable-probe-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        guard (try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)) != nil,
            let made = try? Process.run(URL(fileURLWithPath: "/usr/bin/chattr"), arguments: ["+i", folder])
        else { return false }
        made.waitUntilExit()
        let works = made.terminationStatus == 0 && access(folder, W_OK) != 0
        let undone = try? Process.run(URL(fileURLWithPath: "/usr/bin/chattr"), arguments: ["-i", folder])
        undone?.waitUntilExit()
        return works
    }()

    @Test(.enabled(if: immutableFoldersWork, "chattr +i does not work here"))
    func aStateFolderTheDaemonCannotWriteIsNamedWithTheFix() throws {
        let folder = NSTemporaryDirectory() + "index-unwritable-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let chattr = URL(fileURLWithPath: "/usr/bin/chattr")
        try Process.run(chattr, arguments: ["+i", folder]).waitUntilExit()
        defer {
            try? Process.run(chattr, arguments: ["-i", folder]).waitUntilExit()
            try? FileManager.default.removeItem(atPath: folder)
        }
        let error = #expect(throws: IndexError.self) {
            _ = try MediaLibrary(
                configuration: LibraryConfiguration(mediaFolders: [], stateDirectory: folder),
                logger: Logger(label: "test"))
        }
        guard case .stateFolderNotWritable(let path, _)? = error else {
            Issue.record("an unwritable state folder is not said so: \(String(describing: error))")
            return
        }
        #expect(path == folder)
        #expect(error?.description.contains("set state_dir") == true, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: folder + "/index.sqlite"))
    }
}
