import ElapsedTime
import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The sockets SSDP speaks through (``NIOSSDPTransport`` on a real box; a recording fake in tests).
public protocol SSDPTransport: Sendable {
    /// Opens the SSDP socket; what it receives, until ``close()``.
    func open() async throws(SSDPError) -> AsyncStream<SSDPDatagram>
    /// The box's LAN interfaces now, each joined to the SSDP group and ready to send on.
    func refreshInterfaces() async -> [SSDPInterface]
    /// Unicast from the SSDP socket.
    func send(_ datagram: [UInt8], to destination: SSDPEndpoint) async
    /// Multicast to 239.255.255.250:1900 out of `interface`.
    func multicast(_ datagram: [UInt8], on interface: SSDPInterface) async
    /// Closes every socket and finishes the stream ``open()`` returned.
    func close() async
    /// Yields when the LAN interfaces may have changed (an address came, went or changed; a link went up or
    /// down), so that ``refreshInterfaces()`` is asked at once; finishes with ``close()``.
    func interfaceChanges() async -> AsyncStream<Void>
}

extension SSDPTransport {
    /// No change is ever reported: new interfaces are looked for at the re-announcements alone.
    public func interfaceChanges() async -> AsyncStream<Void> { AsyncStream { $0.finish() } }
}

/// Why SSDP could not start.
public enum SSDPError: Error, CustomStringConvertible {
    case cannotListen(port: Int, reason: String)

    public var description: String {
        switch self {
        case .cannotListen(let port, let reason):
            "cannot listen for SSDP on UDP port \(port) (\(reason)); TVs will not find this box by themselves until "
                + "the port is free (is another SSDP server running without SO_REUSEADDR?)"
        }
    }
}

/// SSDP for the box's MediaServer, from start until graceful shutdown: it announces the device on each LAN
/// interface, answers searches, re-announces about every 15 minutes, and says `ssdp:byebye` before it stops. It
/// looks at the interfaces again as soon as the transport reports a change (and at each re-announcement), so an
/// address that comes late, changes with a DHCP renewal or comes back with its link, and a second interface, are
/// announced on at once. Time comes from the injected clock, so it wakes only when something is due.
public actor SSDPService: Service {
    private var responder: SSDPResponder
    private let transport: any SSDPTransport
    private let clock: ElapsedClock
    private let date: @Sendable () -> String
    private let logger: Logger
    /// The wake-up armed for the responder's next deadline.
    private var timer: (deadline: ElapsedInstant, task: Task<Void, Never>)?

    public init(
        configuration: SSDPConfiguration, transport: any SSDPTransport, clock: some Clock<Duration> = ContinuousClock(),
        random: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator(),
        date: @escaping @Sendable () -> String = SSDPDate.now, logger: Logger
    ) {
        responder = SSDPResponder(configuration: configuration, random: random)
        self.transport = transport
        self.clock = ElapsedClock(clock)
        self.date = date
        self.logger = logger
    }

    public func run() async throws {
        let datagrams: AsyncStream<SSDPDatagram>
        do {
            datagrams = try await transport.open()
        } catch {
            // The rest of the daemon is still useful without SSDP: say why and wait for the end.
            logger.error("\(error)")
            try? await gracefulShutdown()
            return
        }
        let interfaces = await transport.refreshInterfaces()
        logger.info(
            "SSDP announcing the MediaServer",
            metadata: [
                "uuid": "\(responder.configuration.deviceUUID)",
                "interfaces": "\(interfaces.map(\.description).joined(separator: ", "))",
            ])
        await perform(responder.start(interfaces: interfaces, at: clock.now))
        let changes = await transport.interfaceChanges()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await datagram in datagrams { await self.received(datagram) }
            }
            group.addTask {
                for await _ in changes { await self.lookAtInterfaces() }
            }
            try? await gracefulShutdown()
            timer?.task.cancel()
            timer = nil
            await perform(responder.stop())
            logger.info("SSDP said byebye")
            await transport.close()
            group.cancelAll()
        }
    }

    private func received(_ datagram: SSDPDatagram) async {
        await perform(responder.received(datagram, at: clock.now))
    }

    private func wake(armedFor deadline: ElapsedInstant) async {
        // A wake-up cancelled just as its sleep ended may still arrive; it must not forget the one armed after it.
        if timer?.deadline == deadline { timer = nil }
        if responder.isAnnouncementDue(at: clock.now) { await lookAtInterfaces() }
        await perform(responder.tick(at: clock.now))
    }

    /// Announces on the interfaces that are new since the last look, and forgets those gone.
    private func lookAtInterfaces() async {
        let interfaces = await transport.refreshInterfaces()
        if interfaces != responder.interfaces {
            logger.info(
                "SSDP interfaces changed",
                metadata: ["interfaces": "\(interfaces.map(\.description).joined(separator: ", "))"])
        }
        await perform(responder.interfacesChanged(interfaces, at: clock.now))
    }

    private func perform(_ actions: [SSDPResponder.Action]) async {
        let configuration = responder.configuration
        for action in actions {
            switch action {
            case .respond(let response, let destination):
                logger.debug(
                    "SSDP answer", metadata: ["to": "\(destination)", "st": "\(response.searchTarget)"])
                await transport.send(
                    response.encoded(maxAge: configuration.maxAge, server: configuration.server, date: date()),
                    to: destination)
            case .notify(let notification, let interface):
                await transport.multicast(
                    notification.encoded(maxAge: configuration.maxAge, server: configuration.server), on: interface)
            }
        }
        arm()
    }

    /// Sleeps until the responder's next deadline, unless a wake-up at or before it is already armed.
    private func arm() {
        guard let deadline = responder.nextDeadline else {
            timer?.task.cancel()
            timer = nil
            return
        }
        if let timer, timer.deadline <= deadline { return }
        timer?.task.cancel()
        let clock = clock
        timer = (
            deadline,
            Task {
                do { try await clock.sleep(until: deadline, tolerance: nil) } catch { return }
                await self.wake(armedFor: deadline)
            }
        )
    }
}

/// The `DATE` of an SSDP answer: an IMF-fixdate (RFC 9110), always in English and GMT.
public enum SSDPDate {
    @Sendable public static func now() -> String {
        var seconds = time(nil)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return format(parts)
    }

    static func format(_ parts: tm) -> String {
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday) % 7]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon) % 12]) "
            + "\(parts.tm_year + 1900) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}

extension SSDPConfiguration {
    /// `Linux/RELEASE UPnP/1.0 mediapeer/VERSION`, the `SERVER` UDA asks for, with the kernel's release.
    public static func serverString(version: String) -> String {
        var names = utsname()
        uname(&names)
        let release = withUnsafeBytes(of: &names.release) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        return "Linux/\(release.isEmpty ? "unknown" : release) UPnP/1.0 mediapeer/\(version)"
    }
}
