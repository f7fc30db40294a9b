import ControlWire

/// A resolved instance of the browsed service type: where it runs and its TXT record.
public struct ResolvedService: Sendable, Hashable, Codable {
    /// Which instance this is (name, interface, IP version).
    public var instance: ServiceInstance
    /// The host name from the SRV record, such as `box2.local`.
    public var hostName: String
    /// The numeric address the host name resolved to. An IPv6 link-local address carries its zone as
    /// `%ifindex` (such as `fe80::1%3`), which `getaddrinfo` accepts, so it stays usable on multi-homed boxes.
    public var address: String
    /// The port from the SRV record.
    public var port: UInt16
    /// The TXT record as key/value pairs (see ``MediapeerTXT`` for mediapeer's keys). A key without `=` has the
    /// value `""`. Values that are not UTF-8 are decoded with replacement characters.
    public var txt: [String: String]

    public init(instance: ServiceInstance, hostName: String, address: String, port: UInt16, txt: [String: String]) {
        self.instance = instance
        self.hostName = hostName
        self.address = address
        self.port = port
        self.txt = txt
    }

    /// The peer id from the TXT record, if any.
    public var peerID: String? { txt[MediapeerTXT.peerID] }
}

/// What ``MDNSDiscovery`` reports on its ``MDNSDiscovery/events`` stream.
///
/// Our own registration never appears: every instance carrying our peer id in its TXT record is dropped. (Avahi's
/// `AVAHI_LOOKUP_RESULT_OUR_OWN` flag is not enough: during a name collision it also marks the other box's
/// instance of the contested name.)
public enum DiscoveryEvent: Sendable, Hashable, Codable {
    /// An instance was resolved, or its record changed (a new TXT record, a new address).
    case resolved(ResolvedService)
    /// An instance said goodbye (or its records expired).
    case removed(ServiceInstance)
    /// Avahi has listed every instance it knows for now (about a second after browsing starts or restarts).
    case browseSettled
    /// The connection to avahi-daemon is up and browsing runs.
    case daemonUp
    /// avahi-daemon is unreachable (not running, restarting, or the system bus is down). Nothing is announced or
    /// browsed until ``daemonUp``; the instances seen so far did not say goodbye, they are merely unobserved.
    case daemonDown
    /// Our service is registered under this instance name.
    case registered(name: String)
    /// Our instance name collided with another one on the network and this one is used instead.
    case nameChanged(from: String, to: String)
}
