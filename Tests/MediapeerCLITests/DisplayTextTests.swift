import Testing
import WireVocabulary

@testable import MediapeerCLI

/// Control characters other boxes put in names and titles, as mediapeerctl and the log show them.
@Suite struct DisplayTextTests {
    @Test(arguments: [
        ("\u{1B}]0;owned\u{07}", "\\u{1B}]0;owned\\u{7}"), ("a\rb", "a\\u{D}b"), ("\u{1B}[2J", "\\u{1B}[2J"),
        ("del\u{7F}", "del\\u{7F}"), ("c1\u{9B}31m", "c1\\u{9B}31m"), ("line\u{2028}sep", "line\\u{2028}sep"),
        ("\u{202E}txt.exe", "\\u{202E}txt.exe"), ("\u{2066}iso\u{2069}", "\\u{2066}iso\\u{2069}"),
        ("tab\there", "tab\\u{9}here"),
    ])
    func controlCharactersAreEscaped(_ raw: String, _ shown: String) {
        #expect(DisplayText.escaped(raw) == shown)
    }

    @Test(arguments: ["Living Room", "Müller – Café", "日本語", "e\u{301}", "🎬 film", "\u{200D}", ""])
    func textWithoutControlCharactersIsUnchanged(_ text: String) {
        #expect(DisplayText.escaped(text) == text)
        #expect(DisplayText.replacingControls(text) == text)
    }

    @Test func replacingControlsPutsUFFFDInTheirPlace() {
        #expect(DisplayText.replacingControls("a\u{1B}b\u{202E}") == "a\u{FFFD}b\u{FFFD}")
    }

    @Test func aPrefixByUTF8BytesNeverSplitsAScalar() {
        #expect(DisplayText.prefix("aé", utf8Bytes: 2) == "a")
        #expect(DisplayText.prefix("aé", utf8Bytes: 3) == "aé")
        #expect(DisplayText.prefix("🎬🎬", utf8Bytes: 7) == "🎬")
        #expect(DisplayText.prefix("abc", utf8Bytes: 0) == "")
    }

    @Test func aPrefixCountsCombiningMarksAsTheBytesTheyAre() {
        // One Character: a letter and 300k combining marks.
        let heavy = "a" + String(repeating: "\u{301}", count: 300_000)
        let cut = DisplayText.prefix(heavy, utf8Bytes: 1024)
        #expect(cut.utf8.count == 1023 && cut.count == 1)
    }

    @Test func aTableShowsCellsEscapedAndAlignedOnWhatIsShown() {
        var table = Table([("NAME", .left), ("GEN", .right)])
        table.add(["\u{1B}[2JEvil", "7"])
        table.add(["Kitchen", "12"])
        let lines = table.render().split(separator: "\n").map(String.init)
        #expect(lines == ["NAME           GEN", "\\u{1B}[2JEvil    7", "Kitchen         12"])
        #expect(!table.render().unicodeScalars.contains { DisplayText.isControl($0) && $0 != "\n" })
    }
}
