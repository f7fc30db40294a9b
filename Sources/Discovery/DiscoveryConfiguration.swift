import PeerWire

/// mediapeer's TXT record keys.
///
/// Every mediapeer instance announces `_mediapeer._tcp` with these keys:
///
/// | key    | value                                                                                   |
/// |--------|-----------------------------------------------------------------------------------------|
/// | `id`   | the peer id: 32 lowercase hex digits, stable for the box; peers are keyed by it          |
/// | `v`    | the peer protocol version, `2` (mutual TLS); other versions are ignored                  |
/// | `port` | the peer HTTP port (the SRV record carries it too)                                      |
/// | `gen`  | the catalog generation, a decimal `UInt64`; it grows whenever the box's catalog changes  |
/// | `name` | the friendly name, in full: the instance name may be an alternative (`Living Room #2`)  |
///
/// `id`, `v`, `port` and `name` are set by ``MDNSDiscovery`` from its configuration; `gen` and any other key come
/// from ``DiscoveryConfiguration/txt`` and ``MDNSDiscovery/updateTXT(_:)``. Peers ignore keys they do not know.
public enum MediapeerTXT {
    /// `id`: the peer id, 32 lowercase hex digits.
    public static let peerID = "id"
    /// `v`: the peer protocol version.
    public static let protocolVersion = "v"
    /// The `v` this build announces and accepts (``PeerProtocolVersion/current``).
    public static let currentProtocolVersion = String(PeerProtocolVersion.current)
    /// `port`: the peer HTTP port.
    public static let port = "port"
    /// `gen`: the catalog generation.
    public static let generation = "gen"
    /// `name`: the friendly name.
    public static let name = "name"
    /// `h`: the household the box is in (16 hex digits); absent in LAN mode. A box in a household ignores the
    /// announcements of boxes of another household, or of none, without connecting to them.
    public static let household = "h"

    /// The keys ``MDNSDiscovery`` writes itself; ``MDNSDiscovery/updateTXT(_:)`` refuses them.
    public static let reserved: Set<String> = [peerID, protocolVersion, port, name]

    /// Whether `text` is a well-formed peer id (32 lowercase hex digits).
    public static func isValidPeerID(_ text: String) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

/// What ``MDNSDiscovery`` announces and browses.
public struct DiscoveryConfiguration: Sendable {
    /// The DNS-SD service type, announced and browsed: `_mediapeer._tcp` unless tests isolate themselves.
    public var serviceType: String
    /// The friendly name, used as the instance name (cut to DNS-SD's 63 bytes) and as TXT `name` (in full).
    public var friendlyName: String
    /// Our peer id (32 lowercase hex digits), announced as TXT `id`; instances carrying it are ignored.
    public var peerID: String
    /// The peer HTTP port, announced in the SRV record and as TXT `port`.
    public var port: UInt16
    /// Further TXT keys announced from the start, typically `["gen": "…"]`.
    public var txt: [String: String]
    /// The peer protocol version, announced as TXT `v`.
    public var protocolVersion: String
    /// The least time between two TXT updates on the wire. Updates requested sooner are held back, and only the
    /// latest is sent when the interval is over, so a busy catalog does not flood the LAN.
    public var txtUpdateInterval: Duration
    /// Whether to announce our service (false: browse only).
    public var announce: Bool
    /// Whether to browse for other instances (false: announce only).
    public var browse: Bool

    public init(
        friendlyName: String, peerID: String, port: UInt16, txt: [String: String] = [:],
        serviceType: String = "_mediapeer._tcp", protocolVersion: String = MediapeerTXT.currentProtocolVersion,
        txtUpdateInterval: Duration = .seconds(5), announce: Bool = true, browse: Bool = true
    ) {
        self.serviceType = serviceType
        self.friendlyName = friendlyName
        self.peerID = peerID
        self.port = port
        self.txt = txt
        self.protocolVersion = protocolVersion
        self.txtUpdateInterval = txtUpdateInterval
        self.announce = announce
        self.browse = browse
    }

    /// DNS labels, instance names included, hold at most 63 bytes.
    static let maximumInstanceNameBytes = 63

    /// The instance name: the friendly name cut on a character boundary to fit a DNS label.
    var instanceName: String {
        var name = ""
        var bytes = 0
        for character in friendlyName {
            let size = character.utf8.count
            if bytes + size > Self.maximumInstanceNameBytes { break }
            name.append(character)
            bytes += size
        }
        return name
    }

    /// The full TXT record for the given extra keys.
    func txtRecord(extra: [String: String]) -> [String: String] {
        var record = extra
        record[MediapeerTXT.peerID] = peerID
        record[MediapeerTXT.protocolVersion] = protocolVersion
        record[MediapeerTXT.port] = String(port)
        record[MediapeerTXT.name] = friendlyName
        return record
    }

    func validate() throws(DiscoveryError) {
        guard MediapeerTXT.isValidPeerID(peerID) else {
            throw .invalidConfiguration("peer id \"\(peerID)\" is not 32 lowercase hex digits")
        }
        guard !friendlyName.isEmpty else {
            throw .invalidConfiguration("the friendly name is empty; it is the name other peers show for this box")
        }
        guard port != 0 else { throw .invalidConfiguration("port 0 cannot be announced; give the HTTP port") }
        let parts = serviceType.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].hasPrefix("_"), parts[0].count >= 2, parts[0].utf8.count <= 16,
            parts[1] == "_tcp" || parts[1] == "_udp"
        else {
            throw .invalidConfiguration(
                "service type \"\(serviceType)\" is not of the form _name._tcp (name of 1 to 15 characters)")
        }
        guard txtUpdateInterval >= .zero else { throw .invalidConfiguration("txtUpdateInterval is negative") }
        try Self.validateTXT(txtRecord(extra: txt))
        for key in txt.keys where MediapeerTXT.reserved.contains(key) {
            throw .invalidTXT(
                key: key,
                reason: "is set from the configuration (peer id, version, port, friendly name); leave it out of txt")
        }
    }

    static func validateTXT(_ record: [String: String]) throws(DiscoveryError) {
        var total = 0
        for (key, value) in record {
            guard !key.isEmpty else { throw .invalidTXT(key: key, reason: "keys must not be empty") }
            guard key.utf8.allSatisfy({ (0x20...0x7E).contains($0) && $0 != UInt8(ascii: "=") }) else {
                throw .invalidTXT(key: key, reason: "keys are printable ASCII without \"=\" (RFC 6763 section 6.4)")
            }
            let size = key.utf8.count + 1 + value.utf8.count
            guard size <= 255 else {
                throw .invalidTXT(key: key, reason: "key=value is \(size) bytes; one TXT string holds at most 255")
            }
            total += size + 1
        }
        // Beyond this the record no longer fits one Ethernet frame and announcements get fragmented or dropped.
        guard total <= 1300 else {
            throw .invalidTXT(key: "*", reason: "the TXT record is \(total) bytes; keep it under 1300 (one packet)")
        }
    }
}

/// Why ``MDNSDiscovery`` or ``PeerTable`` refused to do something.
public enum DiscoveryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A configuration value is unusable; the text says which and why.
    case invalidConfiguration(String)
    /// A TXT key or value cannot be announced.
    case invalidTXT(key: String, reason: String)
    /// Avahi's event loop could not be created or started (out of memory or threads).
    case eventLoopUnavailable(String)
    /// ``MDNSDiscovery/start()`` was called twice, or after ``MDNSDiscovery/stop()``; create a new instance.
    case alreadyStarted

    public var description: String {
        switch self {
        case .invalidConfiguration(let text): "discovery configuration: \(text)"
        case .invalidTXT(let key, let reason): "TXT key \"\(key)\": \(reason)"
        case .eventLoopUnavailable(let text): "Avahi event loop: \(text)"
        case .alreadyStarted: "discovery was already started; an MDNSDiscovery runs once, create a new one to restart"
        }
    }
}
