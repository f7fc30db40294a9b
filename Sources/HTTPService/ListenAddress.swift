import HummingbirdCore
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Where an ``HTTPService`` listens.
///
/// ```swift
/// .everyAddress(port: 8737)            // [::]:8737 dual-stack, or 0.0.0.0:8737 on a box without IPv6
/// .hostname("127.0.0.1", port: 0)      // one address (resolved as a host name), an ephemeral port
/// .unixDomainSocket(path: "/run/mediapeer/control.sock")
/// ```
public struct ListenAddress: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case everyAddress(port: Int)
        case bindAddress(BindAddress)
    }

    let kind: Kind

    /// Every address of the box, IPv4 and IPv6, whatever its interfaces have now or get later: see
    /// ``WildcardListening``.
    public static func everyAddress(port: Int) -> Self { Self(kind: .everyAddress(port: port)) }

    /// One host, resolved by `getaddrinfo` (which refuses `::` on a box whose interfaces have IPv4 alone: use
    /// ``everyAddress(port:)`` for every address).
    public static func hostname(_ host: String, port: Int) -> Self {
        Self(kind: .bindAddress(.hostname(host, port: port)))
    }

    public static func unixDomainSocket(path: String) -> Self {
        Self(kind: .bindAddress(.unixDomainSocket(path: path)))
    }
}

/// The wildcard a server listening on every address binds, by address and never through host-name resolution:
/// `getaddrinfo("::")` fails with "Address family for hostname not supported" as soon as the box's interfaces have
/// IPv4 addresses and no IPv6 one (IPv6 disabled on them, or not configured yet at boot), because glibc then narrows
/// every lookup to IPv4.
///
/// Dual-stack `[::]` (`IPV6_V6ONLY` off, whatever `net.ipv6.bindv6only` says) comes first: IPv4 clients arrive on it
/// as IPv4-mapped addresses, it serves an IPv6-only box, and it keeps serving whatever addresses the interfaces
/// gain or lose, IPv6 switched on or off by sysctl included. Only a kernel that offers no IPv6 socket at all (booted
/// with `ipv6.disable=1`, or built without IPv6) gets `0.0.0.0`.
public enum WildcardListening: Sendable, Equatable, CustomStringConvertible {
    case dualStack
    case ipv4Only

    /// The wildcards to try, in order.
    public static let preference: [WildcardListening] = [.dualStack, .ipv4Only]

    public func socketAddress(port: Int) -> SocketAddress {
        // Constant, valid numeric addresses: these cannot fail.
        switch self {
        case .dualStack: try! SocketAddress(ipAddress: "::", port: port)
        case .ipv4Only: try! SocketAddress(ipAddress: "0.0.0.0", port: port)
        }
    }

    /// Whether a failure to open or bind this wildcard means the kernel has no such address family, so the next one
    /// is worth trying; anything else (the port in use, no permission) is for the user to fix and is reported.
    public static func isMissingAddressFamily(_ error: any Error) -> Bool {
        guard let error = error as? IOError else { return false }
        return [EAFNOSUPPORT, EPFNOSUPPORT, EPROTONOSUPPORT, EADDRNOTAVAIL].contains(error.errnoCode)
    }

    public var description: String {
        switch self {
        case .dualStack: "IPv4 and IPv6 (dual-stack [::])"
        case .ipv4Only: "IPv4 only (0.0.0.0)"
        }
    }
}
