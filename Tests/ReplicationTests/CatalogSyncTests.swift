import Clocks
import ContentID
import ElapsedTime
import Foundation
import GRDB
import Logging
import PeerProtocol
import PeerWire
import ServiceLifecycleTestKit
import Testing
import WireVocabulary

@testable import MediaIndex
@testable import Replication

/// A neighbour that takes every catalog request and never answers, reporting when a request arrives and when
/// its caller gives up waiting.
private final class SilentNeighbour: CatalogSource {
    enum Event: Equatable { case asked, cancelled }

    let events: AsyncStream<Event>
    private let report: AsyncStream<Event>.Continuation

    init() {
        (events, report) = AsyncStream.makeStream()
    }

    func catalog(_ peer: PeerEndpoint, since: Int64, after: ContentID?) async throws -> CatalogDelta {
        report.yield(.asked)
        // Nothing is ever sent on this stream: the loop ends only when the task is cancelled.
        let (never, open) = AsyncStream<Never>.makeStream()
        for await _ in never {}
        open.finish()
        report.yield(.cancelled)
        throw CancellationError()
    }
}

@Suite struct CatalogSyncTests {
    @Test(.timeLimit(.minutes(1)))
    func aGracefulShutdownCancelsARunningSyncAndWaitsForIt() async throws {
        let fixture = try IndexFixture()
        let neighbour = SilentNeighbour()
        let sync = CatalogSync(catalog: fixture.catalog, client: neighbour, logger: Logger(label: "test"))
        var events = neighbour.events.makeAsyncIterator()
        await testGracefulShutdown { shutdown in
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await sync.run() }
                await sync.neighbourChanged(
                    Neighbour(peerID: "p1", name: "One", addresses: ["127.0.0.1"], port: 1, generation: 3))
                #expect(await events.next() == .asked)
                shutdown.triggerGracefulShutdown()
                // run() returns only once the sync it started has ended.
                await group.waitForAll()
            }
        }
        #expect(await events.next() == .cancelled)
        #expect(try await fixture.catalog.remoteSyncState(peerID: "p1") == nil)
    }
}

// MARK: - Bounds on what a neighbour's catalog can make this box store

/// A log handler that hands every message to the test as an event.
struct LogRecorder: LogHandler {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    let records: AsyncStream<Record>
    private let report: AsyncStream<Record>.Continuation
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    init() {
        (records, report) = AsyncStream.makeStream()
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        report.yield(
            Record(
                level: event.level, message: "\(event.message)",
                metadata: metadata.merging(event.metadata ?? [:]) { $1 }))
    }

    var logger: Logger {
        let handler = self
        return Logger(label: "test") { _ in handler }
    }
}

extension AsyncStream<LogRecorder.Record>.Iterator {
    /// The next record whose message contains `text`.
    mutating func next(containing text: String) async -> LogRecorder.Record? {
        while let record = await next() {
            if record.message.contains(text) { return record }
        }
        return nil
    }
}

/// A neighbour whose catalog pages come from a closure, recording when each request arrived on the test clock.
private final class ScriptedNeighbour: CatalogSource {
    struct Request: Sendable, Equatable {
        var since: Int64
        var after: ContentID?
        var at: Duration
    }

    let requests: AsyncStream<Request>
    private let report: AsyncStream<Request>.Continuation
    private let clock: ElapsedClock
    private let page: @Sendable (Int64, ContentID?) throws -> CatalogDelta

    init(clock: ElapsedClock, page: @escaping @Sendable (Int64, ContentID?) throws -> CatalogDelta) {
        (requests, report) = AsyncStream.makeStream()
        self.clock = clock
        self.page = page
    }

    func catalog(_ peer: PeerEndpoint, since: Int64, after: ContentID?) async throws -> CatalogDelta {
        report.yield(Request(since: since, after: after, at: clock.now.sinceOrigin))
        return try page(since, after)
    }
}

private struct Unreachable: Error {}

private func objectID(_ number: Int) -> ContentID {
    var bytes = [UInt8](repeating: 0, count: 32)
    withUnsafeBytes(of: UInt64(number).bigEndian) { bytes.replaceSubrange(24..<32, with: $0) }
    return ContentID(bytes: bytes)!
}

private func photo(_ number: Int, generation: Int64? = nil, title: String? = nil) -> CatalogEntry {
    CatalogEntry(
        id: objectID(number), generation: generation ?? Int64(number), size: 1000, kind: .image,
        mimeType: "image/jpeg", path: "photos/\(number).jpg", title: title ?? "Photo \(number)")
}

/// An endless catalog: every page brings `pageSize` new objects and says more follow.
private func endlessPage(pageSize: Int) -> @Sendable (Int64, ContentID?) throws -> CatalogDelta {
    { since, _ in
        let first = Int(since) + 1
        return CatalogDelta(
            epoch: "endless", generation: Int64.max, entries: (first..<(first + pageSize)).map { photo($0) },
            more: true)
    }
}

private let neighbourOne = Neighbour(peerID: "p1", name: "One", addresses: ["127.0.0.1"], port: 1, generation: 7)

@Suite(.timeLimit(.minutes(1))) struct CatalogSyncBoundsTests {
    let fixture: IndexFixture
    let clock = TestClock()
    let recorder = LogRecorder()
    var elapsed: ElapsedClock

    init() throws {
        fixture = try IndexFixture()
        elapsed = ElapsedClock(clock)
    }

    private func makeSync(
        _ source: any CatalogSource, limits: RemoteCatalogLimits = .unlimited, forgetAfter: Duration? = nil,
        unixTime: @escaping @Sendable () -> Int64 = { 1_800_000_000 }
    ) -> CatalogSync {
        CatalogSync(
            catalog: fixture.catalog, client: source,
            configuration: CatalogSync.Configuration(limits: limits, forgetPeersAfter: forgetAfter), clock: clock,
            unixTime: unixTime, logger: recorder.logger)
    }

    /// Runs `sync` for the length of `body`, then shuts it down gracefully.
    private func running(_ sync: CatalogSync, _ body: () async throws -> Void) async rethrows {
        try await testGracefulShutdown { shutdown in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await sync.run() }
                try await body()
                shutdown.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
    }

    private func storedObjects(_ peerID: String = "p1") throws -> Int {
        try fixture.catalog.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM remote_object WHERE peer_id = ?", arguments: [peerID]) ?? 0
        }
    }

    @Test func anEndlessCatalogStopsAtTheObjectLimitKeepingTheFirstObjects() async throws {
        let neighbour = ScriptedNeighbour(clock: elapsed, page: endlessPage(pageSize: 10))
        let sync = makeSync(neighbour, limits: RemoteCatalogLimits(maxObjects: 25, maxBytes: .max))
        var log = recorder.records.makeAsyncIterator()
        try await running(sync) {
            await sync.neighbourChanged(neighbourOne)
            let warning = try #require(await log.next(containing: "lists more than 25 objects"))
            #expect(warning.level == .warning)
            #expect(warning.metadata["bound"] == "peer_catalog_max_objects=25")
        }
        #expect(try storedObjects() == 25)
        let kept = try await fixture.catalog.remoteHolders(of: objectID(25)).map(\.peerID)
        #expect(kept == ["p1"])
        #expect(try await fixture.catalog.remoteHolders(of: objectID(26)).isEmpty)
        #expect(try await fixture.catalog.remoteSyncState(peerID: "p1")?.epoch == nil, "a cut sync is not synced")
    }

    @Test func anEndlessCatalogStopsAtTheByteLimit() async throws {
        let neighbour = ScriptedNeighbour(clock: elapsed, page: endlessPage(pageSize: 10))
        // "photos/N.jpg", "image/jpeg" and "Photo N" for N of one digit: 12 + 10 + 7 bytes plus 64 per row.
        let rowBytes: Int64 = 64 + 12 + 10 + 7
        let sync = makeSync(neighbour, limits: RemoteCatalogLimits(maxObjects: .max, maxBytes: 5 * rowBytes + 10))
        var log = recorder.records.makeAsyncIterator()
        try await running(sync) {
            await sync.neighbourChanged(neighbourOne)
            let warning = try #require(await log.next(containing: "takes more than"))
            #expect(warning.level == .warning)
        }
        #expect(try storedObjects() == 5)
        let size = try #require(try await fixture.catalog.remoteCatalogSize(peerID: "p1"))
        #expect(size.objects == 5 && size.bytes == 5 * rowBytes)
    }

    @Test func theLimitIsWarnedOnceAndTheNextSyncResumesWhereItStopped() async throws {
        let neighbour = ScriptedNeighbour(clock: elapsed, page: endlessPage(pageSize: 10))
        let sync = makeSync(neighbour, limits: RemoteCatalogLimits(maxObjects: 25, maxBytes: .max))
        var log = recorder.records.makeAsyncIterator()
        var requests = neighbour.requests.makeAsyncIterator()
        try await running(sync) {
            await sync.neighbourChanged(neighbourOne)
            _ = await log.next(containing: "lists more than")
            for _ in 0..<3 { _ = await requests.next() }
            await clock.advance(by: PeerLimits.catalogRetryDelay)
            await sync.neighbourChanged(neighbourOne)
            let resumed = try #require(await requests.next())
            #expect(resumed.since == 25 && resumed.after == objectID(25), "\(resumed)")
            var warnings = 0
            while let record = await log.next() {
                if record.message.contains("lists more than") { warnings += 1 }
                if record.message.contains("still at its limit") { break }
            }
            #expect(warnings == 0, "one warning per peer")
        }
        #expect(try storedObjects() == 25)
    }

    @Test func aRepeatedLastEntryStopsTheSyncAtOnce() async throws {
        let neighbour = ScriptedNeighbour(clock: elapsed) { since, _ in
            // The first page ends with object 2, and every page after it is object 2 again.
            let entries = since == 0 ? [photo(1), photo(2)] : [photo(2)]
            return CatalogDelta(epoch: "e", generation: 9, entries: entries, more: true)
        }
        let sync = makeSync(neighbour)
        var log = recorder.records.makeAsyncIterator()
        var requests = neighbour.requests.makeAsyncIterator()
        try await running(sync) {
            await sync.neighbourChanged(neighbourOne)
            let warning = try #require(await log.next(containing: "stopped syncing"))
            #expect(warning.message.contains("nothing past the position"))
            #expect(warning.level == .warning)
        }
        #expect(await requests.next()?.since == 0)
        #expect(await requests.next()?.since == 2)
        #expect(try storedObjects() == 2)
    }

    @Test func outOfOrderEntriesStopTheSyncWithoutStoringThePage() async throws {
        let neighbour = ScriptedNeighbour(clock: elapsed) { _, _ in
            CatalogDelta(epoch: "e", generation: 9, entries: [photo(1), photo(3), photo(2)], more: false)
        }
        let sync = makeSync(neighbour)
        var log = recorder.records.makeAsyncIterator()
        try await running(sync) {
            await sync.neighbourChanged(neighbourOne)
            let warning = try #require(await log.next(containing: "stopped syncing"))
            #expect(warning.message.contains("out of (generation, id) order"))
        }
        #expect(try storedObjects() == 0)
    }

    @Test func aFailedSyncIsNotRetriedBeforeTheDelayWhateverTheNeighbourAnnounces() async throws {
        let neighbour = ScriptedNeighbour(clock: elapsed) { _, _ in throw Unreachable() }
        let sync = makeSync(neighbour)
        var requests = neighbour.requests.makeAsyncIterator()
        var log = recorder.records.makeAsyncIterator()
        try await running(sync) {
            await sync.neighbourChanged(neighbourOne)
            #expect(await requests.next()?.at == .zero)
            _ = await log.next(containing: "cannot sync")
            var changed = neighbourOne
            changed.generation = 8
            await sync.neighbourChanged(changed)
            await clock.advance(by: .seconds(59))
            await clock.advance(by: .seconds(1))
            let retry = try #require(await requests.next())
            #expect(retry.at >= PeerLimits.catalogRetryDelay)
        }
    }

    @Test func aNeighbourThatCouldNotBeReachedIsTriedAgainAfterTheShortDelay() async throws {
        // A box restarting refuses connections for a moment; its catalog is wanted as soon as it is back.
        let neighbour = ScriptedNeighbour(clock: elapsed) { _, _ in
            throw PeerClientError.unreachable(peer: "one", reason: "connection refused")
        }
        let sync = makeSync(neighbour)
        var requests = neighbour.requests.makeAsyncIterator()
        var log = recorder.records.makeAsyncIterator()
        try await running(sync) {
            await sync.neighbourChanged(neighbourOne)
            #expect(await requests.next()?.at == .zero)
            _ = await log.next(containing: "cannot sync")
            var changed = neighbourOne
            changed.generation = 8
            await sync.neighbourChanged(changed)
            await clock.advance(by: .seconds(4))
            await clock.advance(by: .seconds(1))
            let retry = try #require(await requests.next())
            #expect(retry.at == PeerLimits.catalogUnreachableRetryDelay)
        }
    }

    @Test func controlCharactersLeaveTheirEntryOutAndAreWarnedOncePerPage() async throws {
        let neighbour = ScriptedNeighbour(clock: elapsed) { _, _ in
            CatalogDelta(
                epoch: "e", generation: 9,
                entries: [
                    photo(1, title: "\u{1B}]0;owned\u{07}"), photo(2), photo(3, title: "a\rb"),
                    photo(4, title: "\u{85}"),
                ], more: false)
        }
        let sync = makeSync(neighbour)
        var log = recorder.records.makeAsyncIterator()
        try await running(sync) {
            await sync.neighbourChanged(neighbourOne)
            let warning = try #require(await log.next(containing: "control characters"))
            #expect(warning.metadata["rejected"] == "3")
            _ = await log.next(containing: "synced a neighbour's catalog")
        }
        #expect(try storedObjects() == 1)
        #expect(try await fixture.catalog.remoteSyncState(peerID: "p1")?.syncedGeneration == 9)
    }

    @Test func aReplacedNeighboursCatalogIsDeletedAtOnce() async throws {
        try await fixture.catalog.applyRemoteDelta(
            peerID: "p1", name: "One", delta: CatalogDelta(epoch: "e", generation: 2, entries: [photo(1)], more: false),
            restart: false)
        let sync = makeSync(ScriptedNeighbour(clock: elapsed) { _, _ in throw Unreachable() })
        var log = recorder.records.makeAsyncIterator()
        try await running(sync) {
            await sync.neighbourDeparted(peerID: "p1", .replaced)
            _ = try #require(await log.next(containing: "answers with another id"))
        }
        #expect(try await fixture.catalog.remoteSyncState(peerID: "p1") == nil)
        #expect(try storedObjects() == 0)
    }

    @Test func aNeighbourUnseenLongerThanForgetPeersAfterIsForgottenAtStartAndOneSeenLaterIsKept() async throws {
        let now: Int64 = 1_800_000_000
        for (peerID, left) in [("old", now - 15 * 86_400), ("recent", now - 86_400)] {
            try await fixture.catalog.applyRemoteDelta(
                peerID: peerID, name: peerID,
                delta: CatalogDelta(epoch: "e", generation: 2, entries: [photo(1)], more: false), restart: false)
            try await fixture.catalog.remotePeerLeft(peerID: peerID, at: left)
        }
        let sync = makeSync(
            ScriptedNeighbour(clock: elapsed) { _, _ in throw Unreachable() }, forgetAfter: .seconds(14 * 86_400),
            unixTime: { now })
        var log = recorder.records.makeAsyncIterator()
        try await running(sync) {
            let forgotten = try #require(await log.next(containing: "forgot the catalog"))
            #expect(forgotten.metadata["peer_id"] == "old")
            _ = await log.next(containing: "looked for neighbours")
        }
        #expect(try await fixture.catalog.remoteSyncState(peerID: "old") == nil)
        #expect(try await fixture.catalog.remoteSyncState(peerID: "recent") != nil)
        #expect(try storedObjects("recent") == 1)
    }

    @Test func unseenNeighboursAreLookedForHourly() async throws {
        let start: Int64 = 1_800_000_000
        try await fixture.catalog.applyRemoteDelta(
            peerID: "p1", name: "One", delta: CatalogDelta(epoch: "e", generation: 2, entries: [photo(1)], more: false),
            restart: false)
        // Unseen for 14 days less half an hour when the sync starts.
        try await fixture.catalog.remotePeerLeft(peerID: "p1", at: start - 14 * 86_400 + 1800)
        let elapsed = elapsed
        let sync = makeSync(
            ScriptedNeighbour(clock: elapsed) { _, _ in throw Unreachable() }, forgetAfter: .seconds(14 * 86_400),
            unixTime: { start + elapsed.now.sinceOrigin.components.seconds })
        var log = recorder.records.makeAsyncIterator()
        try await running(sync) {
            #expect(await log.next(containing: "looked for neighbours")?.metadata["forgotten"] == "0")
            #expect(try await fixture.catalog.remoteSyncState(peerID: "p1") != nil)
            await clock.advance(by: .seconds(3600))
            let forgotten = try #require(await log.next(containing: "forgot the catalog"))
            #expect(forgotten.metadata["peer_id"] == "p1")
        }
        #expect(try await fixture.catalog.remoteSyncState(peerID: "p1") == nil)
    }

    @Test func nothingIsWrittenWhileIdle() async throws {
        try await fixture.catalog.applyRemoteDelta(
            peerID: "p1", name: "One", delta: CatalogDelta(epoch: "e", generation: 2, entries: [photo(1)], more: false),
            restart: false)
        let sync = makeSync(
            ScriptedNeighbour(clock: elapsed) { _, _ in throw Unreachable() }, forgetAfter: .seconds(14 * 86_400))
        let pool = fixture.catalog.pool
        let database = fixture.folder + "/state/index.sqlite"
        func files() -> [Int] {
            ["", "-wal"].map {
                ((try? FileManager.default.attributesOfItem(atPath: database + $0))?[.size] as? Int) ?? -1
            }
        }
        var log = recorder.records.makeAsyncIterator()
        try await running(sync) {
            _ = await log.next(containing: "looked for neighbours")
            let changes = try await pool.write { db in db.totalChangesCount }
            let sizes = files()
            for _ in 0..<3 {
                await clock.advance(by: .seconds(3600))
                #expect(await log.next(containing: "looked for neighbours")?.metadata["forgotten"] == "0")
            }
            #expect(try await pool.write { db in db.totalChangesCount } == changes)
            #expect(files() == sizes)
        }
    }
}

/// The checks every page of a neighbour's catalog passes before it is stored.
@Suite struct CatalogPageCheckTests {
    private func page(_ entries: [CatalogEntry], more: Bool = false, generation: Int64 = 99) -> CatalogDelta {
        CatalogDelta(epoch: "e", generation: generation, entries: entries, more: more)
    }

    @Test func aTitleOfOneLetterAndEndlessCombiningMarksIsCutTo1024BytesAtAScalarBoundary() throws {
        let title = "e" + String(repeating: "\u{0301}", count: 300_000)
        let checked = try CatalogPageCheck.check(page([photo(1, title: title)]), after: .start)
        let kept = try #require(checked.entries.first?.title)
        #expect(kept.utf8.count <= PeerLimits.maxCatalogTextBytes)
        #expect(kept.utf8.count >= PeerLimits.maxCatalogTextBytes - 3)
        #expect(kept.unicodeScalars.allSatisfy { $0 == "e" || $0 == "\u{0301}" })
    }

    @Test func pathsAreCutTo4096BytesAndMultiByteScalarsAreNeverSplit() throws {
        var entry = photo(1)
        entry.path = String(repeating: "€", count: 2000)  // 3 bytes each
        let checked = try CatalogPageCheck.check(page([entry]), after: .start)
        let path = try #require(checked.entries.first?.path)
        #expect(path.utf8.count == 4095)
        #expect(path == String(repeating: "€", count: 1365))
    }

    @Test(arguments: ["\u{1B}[2J", "a\rb", "\u{7F}", "\u{85}", "\u{0}", "\u{9B}31m"])
    func aControlCharacterInATagOrTheMimeTypeRejectsTheEntry(_ text: String) throws {
        var entries = [photo(1), photo(2), photo(3), photo(4)]
        entries[0].title = text
        entries[1].artist = text
        entries[2].album = text
        entries[3].mimeType = text
        let checked = try CatalogPageCheck.check(page(entries + [photo(5)]), after: .start)
        #expect(checked.rejected == 4)
        #expect(checked.entries.map(\.id) == [objectID(5)])
        #expect(checked.end == CatalogCursor(generation: 5, after: objectID(5)))
    }

    /// A file name may hold a newline or an escape: its entry is kept, the path's control characters replaced.
    @Test(arguments: ["\u{1B}[2J", "a\rb", "\u{7F}", "\u{85}", "\u{0}", "\u{9B}31m"])
    func aControlCharacterInAPathIsReplacedAndTheEntryKept(_ text: String) throws {
        var entry = photo(1)
        entry.path = "photos/" + text + ".jpg"
        let checked = try CatalogPageCheck.check(page([entry]), after: .start)
        #expect(checked.rejected == 0)
        let path = try #require(checked.entries.first?.path)
        #expect(path == DisplayText.replacingControls(entry.path!) && path != entry.path)
    }

    @Test func aPathThatIsNotUTF8OnItsBoxIsKeptAsItsOwnerEncodedIt() throws {
        var entry = photo(1)
        entry.path = FileSystemName.string(fromBytes: Array("Photos/caf".utf8) + [0xE9] + Array(".jpg".utf8))
        var kept = try #require(try CatalogPageCheck.check(page([entry]), after: .start).entries.first)
        #expect(kept.path == entry.path)
        #expect(kept.displayTitle == "Photo 1")
        kept.title = nil
        #expect(kept.displayTitle == "café.jpg")
    }

    @Test func numbersAreClamped() throws {
        var entry = photo(1)
        entry.size = -5
        entry.durationMilliseconds = .max
        entry.width = -1
        entry.height = 1 << 40
        var huge = photo(2)
        huge.size = .max
        huge.durationMilliseconds = -3
        let checked = try CatalogPageCheck.check(page([entry, huge]), after: .start)
        #expect(checked.entries[0].size == 0)
        #expect(checked.entries[0].durationMilliseconds == PeerLimits.maxCatalogDurationMilliseconds)
        #expect(checked.entries[0].width == 0 && checked.entries[0].height == 65535)
        #expect(checked.entries[1].size == ChunkManifest.maximumFileSize)
        #expect(checked.entries[1].durationMilliseconds == 0)
    }

    @Test(arguments: [
        ("image/jpeg", "image/jpeg"), ("video/x-matroska", "video/x-matroska"),
        ("application/vnd.ms-asf", "application/vnd.ms-asf"), ("text/html; charset=utf-8", "application/octet-stream"),
        ("jpeg", "application/octet-stream"), ("a/b/c", "application/octet-stream"), ("/x", "application/octet-stream"),
        ("image/" + String(repeating: "x", count: 300), "application/octet-stream"),
        ("ímage/jpeg", "application/octet-stream"),
    ])
    func mimeTypesMustLookLikeTypeSlashSubtype(_ given: String, _ kept: String) throws {
        var entry = photo(1)
        entry.mimeType = given
        #expect(try CatalogPageCheck.check(page([entry]), after: .start).entries.first?.mimeType == kept)
    }

    @Test func aNegativeGenerationRejectsThePage() {
        #expect(throws: CatalogPageProblem.negativeGeneration) {
            try CatalogPageCheck.check(page([photo(1, generation: -1)]), after: .start)
        }
        #expect(throws: CatalogPageProblem.negativeGeneration) {
            try CatalogPageCheck.check(page([photo(1)], generation: -1), after: .start)
        }
    }

    @Test func aPageThatSaysMoreButBringsNothingNewDoesNotAdvance() {
        #expect(throws: CatalogPageProblem.cursorDidNotAdvance) {
            try CatalogPageCheck.check(page([], more: true), after: .start)
        }
        #expect(throws: CatalogPageProblem.cursorDidNotAdvance) {
            try CatalogPageCheck.check(
                page([photo(2)], more: true), after: CatalogCursor(generation: 2, after: objectID(2)))
        }
        #expect(throws: CatalogPageProblem.cursorDidNotAdvance) {
            // After (3, nil) every entry of generation 3 was received.
            try CatalogPageCheck.check(page([photo(1, generation: 3)]), after: CatalogCursor(generation: 3, after: nil))
        }
    }

    @Test func entriesMustFollowInGenerationThenIDOrder() throws {
        #expect(throws: CatalogPageProblem.outOfOrder(position: 2)) {
            try CatalogPageCheck.check(page([photo(1), photo(3), photo(2)]), after: .start)
        }
        #expect(throws: CatalogPageProblem.outOfOrder(position: 1)) {
            try CatalogPageCheck.check(page([photo(1), photo(1)]), after: .start)
        }
        // The same generation, ids ascending: in order.
        let sameGeneration = [photo(1, generation: 5), photo(2, generation: 5)]
        let checked = try CatalogPageCheck.check(
            page(sameGeneration, more: true), after: CatalogCursor(generation: 4, after: objectID(9)))
        #expect(checked.end == CatalogCursor(generation: 5, after: objectID(2)))
    }

    @Test func aPhotosDateAndThumbnailAreKept() throws {
        var entry = photo(1)
        entry.dateTaken = "2024-06-01T10:00:00"
        entry.hasThumbnail = true
        let kept = try #require(try CatalogPageCheck.check(page([entry]), after: .start).entries.first)
        #expect(kept.dateTaken == "2024-06-01T10:00:00")
        #expect(kept.hasThumbnail == true)
    }

    @Test(arguments: [
        "2024-06", "2024-06-01 10:00:00", "2024-13-01T10:00:00", "2024-06-00T10:00:00", "2024-06-01T24:00:00",
        "../../etc/passw", "2024-06-01T10:00:00Z", "２０２４-06-01T10:00:00", "",
    ])
    func aDateTakenInAnotherFormIsDroppedAndTheEntryKept(_ date: String) throws {
        var entry = photo(1)
        entry.dateTaken = date
        let checked = try CatalogPageCheck.check(page([entry]), after: .start)
        #expect(checked.rejected == 0)
        let kept = try #require(checked.entries.first)
        #expect(kept.dateTaken == nil)
    }

    @Test func aDateOrThumbnailOnSomethingOtherThanAPhotoIsDropped() throws {
        var film = photo(1)
        film.kind = .video
        film.dateTaken = "2024-06-01T10:00:00"
        film.hasThumbnail = true
        let kept = try #require(try CatalogPageCheck.check(page([film]), after: .start).entries.first)
        #expect(kept.dateTaken == nil && kept.hasThumbnail == nil)
    }

    @Test func anEntryFromABoxThatSendsNeitherDateNorThumbnailIsRead() throws {
        let json = """
            {"id": "\(objectID(1).hex)", "generation": 1, "removed": false, "complete": true, "size": 10,
             "kind": "image", "mimeType": "image/jpeg", "path": "a.jpg"}
            """
        let entry = try JSONDecoder().decode(CatalogEntry.self, from: Data(json.utf8))
        #expect(entry.dateTaken == nil && entry.hasThumbnail == nil)
        let encoded = String(decoding: try JSONEncoder().encode(photo(1)), as: UTF8.self)
        #expect(!encoded.contains("dateTaken") && !encoded.contains("hasThumbnail"))
    }

    @Test func aPeerNameIsCutTo255BytesWithControlsReplaced() {
        #expect(CatalogPageCheck.peerName("Den\u{1B}]0;x") == "Den\u{FFFD}]0;x")
        #expect(CatalogPageCheck.peerName(String(repeating: "é", count: 200)).utf8.count == 254)
    }
}
