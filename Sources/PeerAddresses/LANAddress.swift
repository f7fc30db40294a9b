#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The address other devices of the home reach this box at, for the URLs it hands to players and TVs.
///
/// ```swift
/// LANAddress.host(among: LANAddress.interfaceAddresses())  // "192.168.1.20"
/// ```
///
/// The first IPv4 address of an interface that is up and not loopback wins (every home network has IPv4, and
/// players take it without brackets or zones); else a routable IPv6 address, else a link-local one with its zone;
/// else the host name, for the local resolver (mDNS) to find.
public enum LANAddress {
    /// One address of one network interface, as `getifaddrs` lists it.
    public struct InterfaceAddress: Sendable, Equatable {
        public var interface: String
        /// Numeric: `192.168.1.20`, `fd00::2`, `fe80::2%eth0` (link-local with its zone).
        public var address: String
        public var isUp: Bool
        public var isLoopback: Bool

        public init(interface: String, address: String, isUp: Bool, isLoopback: Bool) {
            self.interface = interface
            self.address = address
            self.isUp = isUp
            self.isLoopback = isLoopback
        }

        var isIPv6: Bool { address.contains(":") }
        var isLinkLocal: Bool { address.lowercased().hasPrefix("fe80:") }
    }

    /// The host of this box's URLs: see the type's description. `hostName` stands in when no interface is usable.
    public static func host(among addresses: [InterfaceAddress], hostName: String) -> String {
        let usable = addresses.filter { $0.isUp && !$0.isLoopback }
        return usable.first { !$0.isIPv6 }?.address
            ?? usable.first { $0.isIPv6 && !$0.isLinkLocal }?.address
            ?? usable.first(where: \.isIPv6)?.address
            ?? hostName
    }

    /// This box's host for URLs, from its interfaces now.
    public static func current() -> String {
        host(among: interfaceAddresses(), hostName: hostName())
    }

    /// The IPv4 and IPv6 addresses of this box's interfaces, in `getifaddrs` order (the kernel's interface order).
    public static func interfaceAddresses() -> [InterfaceAddress] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var result: [InterfaceAddress] = []
        for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
            guard let socketAddress = entry.pointee.ifa_addr else { continue }
            let family = Int32(socketAddress.pointee.sa_family)
            guard family == AF_INET || family == AF_INET6 else { continue }
            let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            guard
                getnameinfo(socketAddress, length, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0
            else { continue }
            let flags = Int32(bitPattern: entry.pointee.ifa_flags)
            result.append(
                InterfaceAddress(
                    interface: String(cString: entry.pointee.ifa_name),
                    address: String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
                    isUp: flags & Int32(IFF_UP) != 0 && flags & Int32(IFF_RUNNING) != 0,
                    isLoopback: flags & Int32(IFF_LOOPBACK) != 0))
        }
        return result
    }

    private static func hostName() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "localhost" }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
