import ControlAPI
import ControlWire
import Foundation
import Synchronization
import WireVocabulary

/// A daemon for the control router: it records each call with its arguments and answers with small real values, or
/// with the refusal or failure a test sets.
final class RecordingControlHandler: ControlHandler, Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private struct State {
        var calls: [String] = []
        var refusal: ControlRefusal?
        var failure: String?
        var temporaryFailures = false
    }

    private let state = Mutex(State())

    var calls: [String] { state.withLock { $0.calls } }
    var refusal: ControlRefusal? {
        get { state.withLock { $0.refusal } }
        set { state.withLock { $0.refusal = newValue } }
    }
    var failure: String? {
        get { state.withLock { $0.failure } }
        set { state.withLock { $0.failure = newValue } }
    }
    /// Whether ``refusal(for:)`` calls the failures temporary.
    var temporaryFailures: Bool {
        get { state.withLock { $0.temporaryFailures } }
        set { state.withLock { $0.temporaryFailures = newValue } }
    }

    func refusal(for error: any Error) -> ControlRefusal? {
        guard temporaryFailures, let failure = error as? Failure else { return nil }
        return .unavailable("try again: \(failure.description)")
    }

    /// Records `call`, then throws what the test set up, if anything.
    private func record(_ call: String) throws {
        let (refusal, failure) = state.withLock { state in
            state.calls.append(call)
            return (state.refusal, state.failure)
        }
        if let refusal { throw refusal }
        if let failure { throw Failure(description: failure) }
    }

    private func describe(_ kind: MediaKind?) -> String { kind?.rawValue ?? "nil" }

    func status() async throws -> DaemonStatus {
        try record("status")
        throw Failure(description: "no status in these tests")
    }

    func list(kind: MediaKind?, limit: Int, offset: Int) async throws -> LibraryPage {
        try record("list(\(describe(kind)), \(limit), \(offset))")
        return LibraryPage(items: [], total: 0, offset: offset)
    }

    func search(_ text: String, kind: MediaKind?, limit: Int) async throws -> LibraryPage {
        try record("search(\(text), \(describe(kind)), \(limit))")
        return LibraryPage(items: [], total: 0, offset: 0)
    }

    func item(_ reference: String) async throws -> MediaItem? {
        try record("item(\(reference))")
        return nil
    }

    func requestScan() async throws -> ScanTicket {
        try record("requestScan")
        return ScanTicket(scanNumber: 1)
    }

    func peers() async throws -> PeerList {
        try record("peers")
        return PeerList(peers: [], mdns: DiscoveryState(nameInUse: "box", daemonRunning: true, registered: true))
    }

    func listHome(kind: MediaKind?, limit: Int, offset: Int) async throws -> HomePage {
        try record("listHome(\(describe(kind)), \(limit), \(offset))")
        return HomePage(items: [], total: 0, offset: offset)
    }

    func searchHome(_ text: String, kind: MediaKind?, limit: Int) async throws -> HomePage {
        try record("searchHome(\(text), \(describe(kind)), \(limit))")
        return HomePage(items: [], total: 0, offset: 0)
    }

    func fetch(_ reference: String) async throws -> FetchProgress {
        try record("fetch(\(reference))")
        return FetchProgress(
            id: ContentID(hex: String(repeating: "0", count: 64))!, title: reference, state: .locating, size: 0,
            chunkCount: 0, chunksDone: 0, chunksResumed: 0, bytesDone: 0, bytesReceived: 0, bytesPerSecond: 0,
            sources: [], message: nil, startedAt: Date(timeIntervalSince1970: 0), finishedAt: nil)
    }

    func fetchProgress(_ id: ContentID) async throws -> FetchProgress? {
        try record("fetchProgress(\(id.hex))")
        return nil
    }

    func fetches() async throws -> FetchList {
        try record("fetches")
        return FetchList(fetches: [])
    }

    func cancelFetch(_ reference: String) async throws -> FetchCancellation {
        try record("cancelFetch(\(reference))")
        return FetchCancellation(
            id: ContentID(hex: String(repeating: "0", count: 64))!, title: reference, wasRunning: true,
            bytesDeleted: 1024)
    }

    func url(for reference: String, host: String?) async throws -> TitleURL {
        try record("url(\(reference), \(host ?? "nil"))")
        let id = ContentID(hex: String(repeating: "ab", count: 32))!
        return TitleURL(
            id: id, title: reference,
            url: PlayerURL.media(host: host ?? "192.168.1.20", port: 8738, id: id, fileExtension: "mkv"))
    }

    func popular(limit: Int?) async throws -> PopularList {
        try record("popular(\(limit.map(String.init) ?? "all"))")
        return PopularList(titles: [], total: 0, halfLifeSeconds: 604_800)
    }

    func cache() async throws -> CacheReport {
        try record("cache")
        return CacheReport(
            usedBytes: 0, quotaBytes: 1 << 30, quota: "1GiB", replication: "auto", highWatermark: 0.9,
            lowWatermark: 0.8, writtenToday: 0, dailyBudget: 20_000_000_000, replicas: [])
    }

    func evict(_ reference: String, force: Bool) async throws -> CacheEviction {
        try record("evict(\(reference), force: \(force))")
        return CacheEviction(
            id: ContentID(hex: String(repeating: "0", count: 64))!, title: reference, bytesFreed: 2048,
            wasPinned: false)
    }

    func pin(_ reference: String) async throws -> PinChange {
        try record("pin(\(reference))")
        return PinChange(
            id: ContentID(hex: String(repeating: "0", count: 64))!, title: reference, pinned: true, fetchStarted: false)
    }

    func unpin(_ reference: String) async throws -> PinChange {
        try record("unpin(\(reference))")
        return PinChange(
            id: ContentID(hex: String(repeating: "0", count: 64))!, title: reference, pinned: false, fetchStarted: false
        )
    }
}
