#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A peer that mediapeerd contacts directly, without waiting to discover it
/// with DNS-SD: one of the `static_peers` of the configuration.
///
/// Its string form is `host:port`, with IPv6 addresses in brackets:
///
/// ```toml
/// static_peers = ["nas.local:8737", "192.168.1.20:8737", "[fd00::20]:8737", "[fe80::1%eth0]:8737"]
/// ```
///
/// Only the form is checked; host names are resolved when the peer is contacted.
public struct PeerAddress: Sendable, Hashable, LosslessStringConvertible {
    /// A host name, an IPv4 address, or an IPv6 address without brackets
    /// (possibly with a `%zone` suffix).
    public var host: String
    /// The peer's HTTP port, from 1 to 65535.
    public var port: Int

    /// Creates a peer address. The values are not checked.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[ipv6]:port`.
    ///
    /// Returns nil when the text is not a valid peer address; the
    /// configuration loader explains why in its error.
    public init?(_ description: String) {
        guard let address = try? Self.parse(description) else { return nil }
        self = address
    }

    /// The address as `host:port`, or `[host]:port` for IPv6 addresses.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    static let formsHint = #"write "host:port", such as "nas.local:8737", "192.168.1.20:8737" or "[fd00::20]:8737""#

    static func parse(_ text: String) throws(InvalidValue) -> PeerAddress {
        if text.isEmpty {
            throw InvalidValue("is empty; \(formsHint)")
        }
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw InvalidValue(#"\#(quoted(text)) has no closing "]"; \#(formsHint)"#)
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw InvalidValue(#"\#(quoted(text)) has no port; write \#(quoted(text[...close] + ":8737"))"#)
            }
            portText = rest.dropFirst()
            guard isIPv6Address(host) else {
                throw InvalidValue("\(quoted(text)): \(quoted(host)) is not an IPv6 address")
            }
        } else {
            let colons = text.filter { $0 == ":" }.count
            if colons == 0 {
                throw InvalidValue(#"\#(quoted(text)) has no port; write \#(quoted(text + ":8737"))"#)
            }
            if colons > 1 {
                throw InvalidValue(
                    #"\#(quoted(text)) looks like an IPv6 address; put the address in brackets, as in "[fd00::20]:8737""#
                )
            }
            let colon = text.firstIndex(of: ":")!
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if let problem = hostNameProblem(host) {
                throw InvalidValue("\(quoted(text)): \(problem)")
            }
        }
        guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw InvalidValue("\(quoted(text)): the port \(quoted(portText)) is not a number from 1 to 65535")
        }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw InvalidValue("\(quoted(text)): the port \(portText) is out of range; use a port from 1 to 65535")
        }
        return PeerAddress(host: String(host), port: port)
    }

    private static func isIPv6Address(_ text: Substring) -> Bool {
        // A zone (`%eth0`) is how link-local addresses, common on home
        // networks, name their interface; inet_pton does not accept it.
        let parts = text.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2 && parts[1].isEmpty { return false }
        var address = in6_addr()
        return inet_pton(AF_INET6, String(parts[0]), &address) == 1
    }

    private static func hostNameProblem(_ host: Substring) -> String? {
        if host.isEmpty {
            return "the host is missing; \(formsHint)"
        }
        if host.utf8.count > 253 {
            return "the host name is longer than 253 bytes"
        }
        // A trailing dot marks a fully qualified name and is allowed.
        let labels = (host.hasSuffix(".") ? host.dropLast() : host).split(
            separator: ".", omittingEmptySubsequences: false)
        if labels.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) {
            var address = in_addr()
            return inet_pton(AF_INET, String(host), &address) == 1
                ? nil
                : "\(quoted(host)) is not a valid IPv4 address"
        }
        for label in labels {
            let allowed = label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
            if label.isEmpty || label.utf8.count > 63 || !allowed || label.hasPrefix("-") || label.hasSuffix("-") {
                return
                    #"\#(quoted(host)) is not a valid host name; use letters, digits and "-" in dot-separated parts of at most 63 characters"#
            }
        }
        return nil
    }
}
