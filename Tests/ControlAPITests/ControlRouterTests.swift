import ControlWire
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import WireVocabulary

@testable import ControlAPI

/// The control API's routes as `mediapeerctl` sees them, driven in process through Hummingbird's router test
/// client: what each route passes to the daemon, and what a client mistake or a refusal looks like.
@Suite struct ControlRouterTests {
    let handler = RecordingControlHandler()

    func withRouter(_ test: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let router = ControlServer.makeRouter(handler: handler, logger: Logger(label: "test.control"))
        try await Application(router: router).test(.router, test)
    }

    func errorMessage(_ response: TestResponse) throws -> String {
        try ControlJSON.decoder().decode(ControlErrorBody.self, from: Data(buffer: response.body)).error.message
    }

    @Test func listingPassesKindLimitAndOffsetToTheDaemon() async throws {
        try await withRouter { client in
            let response = try await client.execute(uri: "/v1/library?kind=audio&limit=5&offset=10", method: .get)
            #expect(response.status == .ok)
            let page = try ControlJSON.decoder().decode(LibraryPage.self, from: Data(buffer: response.body))
            #expect(page.offset == 10)
        }
        #expect(handler.calls == ["list(audio, 5, 10)"])
    }

    @Test func listingWithoutParametersUsesTheDefaults() async throws {
        try await withRouter { client in
            let response = try await client.execute(uri: "/v1/library", method: .get)
            #expect(response.status == .ok)
        }
        #expect(handler.calls == ["list(nil, 100, 0)"])
    }

    @Test(arguments: ["limit=-1", "limit=10001", "limit=ten", "offset=-5", "offset=99999999999"])
    func anOutOfRangeNumberIsABadRequestThatNamesItsBounds(query: String) async throws {
        try await withRouter { client in
            let response = try await client.execute(uri: "/v1/library?\(query)", method: .get)
            #expect(response.status == .badRequest)
            #expect(try errorMessage(response).contains("must be a whole number from 0 to"))
        }
        #expect(handler.calls.isEmpty)
    }

    @Test func anUnknownKindIsABadRequestThatListsTheKinds() async throws {
        try await withRouter { client in
            let response = try await client.execute(uri: "/v1/home?kind=podcast", method: .get)
            #expect(response.status == .badRequest)
            #expect(try errorMessage(response) == "unknown kind \"podcast\" (video, audio, image or subtitle)")
        }
        #expect(handler.calls.isEmpty)
    }

    @Test(arguments: ["/v1/library/search", "/v1/library/search?q=%20%20", "/v1/home/search?q="])
    func aSearchWithoutWordsIsABadRequest(uri: String) async throws {
        try await withRouter { client in
            let response = try await client.execute(uri: uri, method: .get)
            #expect(response.status == .badRequest)
            #expect(try errorMessage(response) == "missing search text (q)")
        }
        #expect(handler.calls.isEmpty)
    }

    @Test func aSearchLongerThan512BytesIsABadRequest() async throws {
        try await withRouter { client in
            let response = try await client.execute(
                uri: "/v1/home/search?q=\(String(repeating: "a", count: 513))", method: .get)
            #expect(response.status == .badRequest)
        }
        #expect(handler.calls.isEmpty)
    }

    @Test func aHomeSearchPassesItsWordsAndKind() async throws {
        try await withRouter { client in
            let response = try await client.execute(
                uri: "/v1/home/search?q=holiday%202019&kind=video&limit=3", method: .get)
            #expect(response.status == .ok)
        }
        #expect(handler.calls == ["searchHome(holiday 2019, video, 3)"])
    }

    @Test func anUnknownItemIsNotFoundWithAHint() async throws {
        try await withRouter { client in
            let response = try await client.execute(uri: "/v1/library/items/nothing", method: .get)
            #expect(response.status == .notFound)
            #expect(try errorMessage(response).contains("use a numeric id or a content id"))
        }
        #expect(handler.calls == ["item(nothing)"])
    }

    @Test func aFetchPassesItsReference() async throws {
        try await withRouter { client in
            let body = try JSONEncoder().encode(FetchRequest(reference: "holiday"))
            let response = try await client.execute(uri: "/v1/fetches", method: .post, body: ByteBuffer(data: body))
            #expect(response.status == .ok)
            let progress = try ControlJSON.decoder().decode(FetchProgress.self, from: Data(buffer: response.body))
            #expect(progress.title == "holiday")
        }
        #expect(handler.calls == ["fetch(holiday)"])
    }

    @Test(arguments: ["", String(repeating: "x", count: 513)])
    func aFetchWithAnEmptyOrOverlongReferenceIsABadRequest(reference: String) async throws {
        try await withRouter { client in
            let body = try JSONEncoder().encode(FetchRequest(reference: reference))
            let response = try await client.execute(uri: "/v1/fetches", method: .post, body: ByteBuffer(data: body))
            #expect(response.status == .badRequest)
        }
        #expect(handler.calls.isEmpty)
    }

    @Test func aFetchProgressNeedsAWholeContentID() async throws {
        try await withRouter { client in
            let response = try await client.execute(uri: "/v1/fetches/abcdef12", method: .get)
            #expect(response.status == .badRequest)
            #expect(try errorMessage(response) == "not a content id (64 hex digits)")
        }
        #expect(handler.calls.isEmpty)
    }

    @Test func theProgressOfAFetchNobodyStartedIsNotFound() async throws {
        let id = String(repeating: "ab", count: 32)
        try await withRouter { client in
            let response = try await client.execute(uri: "/v1/fetches/\(id)", method: .get)
            #expect(response.status == .notFound)
        }
        #expect(handler.calls == ["fetchProgress(\(id))"])
    }

    @Test(arguments: [
        (ControlRefusal.badRequest("give more digits"), HTTPResponse.Status.badRequest),
        (ControlRefusal.notFound("nothing matches"), .notFound),
        (ControlRefusal.conflict("not enough space"), .conflict),
        (ControlRefusal.unavailable("the index is busy"), .serviceUnavailable),
    ])
    func aRefusalKeepsItsStatusAndItsMessage(refusal: ControlRefusal, status: HTTPResponse.Status) async throws {
        handler.refusal = refusal
        try await withRouter { client in
            let body = try JSONEncoder().encode(FetchRequest(reference: "holiday"))
            let response = try await client.execute(uri: "/v1/fetches", method: .post, body: ByteBuffer(data: body))
            #expect(response.status == status)
            let expected: String =
                switch refusal {
                case .badRequest(let message), .notFound(let message), .conflict(let message),
                    .unavailable(let message):
                    message
                }
            #expect(try errorMessage(response) == expected)
        }
    }

    @Test func anErrorTheDaemonCallsTemporaryIsAnsweredAsItSays() async throws {
        handler.failure = "the index is locked"
        handler.temporaryFailures = true
        try await withRouter { client in
            let response = try await client.execute(uri: "/v1/peers", method: .get)
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.retryAfter] == "1")
            #expect(try errorMessage(response) == "try again: the index is locked")
        }
    }

    @Test func anUnexpectedDaemonErrorIsAServerErrorThatSaysWhatFailed() async throws {
        handler.failure = "the index is locked"
        try await withRouter { client in
            let response = try await client.execute(uri: "/v1/peers", method: .get)
            #expect(response.status == .internalServerError)
            #expect(try errorMessage(response).contains("the index is locked"))
        }
    }

    // MARK: Cancelling a fetch

    @Test func cancellingAFetchPassesItsReferenceAndAnswersWhatWasDone() async throws {
        try await withRouter { client in
            let body = try JSONEncoder().encode(FetchRequest(reference: "holiday"))
            let response = try await client.execute(
                uri: "/v1/fetches/cancel", method: .post, body: ByteBuffer(data: body))
            #expect(response.status == .ok)
            let cancelled = try ControlJSON.decoder().decode(FetchCancellation.self, from: Data(buffer: response.body))
            #expect(cancelled.title == "holiday" && cancelled.wasRunning && cancelled.bytesDeleted == 1024)
        }
        #expect(handler.calls == ["cancelFetch(holiday)"])
    }

    @Test(arguments: ["", String(repeating: "x", count: 513)])
    func cancellingWithAnEmptyOrOverlongReferenceIsABadRequest(reference: String) async throws {
        try await withRouter { client in
            let body = try JSONEncoder().encode(FetchRequest(reference: reference))
            let response = try await client.execute(
                uri: "/v1/fetches/cancel", method: .post, body: ByteBuffer(data: body))
            #expect(response.status == .badRequest)
        }
        #expect(handler.calls.isEmpty)
    }

    @Test func cancellingWhatNoFetchMatchesIsNotFoundWithTheDaemonsMessage() async throws {
        handler.refusal = .notFound("no unfinished fetch matches \"holiday\"")
        try await withRouter { client in
            let body = try JSONEncoder().encode(FetchRequest(reference: "holiday"))
            let response = try await client.execute(
                uri: "/v1/fetches/cancel", method: .post, body: ByteBuffer(data: body))
            #expect(response.status == .notFound)
            #expect(try errorMessage(response) == "no unfinished fetch matches \"holiday\"")
        }
        #expect(handler.calls == ["cancelFetch(holiday)"])
    }

    // MARK: The cache

    @Test func evictingPassesTheReferenceAndForce() async throws {
        try await withRouter { client in
            let body = try JSONEncoder().encode(EvictRequest(reference: "holiday", force: true))
            let response = try await client.execute(
                uri: "/v1/cache/evict", method: .post, body: ByteBuffer(data: body))
            #expect(response.status == .ok)
            let evicted = try ControlJSON.decoder().decode(CacheEviction.self, from: Data(buffer: response.body))
            #expect(evicted.title == "holiday" && evicted.bytesFreed == 2048)
        }
        #expect(handler.calls == ["evict(holiday, force: true)"])
    }

    @Test func pinningWithAnEmptyReferenceIsABadRequest() async throws {
        try await withRouter { client in
            let body = try JSONEncoder().encode(FetchRequest(reference: " "))
            let response = try await client.execute(uri: "/v1/pins", method: .post, body: ByteBuffer(data: body))
            #expect(response.status == .badRequest)
        }
        #expect(handler.calls.isEmpty)
    }
}
