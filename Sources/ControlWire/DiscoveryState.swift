/// What Discovery's `MDNSDiscovery.state` reports: the name in use and whether mDNS works.
public struct DiscoveryState: Sendable, Hashable, Codable {
    /// The instance name we announce (or will announce): the friendly name, or an alternative such as
    /// `Living Room #2` after a collision.
    public var nameInUse: String
    /// Whether avahi-daemon is reachable over the system bus.
    public var daemonRunning: Bool
    /// Whether our service is currently registered (probed and announced) on the network.
    public var registered: Bool
    /// The host name avahi-daemon announces, such as `box1.local`, once known.
    public var hostName: String?

    public init(nameInUse: String, daemonRunning: Bool, registered: Bool, hostName: String? = nil) {
        self.nameInUse = nameInUse
        self.daemonRunning = daemonRunning
        self.registered = registered
        self.hostName = hostName
    }
}
