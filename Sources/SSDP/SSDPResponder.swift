import ElapsedTime

/// What the responder announces and how far other devices may push it.
public struct SSDPConfiguration: Sendable {
    /// The device's UUID, lowercase, without `uuid:` (see ``UPnPDeviceIdentity``).
    public var deviceUUID: String
    /// The port of the HTTP server holding the device description (the player endpoint's).
    public var descriptionPort: Int
    public var descriptionPath = "/upnp/device.xml"
    /// `SERVER`: `OS/version UPnP/1.0 product/version` (see ``SSDPConfiguration/serverString(version:)``).
    public var server: String
    /// `CACHE-CONTROL: max-age`: how long control points keep the box without hearing from it.
    public var maxAge: Duration = .seconds(1800)
    /// Each announcement goes out this many times, `announcementSpacing` apart, as UDA recommends for UDP loss.
    public var announcementCopies = 3
    public var announcementSpacing: Duration = .seconds(1)
    /// Answers waiting for their random delay, over which further searches are dropped.
    public var pendingResponseLimit = 64
    /// Answers one address may draw within a second, over which its searches are dropped.
    public var responsesPerSourcePerSecond = 20
    /// Addresses whose answers are counted at once; a flood of spoofed sources beyond it is dropped.
    public var trackedSourceLimit = 256
    /// Whether a sender on one of the box's subnets may be answered too (`allowed_networks`: players cannot
    /// authenticate, and a device that cannot use the MediaServer has no use for finding it). Asked per search, so
    /// a change applies to the next one. A search from the box's own address on the interface is answered
    /// regardless, as the player endpoint answers the box itself (a forged one draws answers to the box alone).
    public var allowsSender: @Sendable (IPv4Address) -> Bool = { _ in true }

    public init(deviceUUID: String, descriptionPort: Int, server: String) {
        self.deviceUUID = deviceUUID.lowercased()
        self.descriptionPort = descriptionPort
        self.server = server
    }
}

/// The SSDP side of the MediaServer as a pure state machine: datagrams, interface lists and instants go in, the
/// datagrams to send come out, and ``nextDeadline`` says when it wants to be woken. It reads no clock and opens no
/// socket; randomness (the answer delays, the re-announcement period) comes from the generator it is given.
///
/// It answers `M-SEARCH` for `ssdp:all`, `upnp:rootdevice`, its `uuid:`, `MediaServer:1`, `ContentDirectory:1` and
/// `ConnectionManager:1` (or a lower version), each after a random delay within `MX` (at most 5 s), only to senders
/// on the subnet of one of its interfaces that the configuration allows, with that interface's address in
/// `LOCATION`. It announces itself
/// (`ssdp:alive`) on each interface at start, on each new interface, and every 40–50 % of `max-age`, and says
/// `ssdp:byebye` on stop.
public struct SSDPResponder: Sendable {
    public enum Action: Equatable, Sendable {
        /// Unicast from the SSDP socket to a control point.
        case respond(SSDPResponse, to: SSDPEndpoint)
        /// Multicast to 239.255.255.250:1900 out of one interface.
        case notify(SSDPNotification, on: SSDPInterface)
    }

    private struct PendingResponse: Sendable {
        var due: ElapsedInstant
        var response: SSDPResponse
        var destination: SSDPEndpoint
    }

    /// The copies of an announcement still to send on one interface.
    private struct Burst: Sendable {
        var nextDue: ElapsedInstant
        var copiesLeft: Int
    }

    private struct SourceWindow: Sendable {
        var start: ElapsedInstant
        var responses: Int
    }

    private enum Phase: Sendable {
        case idle, running, stopped
    }

    public let configuration: SSDPConfiguration
    private var random: any RandomNumberGenerator & Sendable
    private var phase = Phase.idle
    /// The interfaces announced on, in the order given.
    public private(set) var interfaces: [SSDPInterface] = []
    /// Sorted by due instant.
    private var pending: [PendingResponse] = []
    private var bursts: [SSDPInterface: Burst] = [:]
    private var nextAnnouncement: ElapsedInstant?
    private var sources: [IPv4Address: SourceWindow] = [:]

    public init(configuration: SSDPConfiguration, random: some RandomNumberGenerator & Sendable) {
        self.configuration = configuration
        self.random = random
    }

    /// Answers accepted and not yet sent.
    public var pendingResponseCount: Int { pending.count }

    /// When ``tick(at:)`` has something to do; nil when stopped.
    public var nextDeadline: ElapsedInstant? {
        [pending.first?.due, bursts.values.map(\.nextDue).min(), nextAnnouncement].compactMap { $0 }.min()
    }

    /// Whether the next ``tick(at:)`` re-announces on every interface: the moment to look for new interfaces first.
    public func isAnnouncementDue(at now: ElapsedInstant) -> Bool {
        nextAnnouncement.map { $0 <= now } ?? false
    }

    /// Starts announcing on `interfaces`.
    public mutating func start(interfaces: [SSDPInterface], at now: ElapsedInstant) -> [Action] {
        guard phase == .idle else { return [] }
        phase = .running
        self.interfaces = Self.distinct(interfaces)
        for interface in self.interfaces { bursts[interface] = Burst(nextDue: now, copiesLeft: announcementCopies) }
        nextAnnouncement = now + reannouncementInterval()
        return due(at: now)
    }

    /// The box's LAN interfaces now: new ones are announced on at once, gone ones forgotten.
    public mutating func interfacesChanged(_ current: [SSDPInterface], at now: ElapsedInstant) -> [Action] {
        guard phase == .running else { return [] }
        let current = Self.distinct(current)
        let known = Set(interfaces)
        for interface in current where !known.contains(interface) {
            bursts[interface] = Burst(nextDue: now, copiesLeft: announcementCopies)
        }
        let kept = Set(current)
        for interface in interfaces where !kept.contains(interface) { bursts[interface] = nil }
        interfaces = current
        return due(at: now)
    }

    /// A datagram from the SSDP socket. Anything but a bounded, well-formed search for one of the box's targets from
    /// an allowed sender on one of its subnets is ignored, and so are searches over the pending or per-source limits.
    public mutating func received(_ datagram: SSDPDatagram, at now: ElapsedInstant) -> [Action] {
        guard phase == .running, let interface = interfaces.first(where: { $0.holds(datagram.source.address) }),
            datagram.source.address == interface.address || configuration.allowsSender(datagram.source.address),
            let search = SSDPSearch(datagram: datagram.bytes)
        else { return due(at: now) }
        let uuid = configuration.deviceUUID
        let location = "http://\(interface.address):\(configuration.descriptionPort)\(configuration.descriptionPath)"
        let responses = Self.matches(search.searchTarget, uuid: uuid).map { target, searchTarget in
            SSDPResponse(
                searchTarget: searchTarget,
                uniqueServiceName: target.uniqueServiceName(uuid: uuid, type: target.notificationType(uuid: uuid)),
                location: location)
        }
        guard !responses.isEmpty, pending.count + responses.count <= configuration.pendingResponseLimit,
            admit(responses.count, from: datagram.source.address, at: now)
        else { return due(at: now) }
        // UDA: wait a random time within MX, which a device may cap at 5 s; a missing or malformed MX counts as 1 s.
        let window = min(search.maximumWait ?? 1, 5) * 1000
        let delay = window == 0 ? Duration.zero : .milliseconds(Int.random(in: 0..<window, using: &random))
        let entries = responses.map { PendingResponse(due: now + delay, response: $0, destination: datagram.source) }
        let index = pending.firstIndex { $0.due > now + delay } ?? pending.endIndex
        pending.insert(contentsOf: entries, at: index)
        return due(at: now)
    }

    /// What is due at `now`: delayed answers, announcement copies, and the periodic re-announcement.
    public mutating func tick(at now: ElapsedInstant) -> [Action] {
        guard phase == .running else { return [] }
        if isAnnouncementDue(at: now) {
            for interface in interfaces {
                bursts[interface] = Burst(nextDue: now, copiesLeft: announcementCopies)
            }
            nextAnnouncement = now + reannouncementInterval()
        }
        return due(at: now)
    }

    /// Stops: drops what is pending and says `ssdp:byebye` for every target on every interface.
    public mutating func stop() -> [Action] {
        defer {
            phase = .stopped
            pending.removeAll()
            bursts.removeAll()
            sources.removeAll()
            nextAnnouncement = nil
        }
        guard phase == .running else { return [] }
        return interfaces.flatMap { interface in notifications(.byebye, on: interface) }
    }

    private var announcementCopies: Int { max(1, configuration.announcementCopies) }

    private mutating func due(at now: ElapsedInstant) -> [Action] {
        var actions: [Action] = []
        let count = pending.prefix { $0.due <= now }.count
        for entry in pending.prefix(count) { actions.append(.respond(entry.response, to: entry.destination)) }
        pending.removeFirst(count)
        for interface in interfaces {
            guard var burst = bursts[interface], burst.nextDue <= now else { continue }
            actions += notifications(.alive, on: interface)
            burst.copiesLeft -= 1
            burst.nextDue = now + configuration.announcementSpacing
            bursts[interface] = burst.copiesLeft > 0 ? burst : nil
        }
        return actions
    }

    private func notifications(_ kind: SSDPNotification.Kind, on interface: SSDPInterface) -> [Action] {
        let uuid = configuration.deviceUUID
        let location = "http://\(interface.address):\(configuration.descriptionPort)\(configuration.descriptionPath)"
        return SSDPTarget.allCases.map { target in
            let type = target.notificationType(uuid: uuid)
            return .notify(
                SSDPNotification(
                    kind: kind, notificationType: type,
                    uniqueServiceName: target.uniqueServiceName(uuid: uuid, type: type),
                    location: location),
                on: interface)
        }
    }

    /// Counts `responses` against the sender's budget for the current second; false when over it.
    private mutating func admit(_ responses: Int, from source: IPv4Address, at now: ElapsedInstant) -> Bool {
        let limit = configuration.responsesPerSourcePerSecond
        if var window = sources[source], now < window.start + .seconds(1) {
            guard window.responses + responses <= limit else { return false }
            window.responses += responses
            sources[source] = window
            return true
        }
        if sources[source] == nil, sources.count >= configuration.trackedSourceLimit {
            sources = sources.filter { now < $0.value.start + .seconds(1) }
            guard sources.count < configuration.trackedSourceLimit else { return false }
        }
        guard responses <= limit else { return false }
        sources[source] = SourceWindow(start: now, responses: responses)
        return true
    }

    /// UDA recommends re-announcing at a random interval under half of `max-age`.
    private mutating func reannouncementInterval() -> Duration {
        let maxAge = configuration.maxAge.components.seconds * 1000
        return .milliseconds(Int64.random(in: (maxAge * 4 / 10)...(maxAge / 2), using: &random))
    }

    /// The targets a search's `ST` names, each with the `ST` to answer with.
    static func matches(_ searchTarget: String, uuid: String) -> [(SSDPTarget, String)] {
        let lowered = searchTarget.lowercased()
        if lowered == "ssdp:all" { return SSDPTarget.allCases.map { ($0, $0.notificationType(uuid: uuid)) } }
        if lowered == "upnp:rootdevice" { return [(.rootDevice, "upnp:rootdevice")] }
        if lowered == "uuid:" + uuid { return [(.deviceUUID, "uuid:" + uuid)] }
        for target in SSDPTarget.allCases {
            guard let prefix = target.typePrefix?.lowercased(), lowered.hasPrefix(prefix),
                let version = Int(lowered.dropFirst(prefix.count)), lowered.count - prefix.count <= 4,
                (1...SSDPTarget.implementedVersion).contains(version)
            else { continue }
            // A search for an older version is answered with the version asked for, as UDA 1.1 says.
            return [(target, target.typePrefix! + String(version))]
        }
        return []
    }

    private static func distinct(_ interfaces: [SSDPInterface]) -> [SSDPInterface] {
        var seen = Set<SSDPInterface>()
        return interfaces.filter { seen.insert($0).inserted }
    }
}
