import Clocks
import Logging
import SSDP
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing

/// What the service did through its transport, in order.
enum TransportEvent: Sendable {
    case sent(String, to: SSDPEndpoint)
    case multicast(String, on: SSDPInterface)
    case closed

    var text: String? {
        switch self {
        case .sent(let text, _), .multicast(let text, _): text
        case .closed: nil
        }
    }
}

/// A transport that records what goes out and lets the test hand the service datagrams and interface lists.
actor RecordingTransport: SSDPTransport {
    nonisolated let events: AsyncStream<TransportEvent>
    private let record: AsyncStream<TransportEvent>.Continuation
    nonisolated let inbound: AsyncStream<SSDPDatagram>.Continuation
    private let inboundStream: AsyncStream<SSDPDatagram>
    private var interfaces: [SSDPInterface]
    private(set) var answersSent = 0
    private let changes: AsyncStream<Void>
    /// Tells the service the interfaces may have changed, as the kernel's events do.
    nonisolated let change: AsyncStream<Void>.Continuation

    init(interfaces: [SSDPInterface]) {
        (events, record) = AsyncStream.makeStream()
        (inboundStream, inbound) = AsyncStream.makeStream()
        (changes, change) = AsyncStream.makeStream()
        self.interfaces = interfaces
    }

    func interfaceChanges() async -> AsyncStream<Void> { changes }

    func setInterfaces(_ interfaces: [SSDPInterface]) { self.interfaces = interfaces }

    func open() async throws(SSDPError) -> AsyncStream<SSDPDatagram> { inboundStream }
    func refreshInterfaces() async -> [SSDPInterface] { interfaces }

    func send(_ datagram: [UInt8], to destination: SSDPEndpoint) async {
        answersSent += 1
        record.yield(.sent(String(decoding: datagram, as: UTF8.self), to: destination))
    }

    func multicast(_ datagram: [UInt8], on interface: SSDPInterface) async {
        record.yield(.multicast(String(decoding: datagram, as: UTF8.self), on: interface))
    }

    func close() async {
        inbound.finish()
        change.finish()
        record.yield(.closed)
    }
}

/// A test clock that says when something starts sleeping on it, and until when.
struct WatchedClock: Clock {
    let base: TestClock<Duration>
    let sleeps: AsyncStream<TestClock<Duration>.Instant>.Continuation

    var now: TestClock<Duration>.Instant { base.now }
    var minimumResolution: Duration { base.minimumResolution }

    func sleep(until deadline: TestClock<Duration>.Instant, tolerance: Duration?) async throws {
        sleeps.yield(deadline)
        try await base.sleep(until: deadline, tolerance: tolerance)
    }
}

@Suite struct SSDPServiceTests {
    static func service(
        _ transport: RecordingTransport, clock: some Clock<Duration>, copies: Int = 1
    ) -> SSDPService {
        SSDPService(
            configuration: Fixture.configuration { $0.announcementCopies = copies }, transport: transport,
            clock: clock, random: FractionRandom(fraction: 0.3), date: { "Sun, 06 Dec 2026 23:00:00 GMT" },
            logger: Logger(label: "ssdp-test"))
    }

    static func next(_ count: Int, of events: inout AsyncStream<TransportEvent>.Iterator) async -> [TransportEvent] {
        var collected: [TransportEvent] = []
        while collected.count < count, let event = await events.next() { collected.append(event) }
        return collected
    }

    @Test func announcesAtStartAndSaysByebyeOnGracefulShutdown() async throws {
        let transport = RecordingTransport(interfaces: [Fixture.eth0])
        let service = Self.service(transport, clock: TestClock())
        var events = transport.events.makeAsyncIterator()
        try await testGracefulShutdown { shutdown in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await service.run() }
                let alive = await Self.next(5, of: &events)
                #expect(alive.allSatisfy { $0.text?.contains("NTS: ssdp:alive\r\n") == true })
                shutdown.triggerGracefulShutdown()
                let byebye = await Self.next(6, of: &events)
                #expect(byebye.prefix(5).allSatisfy { $0.text?.contains("NTS: ssdp:byebye\r\n") == true })
                guard case .closed = byebye.last else {
                    Issue.record("the transport was not closed after the byebyes")
                    return
                }
                try await group.waitForAll()
            }
        }
    }

    /// The service on a watched test clock, once its start-up announcements are out (one per target and interface)
    /// and its re-announcement is armed; it is shut down gracefully after `body`.
    struct Started {
        let transport: RecordingTransport
        let clock: TestClock<Duration>
        var events: AsyncStream<TransportEvent>.Iterator
        var sleeps: AsyncStream<TestClock<Duration>.Instant>.Iterator
        let reannouncement: TestClock<Duration>.Instant?
    }

    static func withStartedService(_ body: (inout Started) async throws -> Void) async throws {
        let (sleeps, sleepStarted) = AsyncStream.makeStream(of: TestClock<Duration>.Instant.self)
        let clock = TestClock()
        let transport = RecordingTransport(interfaces: [Fixture.eth0])
        let service = Self.service(transport, clock: WatchedClock(base: clock, sleeps: sleepStarted))
        var events = transport.events.makeAsyncIterator()
        var sleeping = sleeps.makeAsyncIterator()
        try await testGracefulShutdown { shutdown in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await service.run() }
                _ = await Self.next(5, of: &events)
                let reannouncement = await sleeping.next()
                var started = Started(
                    transport: transport, clock: clock, events: events, sleeps: sleeping, reannouncement: reannouncement
                )
                try await body(&started)
                shutdown.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
    }

    @Test func answersASearchOnlyOnceItsDelayHasPassed() async throws {
        try await Self.withStartedService { started in
            // A search with MX 2 is answered 600 ms (30 %) after it arrived.
            started.transport.inbound.yield(Fixture.datagram("urn:schemas-upnp-org:device:MediaServer:1", mx: "2"))
            let answerDeadline = await started.sleeps.next()
            #expect(answerDeadline == started.clock.now.advanced(by: .milliseconds(600)))
            await started.clock.advance(by: .milliseconds(599))
            #expect(await started.transport.answersSent == 0)
            await started.clock.advance(by: .milliseconds(1))
            let sent = await Self.next(1, of: &started.events)
            guard case .sent(let text, let destination) = sent.first else {
                Issue.record("no answer: \(sent)")
                return
            }
            #expect(destination == Fixture.tv)
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(text.contains("DATE: Sun, 06 Dec 2026 23:00:00 GMT\r\n"))
            #expect(text.contains("ST: urn:schemas-upnp-org:device:MediaServer:1\r\n"))
        }
    }

    @Test func picksUpNewInterfacesAtTheReannouncement() async throws {
        try await Self.withStartedService { started in
            #expect(started.reannouncement == started.clock.now.advanced(by: .seconds(774)))
            await started.transport.setInterfaces([Fixture.eth0, Fixture.wlan0])
            await started.clock.advance(by: .seconds(774))
            let sent = await Self.next(10, of: &started.events)
            var interfaces: [SSDPInterface: Int] = [:]
            for case .multicast(_, let interface) in sent { interfaces[interface, default: 0] += 1 }
            #expect(interfaces == [Fixture.eth0: 5, Fixture.wlan0: 5])
        }
    }

    @Test func anInterfaceChangeReportedIsAnnouncedOnAtOnceWithoutWaitingForTheReannouncement() async throws {
        try await Self.withStartedService { started in
            // A DHCP renewal gave eth0 a new address, and Wi-Fi came up: no time passes.
            let renewed = SSDPInterface(
                name: "eth0", address: Fixture.address("192.168.1.77"), netmask: Fixture.address("255.255.255.0"))
            await started.transport.setInterfaces([renewed, Fixture.wlan0])
            started.transport.change.yield(())
            let sent = await Self.next(10, of: &started.events)
            var interfaces: [SSDPInterface: Int] = [:]
            for case .multicast(let text, let interface) in sent {
                interfaces[interface, default: 0] += 1
                #expect(text.contains("LOCATION: http://\(interface.address):8738/upnp/device.xml\r\n"))
            }
            #expect(interfaces == [renewed: 5, Fixture.wlan0: 5])
        }
    }

    @Test func aChangeThatLeavesTheInterfacesAsTheyWereSendsNothing() async throws {
        try await Self.withStartedService { started in
            started.transport.change.yield(())
            // A search answered at once (MX 0) comes out first: the change before it sent nothing.
            started.transport.inbound.yield(Fixture.datagram("upnp:rootdevice", mx: "0"))
            let next = await Self.next(1, of: &started.events)
            guard case .sent(let text, _)? = next.first else {
                Issue.record("expected the answer to the search, got \(next)")
                return
            }
            #expect(text.contains("ST: upnp:rootdevice\r\n"))
        }
    }
}
