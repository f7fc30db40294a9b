import Foundation
import Testing

@testable import MediaIndex

@Suite struct SearchQueryTests {
    @Test func wordsBecomeQuotedPrefixTerms() {
        #expect(LibraryQueries.ftsQuery("Bohemian  sun") == "\"Bohemian\"* \"sun\"*")
    }

    @Test func queryOperatorsAndPunctuationAreNotPassedThrough() {
        #expect(LibraryQueries.ftsQuery("a OR b* NEAR(\"c\")") == "\"a\"* \"OR\"* \"b\"* \"NEAR\"* \"c\"*")
        #expect(LibraryQueries.ftsQuery("*** \"\" --") == nil)
    }

    @Test func accentedAndNonLatinWordsSurvive() {
        #expect(LibraryQueries.ftsQuery("Été 東京") == "\"Été\"* \"東京\"*")
    }
}
