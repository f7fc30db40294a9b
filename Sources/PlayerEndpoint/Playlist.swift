import WireVocabulary

/// The extended M3U playlist of `GET /playlist.m3u8`: `#EXTM3U`, then per title `#EXTINF:SECONDS,TITLE` and its
/// absolute URL. Titles come from other boxes' catalogs, so every control character and line break is replaced by
/// a space: none can end a line early and smuggle in an entry or a directive.
enum Playlist {
    static let contentType = "audio/x-mpegurl; charset=utf-8"

    static func render(_ titles: [PlayableTitle], baseURL: String) -> String {
        var text = "#EXTM3U\n"
        for title in titles {
            // -1 is M3U's "unknown length".
            let seconds = title.durationMilliseconds.map { max(0, ($0 + 500) / 1000) } ?? -1
            text += "#EXTINF:\(seconds),\(displayed(title.title))\n"
            text += mediaURL(of: title, baseURL: baseURL) + "\n"
        }
        return text
    }

    /// `http://HOST:PORT/media/ID.ext`, the extension only when it is a plain one (it comes from a file name).
    static func mediaURL(of title: PlayableTitle, baseURL: String) -> String {
        var url = "\(baseURL)/media/\(title.id.hex)"
        if let ext = title.fileExtension, isPlainExtension(ext) { url += "." + ext.lowercased() }
        return url
    }

    static func isPlainExtension(_ text: String) -> Bool {
        (1...10).contains(text.utf8.count) && text.utf8.allSatisfy { $0.isASCIILetterOrDigit }
    }

    /// One line of text: control characters and line breaks as spaces, and never empty.
    static func displayed(_ title: String) -> String {
        let scalars = title.unicodeScalars.map { DisplayText.isControl($0) ? " " : $0 }
        let line = String(String.UnicodeScalarView(scalars))
        return line.allSatisfy(\.isWhitespace) ? "untitled" : line
    }
}

/// The authority (`host:port`) URLs given back to a client are built on.
enum RequestAuthority {
    /// The request's `Host` header when it is a valid `host[:port]` (a name, an IPv4 address or a bracketed IPv6
    /// address; the port added when missing), else nil: the header is the client's to write, so anything else is
    /// not repeated into a playlist.
    static func fromHostHeader(_ header: String?, defaultPort: Int) -> String? {
        guard let header, !header.isEmpty, header.utf8.count <= 261 else { return nil }
        var host = Substring(header)
        var port: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let inside = host[host.index(after: host.startIndex)..<close]
            guard !inside.isEmpty, inside.contains(":"),
                inside.utf8.allSatisfy({ $0.isASCIIHexDigit || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") })
            else { return nil }
            let rest = host[host.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return nil }
                port = rest.dropFirst()
            }
            host = host[...close]
        } else {
            if let colon = host.firstIndex(of: ":") {
                port = host[host.index(after: colon)...]
                host = host[..<colon]
            }
            guard isHostName(host) else { return nil }
        }
        if let port {
            guard !port.isEmpty, port.count <= 5, port.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                let number = Int(port), (1...65535).contains(number)
            else { return nil }
            return "\(host):\(number)"
        }
        return "\(host):\(defaultPort)"
    }

    /// A DNS name or IPv4 address: labels of letters, digits and hyphens, separated by dots.
    private static func isHostName(_ text: Substring) -> Bool {
        guard (1...253).contains(text.utf8.count) else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.utf8.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.utf8.allSatisfy { $0.isASCIILetterOrDigit || $0 == UInt8(ascii: "-") }
        }
    }

    /// An IP address as a URL host: IPv6 in brackets, an IPv4-mapped IPv6 address as the IPv4 address.
    static func urlHost(ofIP address: String) -> String {
        if address.hasPrefix("::ffff:"), address.contains(".") { return String(address.dropFirst(7)) }
        return address.contains(":") ? "[\(address)]" : address
    }
}

extension UInt8 {
    fileprivate var isASCIILetterOrDigit: Bool {
        (48...57).contains(self) || (65...90).contains(self) || (97...122).contains(self)
    }

    fileprivate var isASCIIHexDigit: Bool {
        (48...57).contains(self) || (65...70).contains(self) || (97...102).contains(self)
    }
}
