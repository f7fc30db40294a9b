/// What the kernel says about the box's interfaces and addresses (rtnetlink's `RTM_NEWADDR`, `RTM_DELADDR`,
/// `RTM_NEWLINK`, `RTM_DELLINK`), as far as this daemon cares.
public enum RouteEvent: Equatable, Sendable {
    /// An address was added to an interface, or an existing one refreshed (a DHCP renewal, an IPv6 lifetime).
    /// `address` is 4 bytes for IPv4, 16 for IPv6.
    case addressAdded(interfaceIndex: Int32, address: [UInt8])
    case addressRemoved(interfaceIndex: Int32, address: [UInt8])
    /// An interface's flags now (`IFF_UP`, `IFF_RUNNING`, …); sent for many changes that leave them as they were.
    case link(interfaceIndex: Int32, flags: UInt32)
    case linkRemoved(interfaceIndex: Int32)
    /// The kernel dropped events (`ENOBUFS`): anything may have changed.
    case eventsLost
}

/// Reads the messages of one rtnetlink datagram: a bounded walk over the bytes, in host byte order as netlink
/// sends them; a malformed or truncated message ends the walk, and what it does not know it skips.
public enum RouteMessages {
    static let newLink: UInt16 = 16
    static let deleteLink: UInt16 = 17
    static let newAddress: UInt16 = 20
    static let deleteAddress: UInt16 = 21
    /// `struct nlmsghdr`: length, type, flags, sequence, port id.
    static let headerSize = 16
    /// `struct ifinfomsg`: family, padding, type, index, flags, change.
    static let linkInfoSize = 16
    /// `struct ifaddrmsg`: family, prefix length, flags, scope, index.
    static let addressInfoSize = 8
    static let attributeAddress: UInt16 = 1
    static let attributeLocal: UInt16 = 2

    public static func parse(_ datagram: [UInt8]) -> [RouteEvent] {
        var events: [RouteEvent] = []
        var offset = 0
        while offset + headerSize <= datagram.count {
            let length = Int(read32(datagram, offset))
            guard length >= headerSize, length <= datagram.count - offset else { break }
            let type = read16(datagram, offset + 4)
            let body = Array(datagram[(offset + headerSize)..<(offset + length)])
            if let event = event(type: type, body: body) { events.append(event) }
            offset += align(length)
        }
        return events
    }

    private static func event(type: UInt16, body: [UInt8]) -> RouteEvent? {
        switch type {
        case newLink, deleteLink:
            guard body.count >= linkInfoSize else { return nil }
            let index = Int32(bitPattern: read32(body, 4))
            return type == newLink
                ? .link(interfaceIndex: index, flags: read32(body, 8)) : .linkRemoved(interfaceIndex: index)
        case newAddress, deleteAddress:
            guard body.count >= addressInfoSize else { return nil }
            let family = body[0]
            let size = family == 2 ? 4 : family == 10 ? 16 : 0
            let index = Int32(bitPattern: read32(body, 4))
            guard size > 0, let address = address(in: body, size: size) else { return nil }
            return type == newAddress
                ? .addressAdded(interfaceIndex: index, address: address)
                : .addressRemoved(interfaceIndex: index, address: address)
        default:
            return nil
        }
    }

    /// `IFA_LOCAL` (the interface's own address on a point-to-point link) or else `IFA_ADDRESS`.
    private static func address(in body: [UInt8], size: Int) -> [UInt8]? {
        var found: [UInt16: [UInt8]] = [:]
        var offset = addressInfoSize
        while offset + 4 <= body.count {
            let length = Int(read16(body, offset))
            guard length >= 4, length <= body.count - offset else { break }
            let type = read16(body, offset + 2)
            if (type == attributeAddress || type == attributeLocal) && length - 4 == size {
                found[type] = Array(body[(offset + 4)..<(offset + length)])
            }
            offset += align(length)
        }
        return found[attributeLocal] ?? found[attributeAddress]
    }

    private static func align(_ length: Int) -> Int { (length + 3) & ~3 }

    private static func read16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(hostOrder: [bytes[offset], bytes[offset + 1]])
    }

    private static func read32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(hostOrder: Array(bytes[offset..<(offset + 4)]))
    }
}

extension FixedWidthInteger {
    /// An integer from bytes in host byte order, as netlink writes them.
    fileprivate init(hostOrder bytes: [UInt8]) {
        var value = Self.zero
        for (position, byte) in bytes.enumerated() { value |= Self(byte) << (position * 8) }
        self = Self(littleEndian: value)
    }
}

/// Which kernel events may change what the box announces on its LAN (SSDP's interfaces: each up, running,
/// non-loopback interface with its IPv4 address), so that the announcer looks again at once, and only then.
///
/// The listeners need nothing: they are bound to every address (see `WildcardListening`), so an address that comes,
/// goes or changes is served as soon as the kernel has it. mDNS is avahi-daemon's, which re-announces by itself.
/// What is left is to notice: an IPv4 address added that was not there (the first DHCP lease, a renewal that
/// changed it, a second interface), an address removed, an interface coming up or down or gaining or losing its
/// carrier, and lost events. Not relevant: a renewal that keeps the address (`RTM_NEWADDR` again with new
/// lifetimes), IPv6 addresses (SSDP is IPv4), link messages whose up and running flags did not change.
public struct InterfaceChangeFilter: Sendable {
    static let up: UInt32 = 0x1
    static let running: UInt32 = 0x40

    private var addresses: [Int32: Set<[UInt8]>] = [:]
    private var operational: [Int32: Bool] = [:]
    /// The most interfaces remembered; beyond, every event counts as a change (a box has a handful).
    private let interfaceLimit: Int

    public init(interfaceLimit: Int = 256) {
        self.interfaceLimit = interfaceLimit
    }

    /// Whether `event` may change the LAN interfaces, remembering what it says.
    public mutating func isRelevant(_ event: RouteEvent) -> Bool {
        switch event {
        case .addressAdded(let index, let address):
            guard address.count == 4 else { return false }
            guard remembers(index) else { return true }
            return addresses[index, default: []].insert(address).inserted
        case .addressRemoved(let index, let address):
            guard address.count == 4 else { return false }
            addresses[index]?.remove(address)
            return true
        case .link(let index, let flags):
            let isOperational = flags & Self.up != 0 && flags & Self.running != 0
            guard remembers(index) else { return true }
            defer { operational[index] = isOperational }
            return operational[index] != isOperational
        case .linkRemoved(let index):
            addresses[index] = nil
            operational[index] = nil
            return true
        case .eventsLost:
            addresses.removeAll()
            operational.removeAll()
            return true
        }
    }

    private func remembers(_ index: Int32) -> Bool {
        addresses[index] != nil || operational[index] != nil
            || Set(addresses.keys).union(operational.keys).count < interfaceLimit
    }
}
