import ControlWire
import Foundation
import Testing
import WireVocabulary

/// The URLs `mediapeerctl url` prints: `http://HOST:PORT/media/ID.ext`.
@Suite struct PlayerURLTests {
    private let id = ContentID(hex: String(repeating: "0123456789abcdef", count: 4))!

    @Test func anIPv4HostIsWrittenAsIs() {
        #expect(
            PlayerURL.media(host: "192.168.1.20", port: 8738, id: id, fileExtension: "mkv")
                == "http://192.168.1.20:8738/media/\(id.hex).mkv")
    }

    @Test func anIPv6HostGoesInBracketsWithItsZoneEncoded() {
        #expect(
            PlayerURL.media(host: "fe80::1%eth0", port: 8738, id: id, fileExtension: nil)
                == "http://[fe80::1%25eth0]:8738/media/\(id.hex)")
        #expect(
            PlayerURL.media(host: "fd00::2", port: 80, id: id, fileExtension: "mp4").hasPrefix("http://[fd00::2]:80/"))
    }

    @Test(arguments: [
        ("Films/Holiday.MKV", "video/x-matroska", "mkv"), ("song.mp3", "audio/mpeg", "mp3"),
        ("Films/no extension", "video/mp4", "mp4"), ("clip.verylongext", "video/x-matroska", "mkv"),
        ("odd.m k v", "video/webm", "webm"), (".hidden", "image/jpeg", "jpg"), ("dir.d/file", "video/mpeg", "mpg"),
    ])
    func theExtensionIsTheFileNamesElseTheMIMETypes(path: String, mime: String, expected: String) {
        #expect(PlayerURL.fileExtension(path: path, mimeType: mime) == expected)
    }

    @Test func anUnknownTypeWithoutAnExtensionGivesNoExtension() {
        #expect(PlayerURL.fileExtension(path: "README", mimeType: "application/octet-stream") == nil)
    }
}
