import ControlWire
import Foundation
import HummingbirdTesting
import Testing
import WireVocabulary

/// `GET /v1/urls`: the route behind `mediapeerctl url` and `play`.
extension ControlRouterTests {
    @Test func aURLRequestPassesItsReferenceAndAnswersTheTitleAndURL() async throws {
        try await withRouter { client in
            let response = try await client.execute(uri: "/v1/urls?reference=summer%20holiday", method: .get)
            #expect(response.status == .ok)
            let answer = try ControlJSON.decoder().decode(TitleURL.self, from: Data(buffer: response.body))
            #expect(answer.title == "summer holiday")
            #expect(answer.url == "http://192.168.1.20:8738/media/\(String(repeating: "ab", count: 32)).mkv")
        }
        #expect(handler.calls == ["url(summer holiday, nil)"])
    }

    @Test(arguments: ["nas.home.arpa", "10.0.0.7", "fe80::1%eth0", "fd00::2"])
    func aHostIsPassedToTheDaemon(host: String) async throws {
        let escaped = host.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        try await withRouter { client in
            let response = try await client.execute(uri: "/v1/urls?reference=film&host=\(escaped)", method: .get)
            #expect(response.status == .ok)
        }
        #expect(handler.calls == ["url(film, \(host))"])
    }

    @Test(arguments: [
        "/v1/urls", "/v1/urls?reference=", "/v1/urls?reference=%20",
        "/v1/urls?reference="
            + String(
                repeating: "x", count: 513),
    ])
    func aURLRequestWithoutAUsableReferenceIsABadRequest(uri: String) async throws {
        try await withRouter { client in
            let response = try await client.execute(uri: uri, method: .get)
            #expect(response.status == .badRequest)
            #expect(try errorMessage(response).hasPrefix("give a content id"))
        }
        #expect(handler.calls.isEmpty)
    }

    @Test(arguments: ["evil.com/x", "a@b", "", "-oProxyCommand", "a%20b%2Fc", String(repeating: "h", count: 254)])
    func aHostThatCannotGoInAURLIsABadRequest(host: String) async throws {
        let escaped = host.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        try await withRouter { client in
            let response = try await client.execute(uri: "/v1/urls?reference=film&host=\(escaped)", method: .get)
            #expect(response.status == .badRequest)
            #expect(try errorMessage(response).hasPrefix("host must be a host name or a numeric address"))
        }
        #expect(handler.calls.isEmpty)
    }

    @Test func aReferenceMatchingSeveralTitlesIsRefusedWithTheDaemonsList() async throws {
        handler.refusal = .badRequest("\"holiday\" matches 2 objects: Holiday 1 (aaaa), Holiday 2 (bbbb)")
        try await withRouter { client in
            let response = try await client.execute(uri: "/v1/urls?reference=holiday", method: .get)
            #expect(response.status == .badRequest)
            #expect(try errorMessage(response).contains("Holiday 1 (aaaa), Holiday 2 (bbbb)"))
        }
    }

    @Test func aReferenceMatchingNothingIsNotFound() async throws {
        handler.refusal = .notFound("nothing in the home matches \"zebra\"")
        try await withRouter { client in
            let response = try await client.execute(uri: "/v1/urls?reference=zebra", method: .get)
            #expect(response.status == .notFound)
        }
    }
}
