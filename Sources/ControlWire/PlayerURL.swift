import Foundation
import WireVocabulary

/// The URL under which this box's player endpoint serves a title: `http://HOST:PORT/media/ID.ext`.
///
/// ```swift
/// PlayerURL.media(host: "192.168.1.20", port: 8738, id: id, fileExtension: "mkv")
/// // "http://192.168.1.20:8738/media/3f2a…c1.mkv"
/// ```
///
/// The extension is only a hint for players that pick a demuxer by name; the endpoint serves the title by its id.
public enum PlayerURL {
    /// The longest extension kept from a file name; a longer "extension" is more likely part of a name.
    static let maximumExtensionLength = 5

    public static func media(host: String, port: Int, id: ContentID, fileExtension: String?) -> String {
        "http://\(authority(host)):\(port)/media/\(id.hex)" + (fileExtension.map { "." + $0 } ?? "")
    }

    /// An IPv6 address goes in brackets, its zone (`fe80::1%eth0`) percent-encoded as RFC 6874 asks.
    static func authority(_ host: String) -> String {
        guard host.contains(":") else { return host }
        return "[" + host.replacingOccurrences(of: "%25", with: "%").replacingOccurrences(of: "%", with: "%25") + "]"
    }

    /// The extension a title's URL ends with: its file name's (`Film.MKV` → `mkv`) when it is short and plain, else
    /// the usual one of its MIME type, else none.
    public static func fileExtension(path: String, mimeType: String?) -> String? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            let candidate = name[name.index(after: dot)...].lowercased()
            if (1...maximumExtensionLength).contains(candidate.count),
                candidate.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
            {
                return candidate
            }
        }
        return mimeType.flatMap { extensionsByMIMEType[$0.lowercased()] }
    }

    private static let extensionsByMIMEType: [String: String] = [
        "video/mp4": "mp4", "video/x-matroska": "mkv", "video/webm": "webm", "video/quicktime": "mov",
        "video/x-msvideo": "avi", "video/mp2t": "ts", "video/mpeg": "mpg", "audio/mpeg": "mp3", "audio/mp4": "m4a",
        "audio/flac": "flac", "audio/ogg": "ogg", "audio/x-wav": "wav", "audio/wav": "wav", "image/jpeg": "jpg",
        "image/png": "png", "image/gif": "gif", "image/webp": "webp", "image/heic": "heic",
        "text/srt": "srt", "text/vtt": "vtt", "text/x-ssa": "ass",
    ]
}
