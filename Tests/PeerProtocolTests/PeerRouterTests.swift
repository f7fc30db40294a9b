import ContentID
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PeerWire
import Testing
import WireVocabulary

@testable import PeerProtocol

/// The peer API as other boxes see it, driven in process through Hummingbird's router test client.
@Suite(.timeLimit(.minutes(2))) final class PeerRouterTests {
    /// Ten 64 KiB chunks, the last one short, spanning several 256 KiB send blocks.
    let file: ObjectFixture
    /// Five chunks, of which the replica holds 0, 1 and 2.
    let partialFile: ObjectFixture
    let handler: FakePeerHandler

    init() throws {
        file = try ObjectFixture(size: 9 * ObjectFixture.chunkSize + 1234)
        partialFile = try ObjectFixture(size: 5 * ObjectFixture.chunkSize - 100)
        handler = FakePeerHandler(
            objects: [file.servable(), partialFile.servable(held: [0, 1, 2])],
            manifests: [file.manifest, partialFile.manifest])
    }

    deinit {
        file.remove()
        partialFile.remove()
    }

    var size: Int { file.bytes.count }
    var objectURI: String { "/v1/objects/\(file.id.hex)" }
    var eTag: String { "\"\(file.id.hex)\"" }

    private func get(
        _ uri: String, method: HTTPRequest.Method = .get, headers: HTTPFields = [:],
        faults: ServingFaults = .none, limits: UploadLimits = .init()
    ) async throws -> TestResponse {
        try await withPeerRouter(handler, limits: limits, faults: faults) { client in
            try await client.execute(uri: uri, method: method, headers: headers)
        }
    }

    // MARK: Demand

    @Test func aBoxWithoutDemandFiguresAnswersTheDemandRoute404() async throws {
        #expect(try await get("/v1/demand").status == .notFound)
    }

    @Test func objectGetsAreReportedAsServedButHeadsAndMissingObjectsAreNot() async throws {
        _ = try await get(objectURI, headers: [.range: "bytes=0-0"])
        _ = try await get(objectURI, method: .head)
        _ = try await get("/v1/objects/" + String(repeating: "0", count: 64))
        #expect(handler.served == [file.id])
    }

    // MARK: Objects

    @Test func wholeObjectIsServedWithAStrongContentIDETagAndExactBytes() async throws {
        let response = try await get(objectURI)
        #expect(response.status == .ok)
        let tag = try #require(response.headers[.eTag])
        #expect(tag == eTag)
        #expect(tag.wholeMatch(of: /"[0-9a-f]{64}"/) != nil)
        #expect(response.headers[.acceptRanges] == "bytes")
        #expect(response.headers[.contentLength] == String(size))
        #expect(response.headers[.contentRange] == nil)
        #expect(Array(buffer: response.body) == file.bytes)
    }

    @Test func firstByteRangeIsAPartialResponseOfOneByte() async throws {
        let response = try await get(objectURI, headers: [.range: "bytes=0-0"])
        #expect(response.status == .partialContent)
        #expect(response.headers[.contentRange] == "bytes 0-0/\(size)")
        #expect(response.headers[.contentLength] == "1")
        #expect(Array(buffer: response.body) == [file.bytes[0]])
    }

    @Test func lastByteRangeIsAPartialResponseOfTheLastByte() async throws {
        let response = try await get(objectURI, headers: [.range: "bytes=\(size - 1)-\(size - 1)"])
        #expect(response.status == .partialContent)
        #expect(response.headers[.contentRange] == "bytes \(size - 1)-\(size - 1)/\(size)")
        #expect(Array(buffer: response.body) == [file.bytes[size - 1]])
    }

    @Test func suffixRangeReturnsTheLastBytes() async throws {
        let response = try await get(objectURI, headers: [.range: "bytes=-500"])
        #expect(response.status == .partialContent)
        #expect(response.headers[.contentRange] == "bytes \(size - 500)-\(size - 1)/\(size)")
        #expect(Array(buffer: response.body) == Array(file.bytes.suffix(500)))
    }

    @Test func rangeAcrossSendBlocksAndChunksIsExact() async throws {
        let start = 200_000
        let end = 500_000
        let response = try await get(objectURI, headers: [.range: "bytes=\(start)-\(end)"])
        #expect(response.status == .partialContent)
        #expect(response.headers[.contentLength] == String(end - start + 1))
        #expect(Array(buffer: response.body) == Array(file.bytes[start...end]))
    }

    @Test func rangePastTheEndIsUnsatisfiableWithTheSize() async throws {
        let response = try await get(objectURI, headers: [.range: "bytes=\(size)-"])
        #expect(response.status == .rangeNotSatisfiable)
        #expect(response.headers[.contentRange] == "bytes */\(size)")
        #expect(response.body.readableBytes == 0)
    }

    @Test func malformedRangeIsABadRequest() async throws {
        let response = try await get(objectURI, headers: [.range: "bytes=abc"])
        #expect(response.status == .badRequest)
    }

    @Test func headAnswersTheHeadersOfAGetWithoutABody() async throws {
        let response = try await get(objectURI, method: .head)
        #expect(response.status == .ok)
        #expect(response.headers[.eTag] == eTag)
        #expect(response.headers[.acceptRanges] == "bytes")
        #expect(response.headers[.contentLength] == String(size))
        #expect(response.body.readableBytes == 0)
    }

    @Test func headWithARangeAnswersThePartialLength() async throws {
        let response = try await get(objectURI, method: .head, headers: [.range: "bytes=10-19"])
        #expect(response.status == .partialContent)
        #expect(response.headers[.contentLength] == "10")
        #expect(response.headers[.contentRange] == "bytes 10-19/\(size)")
        #expect(response.body.readableBytes == 0)
    }

    @Test func ifNoneMatchWithTheETagIsNotModified() async throws {
        let response = try await get(objectURI, headers: [.ifNoneMatch: eTag])
        #expect(response.status == .notModified)
        #expect(response.body.readableBytes == 0)
        let listed = try await get(objectURI, headers: [.ifNoneMatch: "\"other\", \(eTag)"])
        #expect(listed.status == .notModified)
    }

    @Test func ifNoneMatchComparesWeakly() async throws {
        // RFC 9110 §13.1.2: If-None-Match uses the weak comparison, so W/"id" matches the strong "id".
        let response = try await get(objectURI, headers: [.ifNoneMatch: "W/\(eTag)"])
        #expect(response.status == .notModified)
    }

    @Test func ifNoneMatchWithAnotherETagServesTheObject() async throws {
        let response = try await get(objectURI, headers: [.ifNoneMatch: "\"\(String(repeating: "0", count: 64))\""])
        #expect(response.status == .ok)
        #expect(Array(buffer: response.body) == file.bytes)
    }

    @Test func ifRangeWithAnotherETagServesTheWholeObject() async throws {
        let response = try await get(
            objectURI, headers: [.range: "bytes=0-9", .ifRange: "\"\(String(repeating: "0", count: 64))\""])
        #expect(response.status == .ok)
        #expect(response.headers[.contentRange] == nil)
        #expect(Array(buffer: response.body) == file.bytes)
    }

    @Test func ifRangeWithTheETagServesTheRange() async throws {
        let response = try await get(objectURI, headers: [.range: "bytes=0-9", .ifRange: eTag])
        #expect(response.status == .partialContent)
        #expect(Array(buffer: response.body) == Array(file.bytes[0...9]))
    }

    @Test func unknownObjectIsNotFound() async throws {
        let unknown = ContentID(bytes: [UInt8](repeating: 7, count: 32))!
        let response = try await get("/v1/objects/\(unknown.hex)")
        #expect(response.status == .notFound)
    }

    @Test func uppercaseIDNamesTheSameObject() async throws {
        let response = try await get("/v1/objects/\(file.id.hex.uppercased())", headers: [.range: "bytes=0-3"])
        #expect(response.status == .partialContent)
        #expect(Array(buffer: response.body) == Array(file.bytes[0...3]))
    }

    @Test func emptyObjectIsAnEmptyOK() async throws {
        let empty = try ObjectFixture(size: 0)
        defer { empty.remove() }
        let handler = FakePeerHandler(objects: [empty.servable()])
        let response = try await withPeerRouter(handler) { client in
            try await client.execute(uri: "/v1/objects/\(empty.id.hex)", method: .get)
        }
        #expect(response.status == .ok)
        #expect(response.headers[.contentLength] == "0")
        #expect(response.body.readableBytes == 0)
    }

    @Test func fileThatChangedSizeSinceHashingIsNotServed() async throws {
        let edited = try ObjectFixture(size: 1000)
        defer { edited.remove() }
        let handler = FakePeerHandler(objects: [edited.servable()])
        try Data(edited.bytes + [1, 2, 3]).write(to: URL(fileURLWithPath: edited.path))
        // The status is sent before the size check, so the transfer fails mid-body instead.
        var servedOldBytes = false
        do {
            let response = try await withPeerRouter(handler) { client in
                try await client.execute(uri: "/v1/objects/\(edited.id.hex)", method: .get)
            }
            servedOldBytes = response.status == .ok && response.body.readableBytes > 0
        } catch {}
        #expect(!servedOldBytes)
    }

    // MARK: Partial replicas

    @Test func partialReplicaServesRangesInsideHeldChunks() async throws {
        let chunk = ObjectFixture.chunkSize
        let response = try await get(
            "/v1/objects/\(partialFile.id.hex)", headers: [.range: "bytes=\(chunk)-\(3 * chunk - 1)"])
        #expect(response.status == .partialContent)
        #expect(Array(buffer: response.body) == Array(partialFile.bytes[chunk..<(3 * chunk)]))
    }

    @Test func partialReplicaRefusesRangesTouchingMissingChunks() async throws {
        let chunk = ObjectFixture.chunkSize
        let size = partialFile.bytes.count
        for range in ["bytes=\(3 * chunk - 1)-\(3 * chunk)", "bytes=\(3 * chunk)-\(3 * chunk)", "bytes=-1", "bytes=0-"]
        {
            let response = try await get("/v1/objects/\(partialFile.id.hex)", headers: [.range: range])
            #expect(response.status == .rangeNotSatisfiable, "\(range)")
            #expect(response.headers[.contentRange] == "bytes */\(size)", "\(range)")
        }
    }

    @Test func partialReplicaDoesNotServeTheWholeObject() async throws {
        let response = try await get("/v1/objects/\(partialFile.id.hex)")
        #expect(response.status == .notFound)
    }

    // MARK: Ids that are not content ids

    static let badIDs = [
        "..%2F..%2Fetc%2Fpasswd", "%2e%2e", "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "..", ".",
        String(repeating: "a", count: 100), String(repeating: "a", count: 63), String(repeating: "a", count: 65),
        String(repeating: "g", count: 64), String(repeating: "a", count: 62) + "%2F",
        "%00" + String(repeating: "a", count: 61), String(repeating: "a", count: 4096),
    ]

    @Test(arguments: badIDs)
    func idsThatAreNotContentIDsNeverReachTheHandler(_ bad: String) async throws {
        for uri in ["/v1/objects/\(bad)", "/v1/objects/\(bad)/manifest", "/v1/have/\(bad)", "/v1/locate/\(bad)"] {
            for method in [HTTPRequest.Method.get, .head] where method == .get || uri.hasPrefix("/v1/objects/") {
                let response = try await get(uri, method: method)
                #expect([.badRequest, .notFound].contains(response.status), "\(method) \(uri): \(response.status)")
                #expect(response.body.readableBytes < 200, "\(method) \(uri) answered more than an error")
            }
        }
        #expect(handler.asked.isEmpty, "asked: \(handler.asked)")
    }

    @Test func plainTraversalPathsNeverReachTheHandler() async throws {
        for uri in [
            "/v1/objects/../../etc/passwd", "/v1/objects/%2e%2e/%2e%2e/etc/passwd", "/v1/have/../../etc/passwd",
            "/v1/objects//etc/passwd", "/v1/objects/\(file.id.hex)/../../../etc/passwd",
        ] {
            let response = try await get(uri)
            #expect([.badRequest, .notFound].contains(response.status), "\(uri): \(response.status)")
            #expect(!String(buffer: response.body).contains("root:"))
        }
        #expect(handler.asked.isEmpty, "asked: \(handler.asked)")
    }

    // MARK: Manifests and have-maps

    @Test func manifestParsesAndVerifiesAgainstTheID() async throws {
        let response = try await get("/v1/objects/\(file.id.hex)/manifest")
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == ManifestMediaType.value)
        let manifest = try ChunkManifest(serialized: Array(buffer: response.body))
        #expect(manifest == file.manifest)
        #expect(throws: Never.self) { try ChunkVerifier(manifest: manifest, expected: file.id) }
    }

    @Test func manifestOfAnUnknownObjectIsNotFound() async throws {
        let response = try await get("/v1/objects/\(String(repeating: "1", count: 64))/manifest")
        #expect(response.status == .notFound)
    }

    @Test func haveMapOfAPartialReplicaDecodesToItsBitmap() async throws {
        let response = try await get("/v1/have/\(partialFile.id.hex)")
        #expect(response.status == .ok)
        let map = try JSONDecoder().decode(HaveMap.self, from: Data(buffer: response.body))
        #expect(map.id == partialFile.id)
        #expect(map.complete == false)
        #expect(map.chunks == partialFile.servable(held: [0, 1, 2]).available)
    }

    @Test func haveMapOfACompleteObjectIsFull() async throws {
        let response = try await get("/v1/have/\(file.id.hex)")
        let map = try JSONDecoder().decode(HaveMap.self, from: Data(buffer: response.body))
        #expect(map.complete)
        #expect(map.chunks == ChunkBitmap(chunkCount: file.manifest.chunkCount, full: true))
    }

    @Test func haveMapOfAnUnknownObjectIsNotFound() async throws {
        let response = try await get("/v1/have/\(String(repeating: "1", count: 64))")
        #expect(response.status == .notFound)
    }

    // MARK: Catalog, locate, info

    @Test(arguments: [
        "since=abc", "since=-1", "since=1e3", "limit=x", "limit=-5", "after=notanid",
        "after=\(String(repeating: "a", count: 63))", "since=99999999999999999999",
    ])
    func catalogWithABadParameterIsABadRequest(_ query: String) async throws {
        let response = try await get("/v1/catalog?\(query)")
        #expect(response.status == .badRequest)
        #expect(handler.asked.isEmpty)
    }

    @Test func catalogPassesSinceAfterAndABoundedLimitToTheHandler() async throws {
        let after = file.id.hex
        let response = try await get("/v1/catalog?since=12&after=\(after)&limit=5")
        #expect(response.status == .ok)
        _ = try await get("/v1/catalog?limit=0")
        _ = try await get("/v1/catalog?limit=100000")
        #expect(
            handler.asked == [
                "catalog since=12 after=\(after) limit=5",
                "catalog since=0 after=- limit=1",
                "catalog since=0 after=- limit=\(PeerLimits.catalogPageSize)",
            ])
    }

    @Test func catalogAnswerDecodes() async throws {
        let response = try await get("/v1/catalog?since=0")
        let delta = try JSONDecoder().decode(CatalogDelta.self, from: Data(buffer: response.body))
        #expect(delta == CatalogDelta(epoch: "e", generation: 1, entries: [], more: false))
    }

    @Test(arguments: [
        "ttl=9", "ttl=\(PeerLimits.maxLocateTTL + 1)", "ttl=-1", "ttl=two", "qid=", "qid=a%20b",
        "qid=\(String(repeating: "q", count: 65))", "qid=../x", "ttl=99999999999999999999",
    ])
    func locateWithABadParameterIsABadRequest(_ query: String) async throws {
        let response = try await get("/v1/locate/\(file.id.hex)?\(query)")
        #expect(response.status == .badRequest)
        #expect(handler.asked.isEmpty)
    }

    /// Past 2^31 - 1 (a trap converting to a 32-bit Int) and 2^32 + 2 (2 if cut to 32 bits).
    @Test(arguments: ["2147483648", "4294967298", "9223372036854775807", "99999999999999999999"])
    func locateTTLPast32BitsIsABadRequestNamingTheRange(_ ttl: String) async throws {
        let response = try await get("/v1/locate/\(file.id.hex)?ttl=\(ttl)")
        #expect(response.status == .badRequest)
        #expect(
            String(buffer: response.body).contains("ttl must be a whole number from 0 to \(PeerLimits.maxLocateTTL)"))
        #expect(handler.asked.isEmpty)
    }

    @Test func locatePassesTTLAndQueryIDToTheHandler() async throws {
        let response = try await get("/v1/locate/\(file.id.hex)?ttl=\(PeerLimits.maxLocateTTL)&qid=abc-123_X")
        #expect(response.status == .ok)
        let answer = try JSONDecoder().decode(LocateAnswer.self, from: Data(buffer: response.body))
        #expect(answer.id == file.id && answer.queryID == "abc-123_X")
        #expect(handler.asked == ["locate \(file.id.hex) ttl=\(PeerLimits.maxLocateTTL) qid=abc-123_X"])
    }

    @Test func locateWithoutAQueryIDGetsAFreshValidOne() async throws {
        let response = try await get("/v1/locate/\(file.id.hex)")
        let answer = try JSONDecoder().decode(LocateAnswer.self, from: Data(buffer: response.body))
        #expect(PeerLimits.isValidQueryID(answer.queryID))
    }

    @Test func infoDecodes() async throws {
        let response = try await get("/v1/info")
        let info = try JSONDecoder().decode(PeerInfo.self, from: Data(buffer: response.body))
        #expect(info.name == "fake" && info.generation == 7 && info.protocolVersion == PeerProtocolVersion.current)
    }

    // MARK: Faults and limits

    @Test func corruptBodiesFaultSendsDifferentBytesOfTheSameLength() async throws {
        let response = try await get(objectURI, faults: ServingFaults(corruptBodies: true))
        #expect(response.status == .ok)
        let body = Array(buffer: response.body)
        #expect(body.count == file.bytes.count)
        #expect(body != file.bytes)
    }

    @Test func transfersBeyondTheLimitAreRefusedWithRetryAfter() async throws {
        let response = try await get(objectURI, limits: UploadLimits(total: 0, perClient: 0))
        #expect(response.status == .serviceUnavailable)
        #expect(response.headers[.retryAfter] == "1")
    }

    @Test func aSmallRangeTakesATransferSlotToo() async throws {
        let response = try await get(
            objectURI, headers: [.range: "bytes=0-99"], limits: UploadLimits(total: 0, perClient: 0))
        #expect(response.status == .serviceUnavailable)
    }

    @Test func headNeedsNoTransferSlot() async throws {
        let response = try await get(objectURI, method: .head, limits: UploadLimits(total: 0, perClient: 0))
        #expect(response.status == .ok)
    }

    @Test func finishedTransfersGiveTheirSlotBack() async throws {
        let handler = self.handler
        let uri = objectURI
        let bytes = file.bytes
        try await withPeerRouter(handler, limits: UploadLimits(total: 1, perClient: 1)) { client in
            for _ in 0..<3 {
                let response = try await client.execute(uri: uri, method: .get, headers: [.range: "bytes=0-99"])
                #expect(response.status == .partialContent)
                #expect(Array(buffer: response.body) == Array(bytes[0...99]))
            }
        }
    }
}
