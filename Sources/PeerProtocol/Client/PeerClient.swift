import AsyncHTTPClient
import ContentID
import Foundation
import NIOCore
import NIOHTTP1
import PeerAddresses
import PeerWire
import WireVocabulary

/// Where a peer's API answers: a host and a port, from which every request's URL is built. The host is an IP
/// literal (IPv6 with an optional zone), or a host name of letters, digits, `-` and `_` as a static peer of the
/// configuration may give; anything else is refused, so no text a peer sends (a holder "address" carrying a path,
/// a query or credentials) can ever become part of a URL.
public struct PeerEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var peerID: String
    public var name: String
    /// An IP literal or a host name, without brackets.
    public let host: String
    /// 1...65535.
    public let port: Int

    /// The endpoint at `host` and `port`; nil unless `host` is an IP literal or a host name and `port` is in
    /// 1...65535.
    public init?(peerID: String, name: String, host: String, port: Int) {
        guard PeerLimits.isValidHolderPort(port), PeerLimits.isValidHolderAddress(host) || Self.isHostName(host)
        else { return nil }
        self.peerID = peerID
        self.name = name
        self.host = host
        self.port = port
    }

    /// The endpoint at the preferred acceptable address (``AddressPreference``); nil without one.
    public init?(peerID: String, name: String, addresses: [String], port: Int) {
        for address in AddressPreference.sorted(addresses) {
            if let endpoint = PeerEndpoint(peerID: peerID, name: name, host: address, port: port) {
                self = endpoint
                return
            }
        }
        return nil
    }

    /// `http://host:port` with an IPv6 host in brackets and its zone written `%25` (RFC 6874).
    public var baseURL: String { baseURL(secure: false) }

    /// `https://…` over TLS, else ``baseURL``.
    func baseURL(secure: Bool) -> String {
        let host = host.contains(":") ? "[" + host.replacingOccurrences(of: "%", with: "%25") + "]" : host
        return "\(secure ? "https" : "http")://\(host):\(port)"
    }

    public var description: String { "\(name) (\(baseURL))" }

    /// Dot-separated labels of 1 to 63 of `[A-Za-z0-9_-]`, 253 bytes at most, not all digits (that would be an IPv4
    /// address, which ``PeerLimits/isValidHolderAddress(_:)`` judges).
    static func isHostName(_ text: String) -> Bool {
        guard (1...253).contains(text.utf8.count) else { return false }
        let labels = (text.hasSuffix(".") ? text.dropLast() : Substring(text)).split(
            separator: ".", omittingEmptySubsequences: false)
        let isLabelByte = { (byte: UInt8) in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == 0x2D || byte == 0x5F
        }
        return labels.allSatisfy { (1...63).contains($0.utf8.count) && $0.utf8.allSatisfy(isLabelByte) }
            && !labels.allSatisfy { $0.utf8.allSatisfy { (0x30...0x39).contains($0) } }
    }
}

/// Why a request to a peer failed.
public enum PeerClientError: Error, CustomStringConvertible, Equatable {
    /// No answer: connection refused, reset, or the deadline passed.
    case unreachable(peer: String, reason: String)
    /// The peer does not hold what was asked.
    case notFound(peer: String)
    /// The peer is busy (503): ask again later or elsewhere.
    case busy(peer: String)
    case refused(peer: String, status: Int, message: String)
    /// The peer answered with something that breaks the protocol (wrong length, bad JSON, a manifest that does not
    /// hash to the id asked for).
    case invalidAnswer(peer: String, reason: String)
    /// The peer did not prove the key of the id it was reached as: another device answers at its address.
    case unproven(peer: String, reason: String)
    /// This box does not talk to that peer (it is not in this box's household); no connection was made.
    case refusedHere(peer: String, reason: String)

    public var description: String {
        switch self {
        case .unreachable(let peer, let reason): "\(peer) is unreachable: \(reason)"
        case .notFound(let peer): "\(peer) does not hold it"
        case .busy(let peer): "\(peer) is busy"
        case .refused(let peer, let status, let message): "\(peer) refused (HTTP \(status)): \(message)"
        case .invalidAnswer(let peer, let reason): "\(peer) sent an invalid answer: \(reason)"
        case .unproven(let peer, let reason): "\(peer) is not the box it was taken for: \(reason)"
        case .refusedHere(let peer, let reason): "not asking \(peer): \(reason)"
        }
    }
}

/// A client of the peer API: every answer is bounded in size and checked before it is believed, and no redirect
/// is followed (a peer's answer is the peer's own; a redirect would send our request, a goodbye included, to a host
/// we never chose).
///
/// With a ``PeerTrust`` (every box's client), every request is mutual TLS and reaches a peer only once it proved
/// the key of the id its ``PeerEndpoint`` names; without, plain HTTP (tests of the plain server).
public struct PeerClient: Sendable {
    private let http: HTTPClient
    private let trust: PeerTrust?

    /// - Parameter http: the HTTP client, which must not follow redirects; by default one shared by every
    ///   `PeerClient`, set up like `HTTPClient.shared` but following none.
    /// - Parameter trust: the box's identity and the keys it learnt; nil for plain HTTP.
    public init(http: HTTPClient? = nil, trust: PeerTrust? = nil) {
        self.http = http ?? Self.sharedHTTP
        self.trust = trust
    }

    /// Lives as long as the process, as `HTTPClient.shared` does, so it is never shut down.
    private static let sharedHTTP: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Who the peer is (`GET /v1/info`), accepted only with a well-formed id and a generation that is not negative,
    /// and over TLS only with the id of the key the peer proved.
    ///
    /// - Parameter learning: accept whoever answers at the endpoint (over TLS, the id is then that of its key):
    ///   for a static peer, whose id is known only from its answer. Otherwise `peer.peerID` must be proven.
    public func info(
        _ peer: PeerEndpoint, learning: Bool = false, timeout: TimeAmount = .seconds(3)
    ) async throws(PeerClientError) -> PeerInfo {
        let answer = try await send(
            peer, "/v1/info", method: .GET, learning: learning, timeout: timeout, maxBytes: 64 << 10)
        let info: PeerInfo = try decode(answer.body, from: peer, path: "/v1/info")
        if let proven = answer.provenID, info.id != proven {
            throw .unproven(peer: peer.description, reason: "info names \(info.id), but the key is that of \(proven)")
        }
        let isHexDigit = { (byte: UInt8) in (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte) }
        guard info.id.utf8.count == 32, info.id.utf8.allSatisfy(isHexDigit) else {
            throw .invalidAnswer(peer: peer.description, reason: "info: the id is not 32 lowercase hex digits")
        }
        guard info.generation >= 0 else {
            throw .invalidAnswer(peer: peer.description, reason: "info: negative generation \(info.generation)")
        }
        return info
    }

    /// Tells the peer that the box `id` is leaving (`POST /v1/goodbye`), so that it drops this box at once.
    public func goodbye(
        _ peer: PeerEndpoint, from id: String, timeout: TimeAmount = .milliseconds(500)
    ) async throws(PeerClientError) {
        // One string always encodes; were it ever not to, the peer would refuse the empty body with a 400.
        let body = (try? JSONEncoder().encode(Goodbye(id: id))) ?? Data()
        _ = try await send(
            peer, "/v1/goodbye", method: .POST, body: ByteBuffer(bytes: body), timeout: timeout,
            maxBytes: 64 << 10)
    }

    /// The peer's demand digest (`GET /v1/demand`), read up to ``PeerLimits/maxDemandDigestBytes``; a box without
    /// the route answers ``PeerClientError/notFound(peer:)``. The entries are checked by the caller.
    public func demand(_ peer: PeerEndpoint) async throws(PeerClientError) -> DemandDigest {
        try await json(peer, "/v1/demand", timeout: .seconds(10), maxBytes: PeerLimits.maxDemandDigestBytes)
    }

    public func catalog(_ peer: PeerEndpoint, since: Int64, after: ContentID?) async throws(PeerClientError)
        -> CatalogDelta
    {
        var path = "/v1/catalog?since=\(since)"
        if let after { path += "&after=\(after.hex)" }
        return try await json(peer, path, timeout: .seconds(30), maxBytes: 16 << 20)
    }

    /// The manifest of `id`, accepted only if it hashes to `id`, has chunks of `chunkSize` bytes and at most
    /// `maxChunkCount` of them. No more is read than such a manifest takes.
    ///
    /// - Parameters:
    ///   - chunkSize: the chunk size this box accepts: this version's (tests pass their fixtures' smaller one).
    ///   - timeout: how long the answer may take; a holder that stalls loses the request after it.
    public func manifest(
        _ peer: PeerEndpoint, id: ContentID, chunkSize: Int = ChunkManifest.standardChunkSize,
        maxChunkCount: Int = PeerLimits.maxChunkCount, timeout: TimeAmount = .seconds(5)
    ) async throws(PeerClientError) -> ChunkVerifier {
        let maxBytes = ChunkManifest.serializedSize(chunkCount: maxChunkCount)
        let body = try await get(
            peer, "/v1/objects/\(id.hex)/manifest", timeout: timeout, maxBytes: maxBytes
        ).body
        do {
            let manifest = try ChunkManifest(
                serialized: Array(buffer: body), chunkSize: chunkSize, maxChunkCount: maxChunkCount)
            return try ChunkVerifier(manifest: manifest, expected: id)
        } catch {
            throw .invalidAnswer(peer: peer.description, reason: "manifest: \(error)")
        }
    }

    /// Which chunks of `id` the peer holds.
    public func have(_ peer: PeerEndpoint, id: ContentID, chunkCount: Int) async throws(PeerClientError) -> ChunkBitmap
    {
        let map: HaveMap = try await json(peer, "/v1/have/\(id.hex)", timeout: .seconds(5))
        guard map.id == id, map.chunkCount == chunkCount, let chunks = map.chunks else {
            throw .invalidAnswer(peer: peer.description, reason: "have-map does not fit the manifest")
        }
        return chunks
    }

    public func locate(
        _ peer: PeerEndpoint, id: ContentID, ttl: Int, queryID: String, timeout: TimeAmount = .seconds(5)
    ) async throws(PeerClientError) -> LocateAnswer {
        // The query id goes into the URL: only its own alphabet may (the server checks it as well).
        guard PeerLimits.isValidQueryID(queryID) else {
            throw .refused(peer: peer.description, status: 400, message: "qid: 1 to 64 of [A-Za-z0-9_-]")
        }
        let answer: LocateAnswer = try await json(
            peer, "/v1/locate/\(id.hex)?ttl=\(ttl)&qid=\(queryID)", timeout: timeout)
        guard answer.id == id else {
            throw .invalidAnswer(peer: peer.description, reason: "locate answered for another object")
        }
        return answer
    }

    /// Streams the bytes `range` of object `id`, handing them to `deliver` in consecutive pieces of `pieceLength`
    /// bytes (the last may be shorter), numbered from 0, in order, as each piece arrives whole. At most two pieces
    /// are held (one being delivered, one arriving), so a long range costs no more memory than a short one, and
    /// each is held only with its bytes reserved in `buffers`, which every fetch of the box shares: the request
    /// waits for room before it sends (and before each further piece), and a piece's reservation is released once
    /// `deliver` returns. `deliver` returns false to stop: no later piece is delivered.
    ///
    /// `pieceTimeout` bounds the wait for each piece, not the whole range (nor the waits for room in `buffers`,
    /// which are not the peer's): a peer that stops sending loses the request within one piece's deadline, however
    /// long the range. A body longer or shorter than asked for is an error, never data; the pieces delivered before
    /// it stay delivered.
    ///
    /// - Returns: how many pieces were delivered.
    @discardableResult
    public func pieces(
        _ peer: PeerEndpoint, id: ContentID, range: Range<Int64>, pieceLength: Int, pieceTimeout: TimeAmount,
        buffers: FetchBufferBudget,
        deliver: @escaping @Sendable (_ index: Int, _ piece: ByteBuffer) async throws -> Bool
    ) async throws -> Int {
        precondition(pieceLength > 0 && !range.isEmpty)
        let total = range.upperBound - range.lowerBound
        var request = HTTPClientRequest(url: peer.baseURL(secure: trust != nil) + "/v1/objects/\(id.hex)")
        request.method = .GET
        if let trust {
            request.tlsConfiguration = try await trust.configuration(for: peer, learning: false, timeout: pieceTimeout)
                .0
        }
        request.headers.add(name: "Range", value: "bytes=\(range.lowerBound)-\(range.upperBound - 1)")
        let deadline = ProgressDeadline(timeout: pieceTimeout)
        /// The size of piece `index`.
        let pieceSize = { @Sendable (index: Int) -> Int in
            let start = Int64(index) * Int64(pieceLength)
            // narrowing: checked because the piece is at most pieceLength bytes, an Int
            return Int(min(start + Int64(pieceLength), total) - start)
        }
        do {
            return try await deadline.run { [http, request] in
                // Room for the first piece before the request goes out: a request waiting for memory holds neither
                // a connection nor one of the peer's upload slots.
                deadline.pause()
                var arriving = try await buffers.reserve(pieceSize(0))
                // Whatever is reserved for a piece that never completes is given back however this ends.
                defer { buffers.release(arriving) }
                deadline.extend()
                let response = try await http.execute(request, timeout: pieceTimeout)
                guard response.status == .partialContent else {
                    // Classified by status: a peer that ignored the Range and sends the whole object is refusing,
                    // not unreachable, however long its body.
                    let body = (try? await response.body.collect(upTo: 64 << 10)) ?? ByteBuffer()
                    throw Self.error(status: Int(response.status.code), body: body, peer: peer)
                }
                let contentRange = response.headers.first(name: "Content-Range")
                guard contentRange?.hasPrefix("bytes \(range.lowerBound)-\(range.upperBound - 1)/") == true else {
                    throw PeerClientError.invalidAnswer(
                        peer: peer.description,
                        reason:
                            "asked for bytes \(range.lowerBound)-\(range.upperBound - 1), got Content-Range \(contentRange ?? "none")"
                    )
                }
                return try await withThrowingTaskGroup(of: Bool.self) { deliveries in
                    // The previous piece is delivered (verified, written) while the next one arrives: one piece
                    // in delivery and one arriving at most, and the connection never waits for the disk.
                    var delivering = false
                    var piece = ByteBufferAllocator().buffer(capacity: arriving)
                    var received: Int64 = 0
                    var delivered = 0
                    for try await var part in response.body {
                        received += Int64(part.readableBytes)
                        guard received <= total else {
                            throw PeerClientError.invalidAnswer(
                                peer: peer.description, reason: "sent more than the \(total) bytes asked for")
                        }
                        while part.readableBytes > 0 {
                            let size = pieceSize(delivered)
                            var taken = part.readSlice(length: min(size - piece.readableBytes, part.readableBytes))!
                            piece.writeBuffer(&taken)
                            guard piece.readableBytes == size else { continue }
                            if delivering {
                                delivering = false
                                // Time spent waiting for our own disk is not the peer's.
                                deadline.pause()
                                guard try await deliveries.next()! else { return delivered }
                            }
                            deadline.extend()
                            let (index, whole, reserved) = (delivered, piece, arriving)
                            arriving = 0
                            deliveries.addTask {
                                // Released as soon as the piece is written, not when the request looks next: a
                                // request waiting for room never holds room another delivery could give back.
                                defer { buffers.release(reserved) }
                                do {
                                    return try await deliver(index, whole)
                                } catch {
                                    throw DeliveryFailed(underlying: error)
                                }
                            }
                            delivering = true
                            delivered += 1
                            piece = ByteBuffer()
                            if Int64(delivered) * Int64(pieceLength) < total {
                                // Nor is the wait for room.
                                deadline.pause()
                                arriving = try await buffers.reserve(pieceSize(delivered))
                                deadline.extend()
                                piece = ByteBufferAllocator().buffer(capacity: arriving)
                            }
                        }
                    }
                    if delivering {
                        deadline.pause()
                        _ = try await deliveries.next()
                    }
                    guard received == total else {
                        throw PeerClientError.invalidAnswer(
                            peer: peer.description, reason: "sent \(received) of the \(total) bytes asked for")
                    }
                    return delivered
                }
            }
        } catch let error as PeerClientError {
            throw error
        } catch let failure as DeliveryFailed {
            // Not the peer's fault (the partial file could not be written): passed on as it is.
            throw failure.underlying
        } catch {
            trust?.forget(peer.peerID)
            throw PeerClientError.unreachable(peer: peer.description, reason: "\(error)")
        }
    }

    /// Pairing, step 1 (`POST /v1/household/pairing/hello`): the member's nonce. Made whatever the household
    /// rules: the joiner is not in the member's household yet.
    public func pairingHello(_ peer: PeerEndpoint, _ hello: PairingHello) async throws(PeerClientError)
        -> PairingChallenge
    {
        try await post(peer, "/v1/household/pairing/hello", hello, restricted: false)
    }

    /// Pairing, step 2 (`POST /v1/household/pairing/proof`): the member's proof and the roster listing the joiner.
    public func pairingProof(_ peer: PeerEndpoint, _ proof: PairingProof) async throws(PeerClientError)
        -> PairingWelcome
    {
        try await post(peer, "/v1/household/pairing/proof", proof, restricted: false)
    }

    /// The member's roster (`GET /v1/household/roster`), read up to 1 MiB.
    public func roster(_ peer: PeerEndpoint) async throws(PeerClientError) -> RosterDocument {
        try await json(peer, "/v1/household/roster", timeout: .seconds(5))
    }

    /// Hands a member this box's roster (`POST /v1/household/roster`) after a change made here, so that it learns
    /// the change at once rather than at its next health check.
    public func pushRoster(_ peer: PeerEndpoint, _ roster: RosterDocument) async throws(PeerClientError) {
        let _: Empty = try await post(peer, "/v1/household/roster", roster, restricted: true)
    }

    /// Tells a box it was removed (`POST /v1/household/removed`): made although this box no longer counts it a
    /// member.
    public func removalNotice(_ peer: PeerEndpoint, _ notice: RemovalNotice) async throws(PeerClientError) {
        let _: Empty = try await post(peer, "/v1/household/removed", notice, restricted: false)
    }

    /// An answer without content (204), or one whose content is not read.
    private struct Empty: Decodable {}

    private func post<Body: Encodable, Reply: Decodable>(
        _ peer: PeerEndpoint, _ path: String, _ body: Body, restricted: Bool
    ) async throws(PeerClientError) -> Reply {
        let data: Data
        do {
            data = try JSONEncoder().encode(body)
        } catch {
            throw .invalidAnswer(peer: peer.description, reason: "cannot encode the request: \(error)")
        }
        let answer = try await send(
            peer, path, method: .POST, body: ByteBuffer(bytes: data), restricted: restricted, timeout: .seconds(5),
            maxBytes: 1 << 20)
        if let empty = Empty() as? Reply { return empty }
        return try decode(answer.body, from: peer, path: path)
    }

    private struct DeliveryFailed: Error {
        var underlying: any Error
    }

    private static func error(status: Int, body: ByteBuffer, peer: PeerEndpoint) -> PeerClientError {
        switch status {
        case 404: .notFound(peer: peer.description)
        case 503: .busy(peer: peer.description)
        default: .refused(peer: peer.description, status: status, message: String(buffer: body).prefix(300).description)
        }
    }

    private func json<T: Decodable>(_ peer: PeerEndpoint, _ path: String, timeout: TimeAmount, maxBytes: Int = 1 << 20)
        async throws(PeerClientError) -> T
    {
        try decode(try await get(peer, path, timeout: timeout, maxBytes: maxBytes).body, from: peer, path: path)
    }

    private func decode<T: Decodable>(_ body: ByteBuffer, from peer: PeerEndpoint, path: String)
        throws(PeerClientError) -> T
    {
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: body))
        } catch {
            throw .invalidAnswer(peer: peer.description, reason: "\(path): \(error)")
        }
    }

    private struct Answer {
        var status: Int
        var contentRange: String?
        var body: ByteBuffer
        /// The id whose key the peer proved; nil without TLS.
        var provenID: String?
    }

    private func get(
        _ peer: PeerEndpoint, _ path: String, headers: [(String, String)] = [], timeout: TimeAmount, maxBytes: Int
    ) async throws(PeerClientError) -> Answer {
        try await send(peer, path, method: .GET, headers: headers, timeout: timeout, maxBytes: maxBytes)
    }

    /// One request; its answer read whole, up to `maxBytes`, and refused unless 2xx.
    private func send(
        _ peer: PeerEndpoint, _ path: String, method: HTTPMethod, headers: [(String, String)] = [],
        body: ByteBuffer? = nil, learning: Bool = false, restricted: Bool = true, timeout: TimeAmount, maxBytes: Int
    ) async throws(PeerClientError) -> Answer {
        var request = HTTPClientRequest(url: peer.baseURL(secure: trust != nil) + path)
        request.method = method
        var provenID: String?
        if let trust {
            let (configuration, id) = try await trust.configuration(
                for: peer, learning: learning, timeout: timeout, restricted: restricted)
            request.tlsConfiguration = configuration
            provenID = id
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(body)
        }
        let status: Int
        let contentRange: String?
        let body: ByteBuffer
        do {
            // The deadline covers the body too (AsyncHTTPClient's covers only the response head): a box that stops
            // sending half-way through a chunk must not hold the request forever.
            (status, contentRange, body) = try await ProgressDeadline(timeout: timeout).run { [http, request] in
                let response = try await http.execute(request, timeout: timeout)
                let body = try await response.body.collect(upTo: max(maxBytes, 64 << 10))
                return (Int(response.status.code), response.headers.first(name: "Content-Range"), body)
            }
        } catch let error as NIOTooManyBytesError {
            throw .invalidAnswer(peer: peer.description, reason: "answer longer than \(maxBytes) bytes: \(error)")
        } catch {
            if let provenID { trust?.forget(provenID) }
            throw .unreachable(peer: peer.description, reason: "\(error)")
        }
        guard (200...299).contains(status) else { throw Self.error(status: status, body: body, peer: peer) }
        return Answer(status: status, contentRange: contentRange, body: body, provenID: provenID)
    }
}
