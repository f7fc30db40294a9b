import Logging
import NIOCore
import NIOPosix
import NetworkChanges

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// SSDP's sockets on a real box: one UDP socket on `0.0.0.0:1900` (`SO_REUSEADDR`, so another SSDP stack may share
/// the port) that joins 239.255.255.250 on each LAN interface, receives searches and sends the answers; and, per
/// interface, a socket bound to its address that multicasts the NOTIFYs out of it (`IP_MULTICAST_IF`, TTL 2).
/// Loopback is never used: SSDP stays on the LAN interfaces.
public actor NIOSSDPTransport: SSDPTransport {
    private static let groupAddress = "239.255.255.250"
    private let port: Int
    private let group: any EventLoopGroup
    private let logger: Logger
    private var listener: (any Channel)?
    private var continuation: AsyncStream<SSDPDatagram>.Continuation?
    /// The interfaces joined, each with its sending socket.
    private var senders: [SSDPInterface: (channel: any Channel, device: NIONetworkDevice)] = [:]
    /// The kernel's interface events; nil when they cannot be followed (then only the re-announcements look).
    private var monitor: RouteMonitor?

    public init(port: Int = 1900, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        self.port = port
        self.group = group
        self.logger = logger
    }

    public func open() async throws(SSDPError) -> AsyncStream<SSDPDatagram> {
        // A burst beyond this many unread datagrams is dropped, newest kept: the responder's limits do the rest.
        let (stream, continuation) = AsyncStream.makeStream(
            of: SSDPDatagram.self, bufferingPolicy: .bufferingNewest(64))
        do {
            listener = try await DatagramBootstrap(group: group)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                // Larger than the largest search read, so an oversized datagram arrives whole and is seen as such.
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 4096))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DatagramForwarder(continuation: continuation))
                    }
                }
                // By address: `bind(host:)` resolves, and glibc refuses "0.0.0.0" on a box with IPv6 addresses alone.
                .bind(to: SocketAddress(ipAddress: "0.0.0.0", port: port)).get()
        } catch {
            continuation.finish()
            throw .cannotListen(port: port, reason: "\(error)")
        }
        self.continuation = continuation
        do {
            monitor = try RouteMonitor()
        } catch {
            logger.warning("\(error); SSDP looks for new interfaces and addresses only every 12 to 15 minutes")
        }
        return stream
    }

    public func interfaceChanges() async -> AsyncStream<Void> {
        monitor?.changes ?? AsyncStream { $0.finish() }
    }

    public func refreshInterfaces() async -> [SSDPInterface] {
        guard let listener = listener as? any MulticastChannel else { return [] }
        let current = Self.lanInterfaces()
        let currentSet = Set(current.map(\.interface))
        for (interface, sender) in senders where !currentSet.contains(interface) {
            senders[interface] = nil
            try? await sender.channel.close()
            // The interface may be gone already, and its membership with it.
            try? await listener.leaveGroup(Self.group, device: sender.device).get()
            logger.info("SSDP left interface", metadata: ["interface": "\(interface)"])
        }
        for (interface, device) in current where senders[interface] == nil {
            do {
                do {
                    try await listener.joinGroup(Self.group, device: device).get()
                } catch let error as IOError where error.errnoCode == EADDRINUSE {
                    // Still a member from before the interface's address changed.
                }
                let sender = try await DatagramBootstrap(group: group)
                    .channelOption(.ipOption(.ip_multicast_if), value: Self.multicastInterfaceOption(interface.address))
                    .channelOption(.ipOption(.ip_multicast_ttl), value: 2)
                    .bind(to: SocketAddress(ipAddress: interface.address.description, port: 0)).get()
                senders[interface] = (sender, device)
            } catch {
                logger.warning(
                    "SSDP cannot use interface", metadata: ["interface": "\(interface)", "error": "\(error)"])
            }
        }
        return current.map(\.interface).filter { senders[$0] != nil }
    }

    public func send(_ datagram: [UInt8], to destination: SSDPEndpoint) async {
        guard let listener,
            let address = try? SocketAddress(ipAddress: destination.address.description, port: destination.port)
        else { return }
        listener.writeAndFlush(
            AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: datagram)), promise: nil)
    }

    public func multicast(_ datagram: [UInt8], on interface: SSDPInterface) async {
        guard let channel = senders[interface]?.channel else { return }
        do {
            try await channel.writeAndFlush(
                AddressedEnvelope(remoteAddress: Self.group, data: ByteBuffer(bytes: datagram)))
        } catch {
            logger.debug("SSDP cannot send", metadata: ["interface": "\(interface)", "error": "\(error)"])
        }
    }

    public func close() async {
        for sender in senders.values { try? await sender.channel.close() }
        senders.removeAll()
        monitor?.stop()
        monitor = nil
        try? await listener?.close()
        listener = nil
        continuation?.finish()
        continuation = nil
    }

    /// `IP_MULTICAST_IF` for `address`, as NIO passes it: an `Int`. Linux reads 8 bytes as a `struct ip_mreq`
    /// (group, then interface: the address in the upper half of a little-endian word) and 4 bytes as the
    /// `struct in_addr` itself. (The socket is also bound to the address, which Linux alone takes as the interface.)
    private static func multicastInterfaceOption(_ address: IPv4Address) -> SocketOptionValue {
        let networkOrder = UInt(address.value.bigEndian)
        return SocketOptionValue(
            truncatingIfNeeded: MemoryLayout<SocketOptionValue>.size >= 8 ? networkOrder << 32 : networkOrder)
    }

    private static var group: SocketAddress {
        // A constant, valid address: this cannot fail.
        try! SocketAddress(ipAddress: groupAddress, port: 1900)
    }

    /// The IPv4 addresses of the interfaces that are up, running (a carrier, an associated Wi-Fi), multicast-capable
    /// and not loopback, with the devices NIO joins groups on. An interface that regains its carrier is new again,
    /// and is announced on at once.
    static func lanInterfaces() -> [(interface: SSDPInterface, device: NIONetworkDevice)] {
        let upNames = upNonLoopbackNames()
        guard let devices = try? System.enumerateDevices() else { return [] }
        return devices.compactMap { device in
            guard upNames.contains(device.name), device.multicastSupported,
                case .v4(let address)? = device.address, case .v4(let netmask)? = device.netmask
            else { return nil }
            let interface = SSDPInterface(
                name: device.name, address: IPv4Address(UInt32(bigEndian: address.address.sin_addr.s_addr)),
                netmask: IPv4Address(UInt32(bigEndian: netmask.address.sin_addr.s_addr)))
            return (interface, device)
        }
    }

    /// NIO's devices carry no up/running/loopback flags; getifaddrs does.
    private static func upNonLoopbackNames() -> Set<String> {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var names = Set<String>()
        var entry = list
        while let current = entry {
            let flags = current.pointee.ifa_flags
            let operational = UInt32(IFF_UP) | UInt32(IFF_RUNNING)
            if flags & operational == operational, flags & UInt32(IFF_LOOPBACK) == 0,
                let name = current.pointee.ifa_name
            {
                names.insert(String(cString: name))
            }
            entry = current.pointee.ifa_next
        }
        return names
    }
}

/// Hands each datagram of the SSDP socket to the service; larger ones than a search may be are dropped unread.
private final class DatagramForwarder: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let continuation: AsyncStream<SSDPDatagram>.Continuation

    init(continuation: AsyncStream<SSDPDatagram>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.data.readableBytes <= SSDPSearch.maximumSize, case .v4(let source) = envelope.remoteAddress
        else { return }
        let address = IPv4Address(UInt32(bigEndian: source.address.sin_addr.s_addr))
        continuation.yield(
            SSDPDatagram(
                bytes: Array(envelope.data.readableBytesView),
                source: SSDPEndpoint(address: address, port: Int(UInt16(bigEndian: source.address.sin_port)))))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A datagram socket's errors (an ICMP unreachable after an answer) concern one exchange, not the socket.
    }
}
