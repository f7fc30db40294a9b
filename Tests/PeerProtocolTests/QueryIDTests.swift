import Foundation
import PeerWire
import Testing
import WireVocabulary

@testable import PeerProtocol

@Suite struct QueryIDTests {
    @Test(arguments: ["a", "Z", "0", "abc-DEF_123", String(repeating: "x", count: 64)])
    func acceptsOneToSixtyFourLettersDigitsDashesAndUnderscores(_ text: String) {
        #expect(PeerLimits.isValidQueryID(text))
    }

    @Test(arguments: [
        "", String(repeating: "x", count: 65), "a b", "a/b", "a.b", "a%2e", "é", "a\u{0}", "a&ttl=4", "\u{FF21}",
    ])
    func rejectsAnythingElse(_ text: String) {
        #expect(!PeerLimits.isValidQueryID(text))
    }

    @Test func freshQueryIDsAreValidAndDistinct() {
        let ids = (0..<50).map { _ in QueryID.make() }
        #expect(ids.allSatisfy(PeerLimits.isValidQueryID))
        #expect(Set(ids).count == ids.count)
    }
}
