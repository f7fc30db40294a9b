import AsyncHTTPClient
import ControlWire
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import WireVocabulary

/// Why a control request failed, worded for the person at the terminal.
public enum ControlClientError: Error, CustomStringConvertible, Equatable {
    case daemonNotRunning(socket: String)
    case permissionDenied(socket: String)
    case cannotConnect(socket: String, reason: String)
    case requestFailed(status: Int, message: String)
    case unreadableResponse(String)

    public var description: String {
        switch self {
        case .daemonNotRunning(let socket): "mediapeerd is not running (no control socket at \(socket))"
        case .permissionDenied(let socket): "permission denied on \(socket) (run as root or join the mediapeer group)"
        case .cannotConnect(let socket, let reason): "cannot reach mediapeerd at \(socket): \(reason)"
        case .requestFailed(let status, let message): "mediapeerd refused the request (\(status)): \(message)"
        case .unreadableResponse(let reason): "unreadable answer from mediapeerd: \(reason)"
        }
    }
}

/// A client of the daemon's control API.
public struct ControlClient: Sendable {
    public static let defaultSocket = "/run/mediapeer/control.sock"
    public let socketPath: String
    private let timeout: TimeAmount

    public init(socketPath: String, timeout: TimeAmount = .seconds(30)) {
        self.socketPath = socketPath
        self.timeout = timeout
    }

    public func status() async throws(ControlClientError) -> DaemonStatus {
        try await request(.GET, ControlRoute.status)
    }

    public func list(kind: MediaKind?, limit: Int, offset: Int) async throws(ControlClientError) -> LibraryPage {
        var query = [("limit", String(limit)), ("offset", String(offset))]
        if let kind { query.append(("kind", kind.rawValue)) }
        return try await request(.GET, ControlRoute.library, query: query)
    }

    public func search(_ text: String, kind: MediaKind?, limit: Int) async throws(ControlClientError) -> LibraryPage {
        var query = [("q", text), ("limit", String(limit))]
        if let kind { query.append(("kind", kind.rawValue)) }
        return try await request(.GET, ControlRoute.search, query: query)
    }

    public func item(_ reference: String) async throws(ControlClientError) -> MediaItem {
        let escaped = reference.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? reference
        return try await request(.GET, ControlRoute.items + "/" + escaped)
    }

    public func requestScan() async throws(ControlClientError) -> ScanTicket {
        try await request(.POST, ControlRoute.scan)
    }

    public func peers() async throws(ControlClientError) -> PeerList {
        try await request(.GET, ControlRoute.peers)
    }

    public func listHome(kind: MediaKind?, limit: Int, offset: Int) async throws(ControlClientError) -> HomePage {
        var query = [("limit", String(limit)), ("offset", String(offset))]
        if let kind { query.append(("kind", kind.rawValue)) }
        return try await request(.GET, ControlRoute.home, query: query)
    }

    public func searchHome(_ text: String, kind: MediaKind?, limit: Int) async throws(ControlClientError) -> HomePage {
        var query = [("q", text), ("limit", String(limit))]
        if let kind { query.append(("kind", kind.rawValue)) }
        return try await request(.GET, ControlRoute.homeSearch, query: query)
    }

    public func fetch(_ reference: String) async throws(ControlClientError) -> FetchProgress {
        let body: Data
        do {
            body = try ControlJSON.encoder().encode(FetchRequest(reference: reference))
        } catch {
            throw .unreadableResponse("\(error)")
        }
        return try await request(.POST, ControlRoute.fetches, body: body)
    }

    /// Cancels the unfinished fetch named by content id, prefix or title (its partial file and record deleted).
    public func cancelFetch(_ reference: String) async throws(ControlClientError) -> FetchCancellation {
        let body: Data
        do {
            body = try ControlJSON.encoder().encode(FetchRequest(reference: reference))
        } catch {
            throw .unreadableResponse("\(error)")
        }
        return try await request(.POST, ControlRoute.fetchCancellation, body: body)
    }

    public func fetchProgress(_ id: ContentID) async throws(ControlClientError) -> FetchProgress {
        try await request(.GET, ControlRoute.fetches + "/" + id.hex)
    }

    public func fetches() async throws(ControlClientError) -> FetchList {
        try await request(.GET, ControlRoute.fetches)
    }

    /// The player URL of the title named by content id, prefix or title; `host` replaces the box's LAN address.
    public func url(_ reference: String, host: String?) async throws(ControlClientError) -> TitleURL {
        var query = [("reference", reference)]
        if let host { query.append(("host", host)) }
        return try await request(.GET, ControlRoute.urls, query: query)
    }

    /// The titles most in demand in the home: at most `limit`, or every one with demand when `limit` is nil.
    public func popular(limit: Int?) async throws(ControlClientError) -> PopularList {
        try await request(
            .GET, ControlRoute.popular, query: limit.map { [("limit", String($0))] } ?? [("all", "true")])
    }

    /// The cache's contents, quota, watermarks and today's writes.
    public func cache() async throws(ControlClientError) -> CacheReport {
        try await request(.GET, ControlRoute.cache)
    }

    /// Removes a replica from the cache; `force` also removes one a player or a neighbour read lately.
    public func evict(_ reference: String, force: Bool) async throws(ControlClientError) -> CacheEviction {
        try await request(
            .POST, ControlRoute.cacheEviction, body: try encoded(EvictRequest(reference: reference, force: force)))
    }

    /// Pins a title in the cache (fetching it if this box does not hold it yet).
    public func pin(_ reference: String) async throws(ControlClientError) -> PinChange {
        try await request(.POST, ControlRoute.pins, body: try encoded(FetchRequest(reference: reference)))
    }

    public func unpin(_ reference: String) async throws(ControlClientError) -> PinChange {
        try await request(.POST, ControlRoute.pinRemoval, body: try encoded(FetchRequest(reference: reference)))
    }

    func encoded(_ body: some Encodable) throws(ControlClientError) -> Data {
        do {
            return try ControlJSON.encoder().encode(body)
        } catch {
            throw .unreadableResponse("\(error)")
        }
    }

    func request<T: Decodable>(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body requestBody: Data? = nil
    ) async throws(ControlClientError) -> T {
        guard access(socketPath, F_OK) == 0 else { throw .daemonNotRunning(socket: socketPath) }
        guard access(socketPath, R_OK | W_OK) == 0 else { throw .permissionDenied(socket: socketPath) }
        var components = URLComponents()
        components.path = path
        if !query.isEmpty { components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        guard
            let uri = components.percentEncodedQuery.map({ components.percentEncodedPath + "?" + $0 })
                ?? Optional(components.percentEncodedPath),
            let url = URL(httpURLWithSocketPath: socketPath, uri: uri)
        else {
            throw .cannotConnect(socket: socketPath, reason: "the socket path cannot be used in a URL")
        }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        if let requestBody {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: requestBody))
        }
        let body: ByteBuffer
        let status: Int
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: timeout)
            status = Int(response.status.code)
            body = try await response.body.collect(upTo: 64 << 20)
        } catch {
            if ControlSocketProbe.isAcceptingConnections(socketPath) {
                throw .cannotConnect(socket: socketPath, reason: "\(error)")
            }
            throw .daemonNotRunning(socket: socketPath)
        }
        let data = Data(buffer: body)
        guard (200..<300).contains(status) else {
            let message =
                (try? ControlJSON.decoder().decode(ControlErrorBody.self, from: data))?.error.message
                ?? String(decoding: data.prefix(500), as: UTF8.self)
            throw .requestFailed(status: status, message: message)
        }
        do {
            return try ControlJSON.decoder().decode(T.self, from: data)
        } catch {
            throw .unreadableResponse("\(error)")
        }
    }
}

extension ControlClient {
    /// The household: LAN mode, or its members, online or not.
    public func household() async throws(ControlClientError) -> HouseholdReport {
        try await request(.GET, HouseholdRoute.household)
    }

    /// Opens a one-time pairing code on this box.
    public func pair() async throws(ControlClientError) -> PairingCodeAnswer {
        try await request(.POST, HouseholdRoute.pair)
    }

    /// Joins the household of the box that printed `code`.
    public func join(code: String) async throws(ControlClientError) -> HouseholdReport {
        try await request(.POST, HouseholdRoute.join, body: try encoded(JoinRequest(code: code)))
    }

    /// Removes a box (peer id, id prefix or name) from the household.
    public func removeFromHousehold(_ box: String) async throws(ControlClientError) -> HouseholdReport {
        try await request(.POST, HouseholdRoute.remove, body: try encoded(HouseholdRemoveRequest(box: box)))
    }

    /// This box leaves its household.
    public func leaveHousehold() async throws(ControlClientError) -> HouseholdReport {
        try await request(.POST, HouseholdRoute.leave)
    }
}
