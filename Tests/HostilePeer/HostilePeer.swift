import ArgumentParser
import BoxIdentity
import ContentID
import Crypto
import Foundation
import Hummingbird
import HummingbirdTLS
import WireVocabulary

/// The hostile device of the hostile-LAN tests: a fake peer that misbehaves in one chosen way (`--mode`), or a
/// bounded load generator (`--load`). It runs inside a simulated-home box and reports what it did through
/// `--stats`, a JSON file of counters the test reads.
@main
struct HostilePeer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mediapeer-hostile-peer",
        abstract: "A misbehaving peer and load generator for mediapeer's hostile-LAN tests (never shipped).")

    @Option(help: "How the fake peer misbehaves: \(Mode.allCases.map(\.rawValue).joined(separator: ", ")).")
    var mode: String?

    @Option(
        help: "Instead of serving: a load against --target (connections, slow-readers, locates, players, slow-loris).")
    var load: String?

    @Option(help: "Port the fake peer listens on (all IPv4 addresses of its box).")
    var port: Int = 8737

    @Option(help: "Where to write the counters (JSON), rewritten on every change.")
    var stats: String?

    @Option(help: "The friendly name /v1/info gives.")
    var name: String = "Hostile"

    @Option(help: "claim-id: the peer id to claim.")
    var claimID: String?

    @Option(help: "redirect-info: where every answer redirects to.")
    var redirectTo: String?

    @Option(help: "bad-holder-address: the holder address locate answers give.")
    var holderAddress: String?

    @Option(help: "stall: the content id of the real object to claim; load: the object to read or locate.")
    var object: String?

    @Option(help: "stall: the size of the claimed object.")
    var objectSize: Int64 = 0

    @Option(help: "load: HOST:PORT of the victim.")
    var target: String?

    @Option(help: "load: the local address to connect from.")
    var source: String?

    @Option(help: "load: connections, readers or locates.")
    var count: Int = 1

    @Option(help: "slow-readers: a Range header value (bytes=A-B) instead of the whole object.")
    var range: String?

    @Option(help: "load: stop after this many seconds whatever happened.")
    var duration: Int = 30

    @Option(help: "locates: connections sending locates in parallel.")
    var workers: Int = 4

    @Option(help: "players: the path to ask the victim for.")
    var path: String?

    @Option(help: "players: the file whose bytes the path must give.")
    var file: String?

    @Option(help: "players, slow-loris: consecutive source addresses from --source to spread the clients over.")
    var sources: Int = 1

    mutating func run() async throws {
        if let load {
            guard let target, let (host, port) = Self.hostAndPort(target) else {
                throw ValidationError("--load needs --target HOST:PORT")
            }
            let stats = Stats(path: stats, peerID: "")
            let settings = LoadSettings(
                host: host, port: port, source: source, count: count, duration: duration, object: object,
                range: range, workers: workers, stats: stats, path: path, file: file, sources: sources)
            switch load {
            case "connections": try Load.trickleConnections(settings)
            case "slow-readers": try Load.slowReaders(settings)
            case "locates": try await Load.locates(settings)
            case "players": try Load.players(settings)
            case "slow-loris": try Load.slowLoris(settings)
            default: throw ValidationError("unknown load \(load)")
            }
            return
        }
        guard let mode = mode.flatMap(Mode.init(rawValue:)) else {
            throw ValidationError("--mode must be one of \(Mode.allCases.map(\.rawValue))")
        }
        // A key of its own, as any device can make: its id is that key's, unless it claims another box's (which
        // its key cannot prove).
        let identity = try BoxIdentity(privateKey: P256.Signing.PrivateKey())
        let peerID = claimID ?? identity.peerID
        let offered: SyntheticObject? =
            switch mode {
            case .hugeChunks: try SyntheticObject(size: 128 << 20, chunkSize: 64 << 20, seed: 1)
            case .tinyChunks: try SyntheticObject(size: 1 << 20, chunkSize: 1, seed: 2)
            case .stallBytes: try SyntheticObject(size: 8 << 20, chunkSize: 1 << 20, seed: 3)
            default: nil
            }
        let stats = Stats(path: stats, peerID: peerID, object: offered?.id.hex)
        var claimed: (id: ContentID, size: Int64)?
        if mode == .stall {
            guard let id = object.flatMap({ ContentID(hex: $0) }), objectSize > 0 else {
                throw ValidationError("stall needs --object ID and --object-size N")
            }
            claimed = (id, objectSize)
        }
        let peer = FakePeer(
            mode: mode, stats: stats, name: name, peerID: peerID, redirectTo: redirectTo, holderAddress: holderAddress,
            object: offered, claimedObject: claimed)
        // The peer API is TLS: boxes reach only a server proving a key. No client certificate is asked for.
        var tls = try identity.serverTLSConfiguration()
        tls.certificateVerification = .none
        let app = Application(
            router: peer.router(), server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname("0.0.0.0", port: port), serverName: "mediapeer/1"),
            onServerRunning: { _ in
                var ready = ["ready": 1]
                if let offered { ready["object-chunks"] = offered.manifest.chunkCount }
                stats.set(ready)
            })
        try await app.runService()
    }

    static func hostAndPort(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { return nil }
        return (String(text[..<colon]), port)
    }
}
