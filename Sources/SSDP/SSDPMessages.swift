/// An IPv4 address as a host-order number, so the responder compares subnets without touching sockets.
public struct IPv4Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var value: UInt32

    public init(_ value: UInt32) {
        self.value = value
    }

    /// Reads a dotted quad (`192.168.1.20`); nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.utf8.count), part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let byte = UInt8(part)
            else { return nil }
            value = value << 8 | UInt32(byte)
        }
        self.value = value
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }
}

/// Where a datagram came from or goes to.
public struct SSDPEndpoint: Hashable, Sendable, CustomStringConvertible {
    public var address: IPv4Address
    public var port: Int

    public init(address: IPv4Address, port: Int) {
        self.address = address
        self.port = port
    }

    public var description: String { "\(address):\(port)" }
}

/// One of the box's LAN interfaces (IPv4, up, not loopback) that SSDP speaks on.
public struct SSDPInterface: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var address: IPv4Address
    public var netmask: IPv4Address

    public init(name: String, address: IPv4Address, netmask: IPv4Address) {
        self.name = name
        self.address = address
        self.netmask = netmask
    }

    /// Whether `address` is on this interface's subnet.
    public func holds(_ address: IPv4Address) -> Bool {
        address.value & netmask.value == self.address.value & netmask.value
    }

    public var description: String { "\(name) (\(address))" }
}

/// A datagram received on the SSDP socket.
public struct SSDPDatagram: Sendable {
    public var bytes: [UInt8]
    public var source: SSDPEndpoint

    public init(bytes: [UInt8], source: SSDPEndpoint) {
        self.bytes = bytes
        self.source = source
    }
}

/// An `M-SEARCH * HTTP/1.1` with `MAN: "ssdp:discover"`, read from an untrusted datagram with bounds on its size and
/// its number of lines. Anything else (a NOTIFY, a response, garbage) is not a search.
public struct SSDPSearch: Equatable, Sendable {
    /// `ST`: what the control point looks for.
    public var searchTarget: String
    /// `MX` in seconds when it is a non-negative integer; nil when missing or malformed.
    public var maximumWait: Int?

    /// Larger datagrams are ignored: a real M-SEARCH is a few hundred bytes.
    public static let maximumSize = 2048
    /// More header lines than this and the datagram is ignored.
    public static let maximumHeaderLines = 30

    public init(searchTarget: String, maximumWait: Int?) {
        self.searchTarget = searchTarget
        self.maximumWait = maximumWait
    }

    /// Parses a datagram; nil unless it is a well-formed, bounded SSDP search.
    public init?(datagram: some Collection<UInt8>) {
        guard datagram.count <= Self.maximumSize else { return nil }
        // Tabs and line ends are the only control characters a request may hold.
        guard datagram.allSatisfy({ $0 >= 0x20 && $0 != 0x7f || $0 == 0x09 || $0 == 0x0a || $0 == 0x0d }) else {
            return nil
        }
        // Lines end in CRLF or a bare LF; read as bytes, since Swift takes "\r\n" for one character.
        var lines = Array(datagram).split(separator: 0x0a, omittingEmptySubsequences: false).lazy.map { line in
            String(decoding: line.last == 0x0d ? line.dropLast() : line, as: UTF8.self)
        }.makeIterator()
        guard lines.next() == "M-SEARCH * HTTP/1.1" else { return nil }
        var headers: [String: Substring] = [:]
        var headerLines = 0
        while let line = lines.next(), !line.isEmpty {
            headerLines += 1
            guard headerLines <= Self.maximumHeaderLines, let colon = line.firstIndex(of: ":") else { return nil }
            let name = line[..<colon].trimmingSpaces.uppercased()
            guard !name.isEmpty, headers[name] == nil else { return nil }
            headers[name] = line[line.index(after: colon)...].trimmingSpaces
        }
        guard let man = headers["MAN"], man == "\"ssdp:discover\"" || man == "ssdp:discover",
            let target = headers["ST"], !target.isEmpty
        else { return nil }
        searchTarget = String(target)
        maximumWait = headers["MX"].flatMap { value in
            guard (1...9).contains(value.utf8.count), value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                return nil
            }
            return Int(value)
        }
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}

/// What the MediaServer announces and answers for: the root device, its UUID, its device type and its two services.
public enum SSDPTarget: CaseIterable, Hashable, Sendable {
    case rootDevice
    case deviceUUID
    case mediaServer
    case contentDirectory
    case connectionManager

    /// The type URN (without version) of a device or service target; nil for the root and the UUID.
    var typePrefix: String? {
        switch self {
        case .rootDevice, .deviceUUID: nil
        case .mediaServer: "urn:schemas-upnp-org:device:MediaServer:"
        case .contentDirectory: "urn:schemas-upnp-org:service:ContentDirectory:"
        case .connectionManager: "urn:schemas-upnp-org:service:ConnectionManager:"
        }
    }

    /// The version the box implements of each type.
    static let implementedVersion = 1

    /// `NT` in a NOTIFY, `ST` in an answer to this target.
    func notificationType(uuid: String) -> String {
        switch self {
        case .rootDevice: "upnp:rootdevice"
        case .deviceUUID: "uuid:" + uuid
        case .mediaServer, .contentDirectory, .connectionManager: typePrefix! + String(Self.implementedVersion)
        }
    }

    /// `USN`: the UUID alone for the UUID target, else `uuid:X::TYPE`.
    func uniqueServiceName(uuid: String, type: String) -> String {
        self == .deviceUUID ? "uuid:" + uuid : "uuid:\(uuid)::\(type)"
    }
}

/// An answer to a search, sent by unicast to the control point.
public struct SSDPResponse: Equatable, Sendable {
    public var searchTarget: String
    public var uniqueServiceName: String
    public var location: String

    public init(searchTarget: String, uniqueServiceName: String, location: String) {
        self.searchTarget = searchTarget
        self.uniqueServiceName = uniqueServiceName
        self.location = location
    }

    /// The datagram, with `DATE` (an IMF-fixdate) and the rest of the headers UDA requires.
    public func encoded(maxAge: Duration, server: String, date: String) -> [UInt8] {
        Array(
            """
            HTTP/1.1 200 OK\r
            CACHE-CONTROL: max-age=\(maxAge.components.seconds)\r
            DATE: \(date)\r
            EXT:\r
            LOCATION: \(location)\r
            SERVER: \(server)\r
            ST: \(searchTarget)\r
            USN: \(uniqueServiceName)\r
            \r

            """.utf8)
    }
}

/// A NOTIFY sent to 239.255.255.250:1900 out of one interface.
public struct SSDPNotification: Equatable, Sendable {
    public enum Kind: String, Sendable {
        case alive = "ssdp:alive"
        case byebye = "ssdp:byebye"
    }

    public var kind: Kind
    public var notificationType: String
    public var uniqueServiceName: String
    /// The description's URL on the interface it goes out of (alive only).
    public var location: String

    public init(kind: Kind, notificationType: String, uniqueServiceName: String, location: String) {
        self.kind = kind
        self.notificationType = notificationType
        self.uniqueServiceName = uniqueServiceName
        self.location = location
    }

    public func encoded(maxAge: Duration, server: String) -> [UInt8] {
        var text = "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
        if kind == .alive {
            text += "CACHE-CONTROL: max-age=\(maxAge.components.seconds)\r\nLOCATION: \(location)\r\n"
            text += "SERVER: \(server)\r\n"
        }
        text += "NT: \(notificationType)\r\nNTS: \(kind.rawValue)\r\nUSN: \(uniqueServiceName)\r\n\r\n"
        return Array(text.utf8)
    }
}
