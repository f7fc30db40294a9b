import ControlAPI
import Discovery
import Foundation
import MediaIndex
import MediaProbe
import PeerProtocol

/// Answers the control API and the peers' requests from the media library and the daemon's own facts.
struct LibraryControlHandler: ControlHandler, PeerRequestHandler {
    let library: MediaLibrary
    let name: String
    let peerID: String
    let httpPort: Int
    let configPath: String
    let stateDirectory: String
    let startedAt: ContinuousClock.Instant
    let network: PeerNetwork

    func status() async throws -> DaemonStatus {
        let statistics = try library.statistics()
        let hashed = library.hashingStatistics
        let seconds = Double(hashed.nanoseconds) / 1e9
        return DaemonStatus(
            name: name, peerID: peerID, httpPort: httpPort, version: MediapeerVersion.string, pid: getpid(),
            uptimeSeconds: Int((ContinuousClock.now - startedAt).components.seconds),
            configPath: configPath, mediaFolders: library.mediaFolders, stateDirectory: stateDirectory,
            library: statistics, scan: library.scanProgress,
            hashing: HashingStatus(
                pendingFiles: statistics.awaitingHash, filesHashed: hashed.filesHashed, bytesHashed: hashed.bytesHashed,
                bytesPerSecond: seconds > 0 ? Int64(Double(hashed.bytesHashed) / seconds) : nil),
            residentBytes: Self.residentBytes(), mdns: network.state,
            peerCount: await network.table.snapshot().filter { $0.id != nil }.count)
    }

    func info() async throws -> PeerProtocol.PeerInfo {
        PeerProtocol.PeerInfo(id: peerID, name: name, version: MediapeerVersion.string, generation: try library.generation())
    }

    func peerDeparted(id: String, address: String) async {
        await network.peerDeparted(id: id, address: address)
    }

    func list(kind: MediaKind?, limit: Int, offset: Int) async throws -> LibraryPage {
        LibraryPage(items: try library.list(kind: kind, limit: limit, offset: offset), total: try library.count(kind: kind), offset: offset)
    }

    func search(_ text: String, kind: MediaKind?, limit: Int) async throws -> LibraryPage {
        let items = try library.search(text, kind: kind, limit: limit)
        return LibraryPage(items: items, total: items.count, offset: 0)
    }

    func item(_ reference: String) async throws -> MediaItem? {
        try library.item(reference)
    }

    func peers() async throws -> PeerList {
        PeerList(peers: await network.table.snapshot(), mdns: network.state)
    }

    func requestScan() async throws -> ScanTicket {
        ScanTicket(scanNumber: library.requestScan())
    }

    /// VmRSS from /proc/self/status, in bytes.
    static func residentBytes() -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.split(separator: " ").dropFirst().first.flatMap { Int64($0) }
            return digits.map { $0 * 1024 }
        }
        return nil
    }
}
