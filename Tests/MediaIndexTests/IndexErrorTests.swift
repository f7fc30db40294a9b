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
}
