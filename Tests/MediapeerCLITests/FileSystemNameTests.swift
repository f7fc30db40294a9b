import Testing
import WireVocabulary

/// Names as the kernel holds them (bytes), carried in strings without loss, and shown readably.
@Suite struct FileSystemNameTests {
    /// A small deterministic generator, so a failing case can be replayed from its seed.
    private struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test(arguments: 0..<8)
    func arbitraryBytesRoundTrip(seed: UInt64) {
        var random = SplitMix64(state: seed)
        for _ in 0..<500 {
            let length = Int.random(in: 0...40, using: &random)
            // Biased towards bytes >= 0x80 so that broken, overlong and surrogate sequences are common.
            let bytes = (0..<length).map { _ in
                Bool.random(using: &random)
                    ? UInt8.random(in: 0x80...0xFF, using: &random) : UInt8.random(in: 1...0xFF, using: &random)
            }
            #expect(FileSystemName.bytes(of: FileSystemName.string(fromBytes: bytes)) == bytes)
        }
    }

    @Test(
        arguments: [
            [0xE9], [0xC3], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0xEF, 0xBF, 0xBF],
            [0xEE, 0xBF, 0xA9], [0xEE, 0xBE, 0x80, 0xE9], [0xFF, 0xFE], [0xE2, 0x82],
        ] as [[UInt8]])
    func edgeSequencesRoundTrip(_ bytes: [UInt8]) {
        #expect(FileSystemName.bytes(of: FileSystemName.string(fromBytes: bytes)) == bytes)
    }

    @Test(arguments: ["café.jpg", "Müller/für Elise.mp4", "日本語/🎬 film.mkv", "e\u{301}", "a\nb\u{1B}[2J.mp3", ""])
    func validUTF8IsItsOwnEncoding(_ name: String) {
        #expect(FileSystemName.string(fromBytes: Array(name.utf8)) == name)
        #expect(FileSystemName.bytes(of: name) == Array(name.utf8))
    }

    @Test func latin1BytesBecomeEscapeScalars() {
        let encoded = FileSystemName.string(fromBytes: Array("caf".utf8) + [0xE9] + Array(".jpg".utf8))
        #expect(encoded == "caf\u{EFE9}.jpg")
    }

    @Test func aValidNameHoldingAnEscapeScalarDoesNotCollideWithTheByteItStandsFor() {
        let literal = FileSystemName.string(fromBytes: Array("caf\u{EFE9}".utf8))
        let latin1 = FileSystemName.string(fromBytes: Array("caf".utf8) + [0xE9])
        #expect(literal != latin1)
        #expect(FileSystemName.bytes(of: literal) == Array("caf\u{EFE9}".utf8))
    }

    @Test func theFileSystemPathIsTheRawBytes() {
        let bytes: [UInt8] = Array("/media/f".utf8) + [0xFC] + Array("r Elise.mp4".utf8)
        let passed = FileSystemName.withFileSystemPath(FileSystemName.string(fromBytes: bytes)) { pointer in
            var result: [UInt8] = []
            var index = 0
            while pointer[index] != 0 {
                result.append(UInt8(bitPattern: pointer[index]))
                index += 1
            }
            return result
        }
        #expect(passed == bytes)
    }

    @Test func aLatin1NameIsShownAsWindows1252() {
        let name = FileSystemName.string(fromBytes: Array("f".utf8) + [0xFC] + Array("r Elise ".utf8) + [0x80, 0x93])
        #expect(FileSystemName.displayText(name) == "für Elise €“")
    }

    @Test func eachComponentIsShownByItsOwnEncoding() {
        let path = FileSystemName.string(fromBytes: Array("Müller/caf".utf8) + [0xE9] + Array(".jpg".utf8))
        #expect(FileSystemName.displayText(path) == "Müller/café.jpg")
    }

    @Test func controlCharactersAreReplacedForDisplay() {
        #expect(FileSystemName.displayText("two\nlines\u{1B}[2J.mp3") == "two\u{FFFD}lines\u{FFFD}[2J.mp3")
        let latin1 = FileSystemName.string(fromBytes: [0xE9, 0x0A, 0x81])
        #expect(FileSystemName.displayText(latin1) == "é\u{FFFD}\u{FFFD}")
    }

    @Test func theDisplayTitleOfAPathIsItsShownFileName() {
        let path = FileSystemName.string(fromBytes: Array("Photos/caf".utf8) + [0xE9] + Array("\n.jpg".utf8))
        #expect(DisplayTitle.of(title: nil, path: path) == "café\u{FFFD}.jpg")
        #expect(DisplayTitle.of(title: "Tag\u{1B}title", path: path) == "Tag\u{FFFD}title")
    }
}
