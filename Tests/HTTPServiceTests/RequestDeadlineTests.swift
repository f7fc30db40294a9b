import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import Testing

@testable import HTTPService

/// The request deadline on an embedded channel, whose clock the test advances: what is timed and what is not.
@Suite struct RequestDeadlineTests {
    private static let deadline: Duration = .seconds(10)

    /// A channel with the server's HTTP/1 codec and the deadline handler, connected.
    private func makeChannel() async throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withPipeliningAssistance: false, withErrorHandling: false)
        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
        let admission = ConnectionAdmission(limits: .none, logger: Logger(label: "test.deadline"))
        try channel.pipeline.syncOperations.addHandler(
            RequestDeadlineHandler(deadline: Self.deadline, admission: admission))
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).get()
        return channel
    }

    private func receive(_ text: String, on channel: EmbeddedChannel) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    private func respond(on channel: EmbeddedChannel, end: Bool = true) throws {
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok, headerFields: [.contentLength: "0"])))
        if end { try channel.writeOutbound(HTTPResponsePart.end(nil)) }
    }

    /// What the server has written so far.
    private func sent(on channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let data = try channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = data { text += String(buffer: buffer) }
        }
        return text
    }

    private func advance(_ duration: Duration, _ channel: EmbeddedChannel) {
        channel.embeddedEventLoop.advanceTime(by: TimeAmount(duration))
    }

    @Test func aRequestStillArrivingAtTheDeadlineGets408AndItsConnectionIsClosed() async throws {
        let channel = try await makeChannel()
        try receive("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nabc", on: channel)
        advance(Self.deadline - .milliseconds(1), channel)
        #expect(channel.isActive)
        advance(.milliseconds(1), channel)
        #expect(!channel.isActive)
        #expect(try sent(on: channel).hasPrefix("HTTP/1.1 408"))
    }

    @Test func theDeadlineCountsFromTheFirstByteOfTheHead() async throws {
        let channel = try await makeChannel()
        try receive("GET /hello HT", on: channel)
        advance(.seconds(6), channel)
        try receive("TP/1.1\r\nHost: test\r\n", on: channel)
        advance(.seconds(4), channel)
        #expect(!channel.isActive)
        #expect(try sent(on: channel).hasPrefix("HTTP/1.1 408"))
    }

    @Test func answeringTakesAsLongAsItNeeds() async throws {
        let channel = try await makeChannel()
        try receive("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n", on: channel)
        advance(.seconds(60), channel)
        try respond(on: channel, end: false)
        advance(.seconds(60), channel)
        #expect(channel.isActive)
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        #expect(try sent(on: channel).hasPrefix("HTTP/1.1 200"))
    }

    @Test func theTimeBetweenRequestsIsNotCounted() async throws {
        let channel = try await makeChannel()
        try receive("GET /a HTTP/1.1\r\nHost: test\r\n\r\n", on: channel)
        try respond(on: channel)
        advance(.seconds(60), channel)
        #expect(channel.isActive)
        try receive("GET /b HTTP/1.1\r\n", on: channel)
        advance(Self.deadline, channel)
        #expect(!channel.isActive)
    }

    @Test func bytesThatArriveDuringAResponseAreTimedFromItsEnd() async throws {
        let channel = try await makeChannel()
        try receive("GET /a HTTP/1.1\r\nHost: test\r\n\r\n", on: channel)
        try receive("GET /b HTT", on: channel)
        advance(.seconds(60), channel)
        #expect(channel.isActive)
        try respond(on: channel)
        advance(Self.deadline - .milliseconds(1), channel)
        #expect(channel.isActive)
        advance(.milliseconds(1), channel)
        #expect(!channel.isActive)
    }

    @Test func aRequestAnsweredBeforeItsBodyArrivedIsCutWithoutA408() async throws {
        let channel = try await makeChannel()
        try receive("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nabc", on: channel)
        try respond(on: channel)
        advance(Self.deadline, channel)
        #expect(!channel.isActive)
        let sent = try sent(on: channel)
        #expect(sent.hasPrefix("HTTP/1.1 200"))
        #expect(!sent.contains("408"))
    }
}
