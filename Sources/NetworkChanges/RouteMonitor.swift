import CSystemShims
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Why the kernel's interface events cannot be followed.
public struct RouteMonitorError: Error, CustomStringConvertible {
    public let call: String
    public let errno: Int32

    public var description: String {
        "cannot follow the network interfaces' changes (\(call): \(String(cString: strerror(errno))))"
    }
}

/// Follows the kernel's interface and address events on an rtnetlink socket (`RTMGRP_LINK`, `RTMGRP_IPV4_IFADDR`,
/// `RTMGRP_IPV6_IFADDR`), on a thread of its own that sleeps in `poll` until the kernel has something to say: an
/// idle box with stable addresses never wakes it. ``changes`` yields when the LAN interfaces may have changed (as
/// ``InterfaceChangeFilter`` judges); yields that arrive while the last one is unread are merged into it.
public final class RouteMonitor: Sendable {
    public let changes: AsyncStream<Void>
    private let wakeFD: Int32
    private let stopped = Mutex(false)

    static let groups: UInt32 = 0x1 | 0x10 | 0x100

    public init() throws(RouteMonitorError) {
        // NETLINK_ROUTE is protocol 0; Glibc's module map leaves out <linux/netlink.h>.
        let socketFD = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketFD >= 0 else { throw RouteMonitorError(call: "socket(AF_NETLINK)", errno: errno) }
        let address = Self.netlinkAddress(groups: Self.groups)
        let bound = address.withUnsafeBytes { bytes in
            bind(socketFD, bytes.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(bytes.count))
        }
        guard bound == 0 else {
            let error = errno
            close(socketFD)
            throw RouteMonitorError(call: "bind(RTMGRP_LINK|IFADDR)", errno: error)
        }
        let wakeFD = mediapeer_eventfd()
        guard wakeFD >= 0 else {
            let error = errno
            close(socketFD)
            throw RouteMonitorError(call: "eventfd", errno: error)
        }
        self.wakeFD = wakeFD
        let (changes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.changes = changes
        let thread = Thread {
            Self.follow(socketFD: socketFD, wakeFD: wakeFD, continuation: continuation)
        }
        thread.name = "mediapeer-netlink"
        thread.start()
    }

    /// `struct sockaddr_nl`: family, padding, port id (0: the kernel assigns it), multicast groups, in host order.
    static func netlinkAddress(groups: UInt32) -> [UInt8] {
        withUnsafeBytes(of: UInt16(AF_NETLINK)) { Array($0) } + [0, 0, 0, 0, 0, 0]
            + withUnsafeBytes(of: groups) { Array($0) }
    }

    /// Stops the thread, which closes the socket and finishes ``changes``.
    public func stop() {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    private static func follow(socketFD: Int32, wakeFD: Int32, continuation: AsyncStream<Void>.Continuation) {
        defer {
            close(socketFD)
            close(wakeFD)
            continuation.finish()
        }
        var filter = InterfaceChangeFilter()
        // Larger than any one datagram the kernel sends for these groups (it fits a page's worth of messages).
        var buffer = [UInt8](repeating: 0, count: 32 * 1024)
        while true {
            var fds = [
                pollfd(fd: socketFD, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[1].revents != 0 { return }
            guard fds[0].revents != 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(socketFD, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            let events: [RouteEvent]
            if count < 0 {
                switch errno {
                case EINTR, EAGAIN: continue
                // The socket's queue overflowed (a burst of changes): some were lost, so look at everything.
                case ENOBUFS: events = [.eventsLost]
                default: return
                }
            } else {
                events = RouteMessages.parse(Array(buffer.prefix(count)))
            }
            var relevant = false
            for event in events where filter.isRelevant(event) { relevant = true }
            if relevant { continuation.yield(()) }
        }
    }
}
