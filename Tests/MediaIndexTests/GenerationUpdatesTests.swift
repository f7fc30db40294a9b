import Foundation
import GRDB
import Logging
import Testing

@testable import MediaIndex

/// `MediaLibrary.generationUpdates()`: what the daemon announces in TXT and answers in `/v1/info`.
@Suite(.timeLimit(.minutes(1))) final class GenerationUpdatesTests {
    let base = NSTemporaryDirectory() + "generation-" + UUID().uuidString
    let library: MediaLibrary

    init() throws {
        try FileManager.default.createDirectory(atPath: base + "/media", withIntermediateDirectories: true)
        library = try MediaLibrary(
            configuration: LibraryConfiguration(mediaFolders: [base + "/media"], stateDirectory: base + "/state"),
            logger: Logger(label: "generation-test"))
    }

    deinit {
        library.shutdown()
        try? FileManager.default.removeItem(atPath: base)
    }

    @Test func aCommitThatRaisesTheGenerationIsDeliveredAfterTheCurrentValue() async throws {
        var updates = library.generationUpdates().makeAsyncIterator()
        let first = try #require(await updates.next())
        // Any write of the index that changes rows moves the generation the same way.
        try await library.catalog.pool.write { db in
            try IndexWriter.withNextGeneration(db) { _ in _ = try IndexWriter.rootID(db, path: "/another/folder") }
        }
        let second = try #require(await updates.next())
        #expect(second == first + 1)
    }
}
