import Testing
import WireVocabulary

@testable import MediaServer

@Suite struct SearchCriteriaTests {
    @Test func anAsteriskMatchesEveryItem() throws {
        #expect(try SearchCriteria.parse("*") == MediaSearch(kinds: Set(MediaKind.titles), words: []))
    }

    @Test func aClassDerivedFromVideoItemFindsVideos() throws {
        let search = try SearchCriteria.parse("upnp:class derivedfrom \"object.item.videoItem\"")
        #expect(search == MediaSearch(kinds: [.video], words: []))
    }

    @Test func kodisVideoSearchFindsVideosWithTheTitleWords() throws {
        let search = try SearchCriteria.parse(
            "(upnp:class derivedfrom \"object.item.videoItem\" and dc:title contains \"Big Buck\")")
        #expect(search == MediaSearch(kinds: [.video], words: ["Big", "Buck"]))
    }

    @Test func orOfClassesUnitesTheirKinds() throws {
        let search = try SearchCriteria.parse(
            "upnp:class derivedfrom \"object.item.audioItem\" or upnp:class = \"object.item.imageItem.photo\"")
        #expect(search == MediaSearch(kinds: [.audio, .image], words: []))
    }

    @Test func orOfPropertiesSearchingTheSameWordsIsOneSearch() throws {
        let search = try SearchCriteria.parse(
            "upnp:class derivedfrom \"object.item.audioItem\" and (dc:title contains \"blue\" or upnp:artist contains \"blue\")"
        )
        #expect(search == MediaSearch(kinds: [.audio], words: ["blue"]))
    }

    @Test func containersOnlyMatchNothing() throws {
        #expect(try SearchCriteria.parse("upnp:class derivedfrom \"object.container\"") == nil)
    }

    @Test func escapedQuotesAreReadInsideAValue() throws {
        let search = try SearchCriteria.parse(#"dc:title contains "say \"hi\"""#)
        #expect(search?.words == ["say", "hi"])
    }

    @Test func existsIsTakenAsTrue() throws {
        let search = try SearchCriteria.parse("@refID exists false and dc:title contains \"x\"")
        #expect(search == MediaSearch(kinds: Set(MediaKind.titles), words: ["x"]))
    }

    @Test(arguments: [
        "dc:title contains", "dc:title contains \"x", "(dc:title contains \"x\"", "dc:title < \"x\"",
        "upnp:class != \"object.item\"", "dc:title contains \"a\" or dc:title contains \"b\"", "and", "x y z",
        String(repeating: "(", count: 40) + "dc:title contains \"x\"" + String(repeating: ")", count: 40),
        "dc:title contains \"" + String(repeating: "a", count: 2000) + "\"",
    ])
    func unsupportedOrInvalidCriteriaAreError708(_ criteria: String) {
        #expect(throws: UPnPError.invalidSearchCriteria) { try SearchCriteria.parse(criteria) }
    }
}
