import ContentID
import Foundation
import Hummingbird
import PeerWire
import WireVocabulary

/// How the fake peer misbehaves: one mode per row of issue 12's table (see `HostileLANTests`).
enum Mode: String, CaseIterable, Sendable {
    /// `more: true` forever, 1000 entries a page, 1000-character fields.
    case endlessCatalog = "endless-catalog"
    /// The same page, ending on the same entry, with `more: true`: a cursor that never advances.
    case repeatedLastEntry = "repeated-last-entry"
    /// A new random id on every `/v1/info`, the same small catalog under each.
    case newIDPerInfo = "new-id-per-info"
    /// Titles, artists, albums and paths of one letter and 300 000 combining marks.
    case combiningMarks = "combining-marks"
    /// Terminal escapes and carriage returns in its name and in catalog strings, beside one clean entry.
    case escapeSequences = "escape-sequences"
    /// Every request answered with a 302 to `--redirect-to`.
    case redirectInfo = "redirect-info"
    /// Locate answered with a holder whose "address" carries a path and a query (`--holder-address`).
    case badHolderAddress = "bad-holder-address"
    /// `/v1/info` answers with `--claim-id` (another box's id) and a catalog of the attacker's entries.
    case claimID = "claim-id"
    /// An object with 64 MiB chunks whose transfers stall before each chunk's last byte.
    case hugeChunks = "huge-chunks"
    /// An object with this version's 1 MiB chunks whose transfers stall before each chunk's last byte: a fetch
    /// that gets its manifest (so it is recorded and would resume) and then never ends.
    case stallBytes = "stall-bytes"
    /// An object with 1-byte chunks (a 32 MiB manifest), served correctly, slowly by nature.
    case tinyChunks = "tiny-chunks"
    /// Claims a real object (`--object`, `--object-size`): lists it, answers locate and have, then stalls on the
    /// manifest and the bytes.
    case stall
    /// Counts every request to any path and answers 404: where a followed redirect or a pasted address would land.
    case sink
}

/// The fake peer's answers, with the real PeerWire types and manifest serialisation, so that everything but the
/// misbehaviour is well-formed and reaches the code under test.
struct FakePeer: Sendable {
    let mode: Mode
    let stats: Stats
    let name: String
    let peerID: String
    let redirectTo: String?
    let holderAddress: String?
    let object: SyntheticObject?
    let claimedObject: (id: ContentID, size: Int64)?

    static let epoch = "hostile0"

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        if mode == .sink {
            for method in [HTTPRequest.Method.get, .head, .post, .put] {
                router.on("**", method: method) { _, _ -> Response in
                    stats.add("requests")
                    return Response(status: .notFound)
                }
            }
            return router
        }
        if mode == .redirectInfo {
            for path in ["/v1/info", "/v1/catalog", "/v1/locate/:id", "/v1/have/:id", "/v1/objects/**"] {
                router.get(RouterPath(path)) { _, _ -> Response in
                    stats.add("redirected")
                    return Response(status: .found, headers: [.location: redirectTo ?? "http://127.0.0.1:9/"])
                }
            }
            return router
        }
        router.get("/v1/info") { _, _ -> Response in
            stats.add("info")
            var id = peerID
            if mode == .newIDPerInfo {
                id = Self.randomPeerID()
                stats.setPeerID(id)
            }
            return try json(PeerInfo(id: id, name: name, version: "0.1.0", generation: 1_000_000))
        }
        router.post("/v1/goodbye") { _, _ -> HTTPResponse.Status in
            stats.add("goodbye")
            return .noContent
        }
        router.get("/v1/catalog") { request, _ -> Response in
            stats.add("catalog")
            let since = request.uri.queryParameters.get("since").flatMap { Int64($0) } ?? 0
            let page = catalogPage(since: since)
            stats.add("catalog-entries", page.entries.count)
            return try json(page)
        }
        router.get("/v1/objects/:id/manifest") { _, context -> Response in
            stats.add("manifest")
            let id = context.parameters.get("id").flatMap { ContentID(hex: $0) }
            if mode == .stall, id == claimedObject?.id { return try await stallForever("manifest") }
            guard let object, id == object.id else { return Response(status: .notFound) }
            return Response(
                status: .ok, headers: [.contentType: "application/vnd.mediapeer.manifest"],
                body: .init(byteBuffer: ByteBuffer(bytes: object.serialized)))
        }
        router.get("/v1/have/:id") { _, context -> Response in
            stats.add("have")
            let id = context.parameters.get("id").flatMap { ContentID(hex: $0) }
            if let object, id == object.id {
                return try json(
                    HaveMap(id: object.id, have: ChunkBitmap(chunkCount: object.manifest.chunkCount, full: true)))
            }
            if mode == .stall, let claimed = claimedObject, id == claimed.id {
                let chunks = Int((claimed.size + (1 << 20) - 1) >> 20)
                return try json(HaveMap(id: claimed.id, have: ChunkBitmap(chunkCount: chunks, full: true)))
            }
            return Response(status: .notFound)
        }
        router.get("/v1/locate/:id") { request, context -> Response in
            stats.add("locate")
            guard let id = context.parameters.get("id").flatMap({ ContentID(hex: $0) }) else {
                return Response(status: .badRequest)
            }
            let queryID = request.uri.queryParameters.get("qid") ?? "hostile"
            var holders: [Holder] = []
            if mode == .badHolderAddress, let holderAddress {
                holders = [
                    Holder(
                        peerID: Self.randomPeerID(), name: "Elsewhere", addresses: [holderAddress], port: 8737,
                        complete: true)
                ]
            } else if id == object?.id || id == claimedObject?.id {
                holders = [Holder(peerID: peerID, name: name, addresses: [], port: 0, complete: true)]
            }
            return try json(LocateAnswer(id: id, queryID: queryID, holders: holders))
        }
        router.get("/v1/objects/:id") { request, context -> Response in
            stats.add("object-requests")
            let id = context.parameters.get("id").flatMap { ContentID(hex: $0) }
            if mode == .stall, id == claimedObject?.id { return try await stallForever("object") }
            guard let object, id == object.id else { return Response(status: .notFound) }
            guard let range = Self.range(request.headers[.range], size: object.size) else {
                return Response(status: .rangeNotSatisfiable)
            }
            return serve(object, range: range)
        }
        return router
    }

    /// A 206 for `range`. In huge-chunks and stall-bytes modes the body stops one byte short of the end of the first chunk it
    /// touches, and the connection is held open without another byte.
    private func serve(_ object: SyntheticObject, range: Range<Int64>) -> Response {
        let chunkSize = Int64(object.manifest.chunkSize)
        let stalls = mode == .hugeChunks || mode == .stallBytes
        let stallAt =
            stalls ? min(range.upperBound, (range.lowerBound / chunkSize + 1) * chunkSize - 1) : nil
        let headers: HTTPFields = [
            .contentType: "video/x-matroska",
            .contentRange: "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(object.size)",
        ]
        return Response(
            status: .partialContent, headers: headers,
            body: ResponseBody(contentLength: Int(range.count)) { writer in
                var offset = range.lowerBound
                let end = stallAt ?? range.upperBound
                while offset < end {
                    let next = min(end, offset + (1 << 20))
                    try await writer.write(ByteBuffer(bytes: object.bytes(offset..<next)))
                    stats.add("bytes-sent", Int(next - offset))
                    offset = next
                }
                if stallAt != nil {
                    stats.add("stalled-transfers")
                    try await Task.sleep(for: .seconds(3600))
                }
                try await writer.finish(nil)
            })
    }

    private func stallForever(_ what: String) async throws -> Response {
        stats.add("stalled-" + what)
        try await Task.sleep(for: .seconds(3600))
        return Response(status: .serviceUnavailable)
    }

    /// The page after generation `since`, as each mode lies about it.
    private func catalogPage(since: Int64) -> CatalogDelta {
        switch mode {
        case .endlessCatalog:
            // Generations strictly increase, so the cursor always advances: only a limit on what is kept stops it.
            let long = String(repeating: "x", count: 1000)
            let entries = (1...Int64(PeerLimits.catalogPageSize)).map { offset in
                let generation = since + offset
                return CatalogEntry(
                    id: Self.randomContentID(), generation: generation, size: 1 << 30, kind: .video,
                    mimeType: "video/x-matroska", path: "endless/\(generation)/" + long, title: "\(generation) " + long,
                    artist: long, album: long, durationMilliseconds: 1000, width: 640, height: 480)
            }
            return CatalogDelta(epoch: Self.epoch, generation: since + 2000, entries: entries, more: true)
        case .repeatedLastEntry:
            let entries = (1...10).map { index in
                CatalogEntry(
                    id: Self.fixedContentID(index), generation: 5, size: 1000, kind: .audio, mimeType: "audio/mpeg",
                    path: "loop/\(index).mp3", title: "Loop \(index)")
            }
            return CatalogDelta(epoch: Self.epoch, generation: 10, entries: entries, more: true)
        case .newIDPerInfo, .claimID:
            let entries = (1...200).map { index in
                CatalogEntry(
                    id: Self.fixedContentID(index), generation: Int64(index), size: 1000, kind: .video,
                    mimeType: "video/x-matroska", path: "attacker/\(index).mkv", title: "Attacker entry \(index)")
            }
            return CatalogDelta(epoch: Self.epoch, generation: 200, entries: entries, more: false)
        case .combiningMarks:
            let heavy = "a" + String(repeating: "\u{0301}", count: 300_000)
            let entries = (1...3).map { index in
                CatalogEntry(
                    id: Self.fixedContentID(index), generation: Int64(index), size: 1000, kind: .video,
                    mimeType: "video/x-matroska", path: "marks/\(index)/" + heavy, title: "\(index)" + heavy,
                    artist: heavy, album: heavy)
            }
            return CatalogDelta(epoch: Self.epoch, generation: 3, entries: entries, more: false)
        case .escapeSequences:
            let evil = [
                "\u{1B}]0;pwned\u{07}Retitled", "\u{1B}[2JCleared", "Over\rwritten", "Bell\u{07}", "C1\u{9B}31m",
            ]
            var entries = [
                CatalogEntry(
                    id: Self.fixedContentID(0), generation: 1, size: 1000, kind: .video, mimeType: "video/x-matroska",
                    path: "clean/Plain Film.mkv", title: "Plain Film")
            ]
            for (index, text) in evil.enumerated() {
                entries.append(
                    CatalogEntry(
                        id: Self.fixedContentID(index + 1), generation: Int64(index + 2), size: 1000, kind: .video,
                        mimeType: "video/x-matroska", path: "evil/\(text).mkv", title: "Escape \(text)",
                        artist: text))
            }
            return CatalogDelta(epoch: Self.epoch, generation: Int64(entries.count), entries: entries, more: false)
        case .hugeChunks, .stallBytes, .tinyChunks, .stall:
            let offered = object.map { ($0.id, $0.size) } ?? claimedObject.map { ($0.id, $0.size) }
            guard let (id, size) = offered else { break }
            let entry = CatalogEntry(
                id: id, generation: 1, size: size, kind: .video, mimeType: "video/x-matroska",
                path: mode.rawValue + ".mkv", title: "Offered by \(mode.rawValue)")
            return CatalogDelta(epoch: Self.epoch, generation: 1, entries: [entry], more: false)
        case .redirectInfo, .badHolderAddress, .sink:
            break
        }
        return CatalogDelta(epoch: Self.epoch, generation: 1, entries: [], more: false)
    }

    private func json(_ value: some Encodable) throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(value))))
    }

    /// `bytes=A-B` or `bytes=A-`, clamped to the object; the whole object without a header.
    static func range(_ header: String?, size: Int64) -> Range<Int64>? {
        guard let header else { return 0..<size }
        guard header.hasPrefix("bytes=") else { return nil }
        let parts = header.dropFirst(6).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = Int64(parts[0]), start < size else { return nil }
        let end = parts[1].isEmpty ? size - 1 : min(Int64(parts[1]) ?? (size - 1), size - 1)
        return end >= start ? start..<(end + 1) : nil
    }

    static func randomPeerID() -> String {
        (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    static func randomContentID() -> ContentID {
        ContentID(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) })!
    }

    /// The same id for `index` on every run and in every mode that uses it.
    static func fixedContentID(_ index: Int) -> ContentID {
        ContentID(bytes: (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ index &* 13 &+ 1) })!
    }
}
