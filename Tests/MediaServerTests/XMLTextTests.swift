import Testing

@testable import MediaServer

@Suite struct XMLTextTests {
    @Test func textWithNothingSpecialIsUnchanged() {
        #expect(XMLText.escape("Track 05000 – Café, 東京") == "Track 05000 – Café, 東京")
        #expect(XMLText.escape("") == "")
    }

    @Test func theFiveSpecialCharactersAreEscaped() {
        #expect(
            XMLText.escape(#"Tom & Jerry <"Best" of 'em>"#) == "Tom &amp; Jerry &lt;&quot;Best&quot; of &apos;em&gt;")
    }

    @Test func anEscapedDocumentIsEscapedAgainWhenItIsAValue() {
        #expect(XMLText.escape("<dc:title>A &amp; B</dc:title>") == "&lt;dc:title&gt;A &amp;amp; B&lt;/dc:title&gt;")
    }

    @Test func controlCharactersXMLCannotCarryAreDropped() {
        #expect(XMLText.escape("a\u{0}b\u{1B}[31mc\u{7}d") == "ab[31mcd")
        #expect(XMLText.escape("\u{1}\u{2}\u{FFFE}") == "")
    }

    @Test func tabsAndLineBreaksAreKept() {
        #expect(XMLText.escape("a\tb\nc\rd") == "a\tb\nc\rd")
    }

    @Test func theNoncharactersFFFEAndFFFFAreDroppedAndTheirNeighboursKept() {
        #expect(XMLText.escape("a\u{FFFE}b\u{FFFF}c\u{FFFD}d\u{FFEF}e") == "abc\u{FFFD}d\u{FFEF}e")
    }

    @Test func multibyteCharactersBesideEscapesSurviveWhole() {
        #expect(XMLText.escape("é&ü<😀>") == "é&amp;ü&lt;😀&gt;")
    }
}
