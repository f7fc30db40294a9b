import NIOCore

extension SocketAddress {
    /// The IP address as the client has it: an IPv4 client of a dual-stack socket without its `::ffff:` prefix, so
    /// limits and logs count one client as one address whichever socket it came through.
    public var clientIP: String? {
        ipAddress.map { address in
            address.hasPrefix("::ffff:") && address.contains(".") ? String(address.dropFirst(7)) : address
        }
    }
}
