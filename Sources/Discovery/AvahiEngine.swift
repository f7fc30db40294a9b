import CAvahi
import ControlWire
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One connection to avahi-daemon: the client, our entry group, the browser and its resolvers, driven by an
/// `AvahiThreadedPoll`.
///
/// Thread rule: the mutable properties marked "poll-locked" are touched only on the poll thread (Avahi callbacks,
/// which run with the poll lock held) or by another thread holding `avahi_threaded_poll_lock`. That lock is the one
/// guard of every Avahi object too, which is why this class is `@unchecked Sendable`: a Swift `Mutex` around the
/// state could not be held across Avahi calls, since Avahi calls back synchronously into the same state (a client
/// callback from inside `avahi_client_new`, a group callback from inside `avahi_entry_group_commit`).
///
/// Lock order, for the few places that hold two: `MDNSDiscovery`'s lifecycle mutex, then the poll lock, then
/// ``published``. Callbacks only ever take ``published``.
final class AvahiEngine: @unchecked Sendable {
    private let configuration: DiscoveryConfiguration
    private let logger: Logger
    private let continuation: AsyncStream<DiscoveryEvent>.Continuation
    /// The state readers see, readable without the poll lock (and so from inside callbacks too).
    let published: Mutex<DiscoveryState>

    private let poll: OpaquePointer
    private let pollAPI: UnsafePointer<AvahiPoll>

    /// One resolver per instance Avahi reports: name, interface and IP version (type and domain are ours).
    private struct InstanceKey: Hashable {
        var interface: Int32
        var proto: Int32
        var name: String
        var type: String
        var domain: String
    }

    // poll-locked
    private var client: OpaquePointer?
    private var group: OpaquePointer?
    private var groupEstablished = false
    private var browser: OpaquePointer?
    private var resolvers: [InstanceKey: OpaquePointer] = [:]
    /// Instances reported as resolved, so that only those are reported removed.
    private var reported: Set<InstanceKey> = []
    private var nameInUse: String
    private var extraTXT: [String: String]
    /// The TXT record in the registered group, nil while nothing is registered.
    private var appliedTXT: [String: String]?
    private var lastTXTApplied: ContinuousClock.Instant?
    private var txtTimer: OpaquePointer?
    private var reconnectTimer: OpaquePointer?
    private var reconnectDelay: Duration = AvahiEngine.initialReconnectDelay
    /// Nil until the first state is known, so the first `daemonUp`/`daemonDown` is always reported.
    private var daemonUp: Bool?
    private var stopping = false

    private static let initialReconnectDelay: Duration = .seconds(1)
    private static let maximumReconnectDelay: Duration = .seconds(30)

    init(
        configuration: DiscoveryConfiguration, logger: Logger,
        continuation: AsyncStream<DiscoveryEvent>.Continuation
    ) throws(DiscoveryError) {
        guard let poll = avahi_threaded_poll_new() else {
            throw .eventLoopUnavailable("avahi_threaded_poll_new failed (out of memory?)")
        }
        self.poll = poll
        pollAPI = avahi_threaded_poll_get(poll)
        self.configuration = configuration
        self.logger = logger
        self.continuation = continuation
        nameInUse = configuration.instanceName
        extraTXT = configuration.txt
        published = Mutex(
            DiscoveryState(nameInUse: configuration.instanceName, daemonRunning: false, registered: false))
    }

    private var context: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    private static func from(_ userdata: UnsafeMutableRawPointer?) -> AvahiEngine {
        Unmanaged<AvahiEngine>.fromOpaque(userdata!).takeUnretainedValue()
    }

    // MARK: - Called from other threads

    func start() throws(DiscoveryError) {
        guard avahi_threaded_poll_start(poll) >= 0 else {
            throw .eventLoopUnavailable("avahi_threaded_poll_start could not start its thread")
        }
        avahi_threaded_poll_lock(poll)
        connect()
        avahi_threaded_poll_unlock(poll)
    }

    func updateTXT(_ extra: [String: String]) {
        avahi_threaded_poll_lock(poll)
        defer { avahi_threaded_poll_unlock(poll) }
        guard !stopping else { return }
        extraTXT = extra
        applyTXTIfDue()
    }

    /// Withdraws our service (Avahi sends goodbyes), frees every Avahi object, stops the poll thread and frees the
    /// poll. Called once (``MDNSDiscovery`` sees to it); nothing may touch the engine's Avahi side afterwards.
    func shutdown() {
        avahi_threaded_poll_lock(poll)
        stopping = true
        freeTimer(&txtTimer)
        freeTimer(&reconnectTimer)
        tearDownClient()
        avahi_threaded_poll_unlock(poll)
        avahi_threaded_poll_stop(poll)
        avahi_threaded_poll_free(poll)
        published.withLock {
            $0.registered = false
            $0.daemonRunning = false
        }
        continuation.finish()
    }

    /// Frees the event loop and ends ``MDNSDiscovery/events`` for an instance stopped before it started.
    func finishWithoutStarting() {
        avahi_threaded_poll_free(poll)
        continuation.finish()
    }

    // MARK: - Client

    /// Creates the client. With `AVAHI_CLIENT_NO_FAIL` this succeeds while avahi-daemon is not running (the client
    /// waits in `CONNECTING` for it); it fails only when the system bus itself is unreachable, and then it is
    /// retried with a backoff.
    private func connect() {
        var error: Int32 = 0
        let created = avahi_client_new(
            pollAPI, AVAHI_CLIENT_NO_FAIL,
            { client, state, userdata in
                AvahiEngine.from(userdata).clientChanged(client, state)
            }, context, &error)
        client = created
        if created == nil {
            let delay = reconnectDelay
            // Said once at warning level; the retries that follow go to debug, so a box without a system bus does
            // not write a log line (to flash) every half minute forever.
            let level: Logger.Level = reconnectDelay == Self.initialReconnectDelay ? .warning : .debug
            logger.log(
                level: level, "cannot connect to the system D-Bus to reach avahi-daemon; retrying in \(delay)",
                metadata: [
                    "error": "\(Self.describe(error))"
                ])
            markDaemon(up: false)
            reconnectDelay = min(reconnectDelay * 2, Self.maximumReconnectDelay)
            scheduleReconnect(after: delay)
        }
    }

    private func clientChanged(_ c: OpaquePointer?, _ state: AvahiClientState) {
        guard !stopping, let c else { return }
        // Set before avahi_client_new returns, as Avahi calls back from inside it.
        if client == nil { client = c }
        switch state {
        case AVAHI_CLIENT_S_RUNNING:
            reconnectDelay = Self.initialReconnectDelay
            let host = avahi_client_get_host_name_fqdn(c).map { String(cString: $0) }
            published.withLock { $0.hostName = host }
            markDaemon(up: true)
            if configuration.announce { register(c) }
            if configuration.browse { browse(c) }
        case AVAHI_CLIENT_S_REGISTERING, AVAHI_CLIENT_S_COLLISION:
            // The daemon is (re-)establishing its host name, after a host name conflict for one: our records must
            // wait until that is done, and are added again on S_RUNNING. A host name conflict is the daemon's to
            // solve (it picks another host name); our instance name does not change for it.
            markDaemon(up: true)
            if let group {
                avahi_entry_group_reset(group)
                groupEstablished = false
                appliedTXT = nil
                setRegistered(false)
            }
        case AVAHI_CLIENT_CONNECTING:
            markDaemon(up: false)
        case AVAHI_CLIENT_FAILURE:
            let error = avahi_client_errno(c)
            markDaemon(up: false)
            if error == Int32(AVAHI_ERR_DISCONNECTED) {
                logger.info("avahi-daemon went away; reconnecting and waiting for it to come back")
                scheduleReconnect(after: .zero)
            } else {
                let delay = reconnectDelay
                logger.warning(
                    "Avahi client failed; reconnecting in \(delay)", metadata: ["error": "\(Self.describe(error))"])
                reconnectDelay = min(reconnectDelay * 2, Self.maximumReconnectDelay)
                scheduleReconnect(after: delay)
            }
        default:
            break
        }
    }

    /// A disconnected client is freed and replaced from a timer, not from its own callback: the callback runs
    /// inside libdbus's dispatch of the very connection that freeing would close.
    private func scheduleReconnect(after delay: Duration) {
        guard reconnectTimer == nil else { return }
        reconnectTimer = makeTimer(after: delay)
    }

    private func reconnect() {
        setRegistered(false)
        tearDownClient()
        connect()
    }

    /// Frees the resolvers, the browser, the group and the client, children first. Avahi would free the children
    /// with the client, but then our pointers would dangle.
    private func tearDownClient() {
        for resolver in resolvers.values { avahi_service_resolver_free(resolver) }
        resolvers = [:]
        reported = []
        if let browser { avahi_service_browser_free(browser) }
        browser = nil
        if let group { avahi_entry_group_free(group) }
        group = nil
        groupEstablished = false
        appliedTXT = nil
        if let client { avahi_client_free(client) }
        client = nil
    }

    private func markDaemon(up: Bool) {
        published.withLock {
            $0.daemonRunning = up
            if !up { $0.registered = false }
        }
        guard daemonUp != up else { return }
        daemonUp = up
        if up {
            logger.info("avahi-daemon is reachable")
        } else {
            logger.notice("avahi-daemon is not reachable; mDNS announcing and browsing wait for it")
        }
        continuation.yield(up ? .daemonUp : .daemonDown)
    }

    private func setRegistered(_ registered: Bool) {
        published.withLock { $0.registered = registered }
    }

    // MARK: - Announcing

    private func register(_ c: OpaquePointer) {
        if group == nil {
            group = avahi_entry_group_new(
                c,
                { group, state, userdata in
                    AvahiEngine.from(userdata).groupChanged(group, state)
                }, context)
            if group == nil {
                logger.error(
                    "cannot create an Avahi entry group", metadata: ["error": "\(Self.describe(avahi_client_errno(c)))"]
                )
                return
            }
        }
        guard let group, avahi_entry_group_is_empty(group) != 0 else { return }
        addService(to: group)
    }

    private func addService(to group: OpaquePointer) {
        let record = configuration.txtRecord(extra: extraTXT)
        // A collision here is with another service on this same daemon; one on the network shows up later as
        // AVAHI_ENTRY_GROUP_COLLISION. Either way the next alternative name is tried.
        for _ in 0..<50 {
            let error = Self.withStringList(record) { list in
                avahi_entry_group_add_service_strlst(
                    group, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_UNSPEC), AvahiPublishFlags(0),
                    nameInUse, configuration.serviceType, nil, nil, configuration.port, list)
            }
            if error == Int32(AVAHI_ERR_COLLISION) {
                rename()
                continue
            }
            guard error >= 0 else {
                logger.error(
                    "cannot add our service to Avahi",
                    metadata: [
                        "name": "\(nameInUse)", "type": "\(configuration.serviceType)",
                        "error": "\(Self.describe(error))",
                    ])
                return
            }
            let committed = avahi_entry_group_commit(group)
            guard committed >= 0 else {
                logger.error("cannot commit our service to Avahi", metadata: ["error": "\(Self.describe(committed))"])
                return
            }
            appliedTXT = record
            lastTXTApplied = .now
            return
        }
        logger.error("no free instance name found after 50 alternatives", metadata: ["name": "\(nameInUse)"])
    }

    private func groupChanged(_ g: OpaquePointer?, _ state: AvahiEntryGroupState) {
        guard !stopping, let g else { return }
        switch state {
        case AVAHI_ENTRY_GROUP_ESTABLISHED:
            groupEstablished = true
            setRegistered(true)
            logger.info(
                "announced on mDNS", metadata: ["name": "\(nameInUse)", "type": "\(configuration.serviceType)"])
            continuation.yield(.registered(name: nameInUse))
            // An update that arrived while probing was held back until now.
            applyTXTIfDue()
        case AVAHI_ENTRY_GROUP_COLLISION:
            groupEstablished = false
            setRegistered(false)
            rename()
            avahi_entry_group_reset(g)
            addService(to: g)
        case AVAHI_ENTRY_GROUP_FAILURE:
            groupEstablished = false
            setRegistered(false)
            let error = avahi_client_errno(avahi_entry_group_get_client(g))
            if error != Int32(AVAHI_ERR_DISCONNECTED) {
                logger.error(
                    "Avahi could not register our service",
                    metadata: [
                        "name": "\(nameInUse)", "error": "\(Self.describe(error))",
                    ])
            }
        default:
            break
        }
    }

    private func rename() {
        let old = nameInUse
        guard let alternative = avahi_alternative_service_name(old) else { return }
        nameInUse = String(cString: alternative)
        avahi_free(alternative)
        published.withLock { $0.nameInUse = nameInUse }
        logger.notice(
            "instance name taken on the network; using another", metadata: ["taken": "\(old)", "new": "\(nameInUse)"])
        continuation.yield(.nameChanged(from: old, to: nameInUse))
    }

    /// Sends the wanted TXT record if it differs from the announced one and the rate limit allows; otherwise arms a
    /// one-shot timer for the moment it will. Nothing wakes up while no update is pending.
    private func applyTXTIfDue() {
        guard txtTimer == nil, let group, groupEstablished else { return }
        let record = configuration.txtRecord(extra: extraTXT)
        guard record != appliedTXT else { return }
        let now = ContinuousClock.now
        if let last = lastTXTApplied, now < last + configuration.txtUpdateInterval {
            txtTimer = makeTimer(after: last + configuration.txtUpdateInterval - now)
            return
        }
        let error = Self.withStringList(record) { list in
            avahi_entry_group_update_service_txt_strlst(
                group, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_UNSPEC), AvahiPublishFlags(0),
                nameInUse, configuration.serviceType, nil, list)
        }
        guard error >= 0 else {
            logger.warning("cannot update our TXT record", metadata: ["error": "\(Self.describe(error))"])
            return
        }
        appliedTXT = record
        lastTXTApplied = now
        logger.debug("TXT record updated", metadata: ["txt": "\(record)"])
    }

    // MARK: - Browsing

    private func browse(_ c: OpaquePointer) {
        guard browser == nil else { return }
        browser = avahi_service_browser_new(
            c, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_UNSPEC), configuration.serviceType, nil,
            AvahiLookupFlags(0),
            { browser, interface, proto, event, name, type, domain, _, userdata in
                AvahiEngine.from(userdata).browserEvent(browser, interface, proto, event, name, type, domain)
            }, context)
        if browser == nil {
            logger.error(
                "cannot browse for \(configuration.serviceType)",
                metadata: ["error": "\(Self.describe(avahi_client_errno(c)))"])
        }
    }

    private func browserEvent(
        _ b: OpaquePointer?, _ interface: AvahiIfIndex, _ proto: AvahiProtocol, _ event: AvahiBrowserEvent,
        _ name: UnsafePointer<CChar>?, _ type: UnsafePointer<CChar>?, _ domain: UnsafePointer<CChar>?
    ) {
        guard !stopping, let b else { return }
        switch event {
        case AVAHI_BROWSER_NEW:
            guard let name, let type, let domain else { return }
            // AVAHI_LOOKUP_RESULT_OUR_OWN is not trusted to skip an instance: the daemon sets it by name, so while
            // our group still holds a contested name, the *other* box's instance of that name arrives flagged as
            // ours, and the browser never reports it again after we rename. Every instance is resolved instead,
            // and ours is recognised by its TXT id. (LOCAL is no reason to skip either: another mediapeerd on this
            // host is another peer.)
            let key = InstanceKey(
                interface: interface, proto: proto, name: String(cString: name),
                type: String(cString: type), domain: String(cString: domain))
            guard resolvers[key] == nil else { return }
            // Resolving the address over the same IP version as the instance gives the IPv4 address for the IPv4
            // instance and the IPv6 one for the IPv6 instance, so a dual-stack peer ends up with both. The
            // resolver stays alive: Avahi reports FOUND again when the TXT record or the address changes.
            let resolver = avahi_service_resolver_new(
                avahi_service_browser_get_client(b), interface, proto, name, type, domain, proto,
                AvahiLookupFlags(0),
                { resolver, interface, proto, event, name, type, domain, host, address, port, txt, flags, userdata in
                    AvahiEngine.from(userdata).resolverEvent(
                        interface, proto, event, name, type, domain, host, address, port, txt)
                }, context)
            if let resolver {
                resolvers[key] = resolver
            } else {
                logger.warning(
                    "cannot resolve \(key.name)",
                    metadata: [
                        "error": "\(Self.describe(avahi_client_errno(avahi_service_browser_get_client(b))))"
                    ])
            }
        case AVAHI_BROWSER_REMOVE:
            guard let name, let type, let domain else { return }
            let key = InstanceKey(
                interface: interface, proto: proto, name: String(cString: name),
                type: String(cString: type), domain: String(cString: domain))
            if let resolver = resolvers.removeValue(forKey: key) { avahi_service_resolver_free(resolver) }
            if reported.remove(key) != nil {
                continuation.yield(
                    .removed(ServiceInstance(name: key.name, interfaceIndex: interface, family: Self.family(proto))))
            }
        case AVAHI_BROWSER_ALL_FOR_NOW:
            continuation.yield(.browseSettled)
        case AVAHI_BROWSER_FAILURE:
            let error = avahi_client_errno(avahi_service_browser_get_client(b))
            if error != Int32(AVAHI_ERR_DISCONNECTED) {
                logger.error(
                    "browsing for \(configuration.serviceType) failed", metadata: ["error": "\(Self.describe(error))"])
            }
        default:
            break
        }
    }

    private func resolverEvent(
        _ interface: AvahiIfIndex, _ proto: AvahiProtocol, _ event: AvahiResolverEvent,
        _ name: UnsafePointer<CChar>?, _ type: UnsafePointer<CChar>?, _ domain: UnsafePointer<CChar>?,
        _ host: UnsafePointer<CChar>?, _ address: UnsafePointer<AvahiAddress>?, _ port: UInt16,
        _ txt: UnsafeMutablePointer<AvahiStringList>?
    ) {
        guard !stopping, let name, let type, let domain else { return }
        let key = InstanceKey(
            interface: interface, proto: proto, name: String(cString: name),
            type: String(cString: type), domain: String(cString: domain))
        // A resolver freed on REMOVE can still have an answer queued; it must not resurrect the instance.
        guard resolvers[key] != nil else { return }
        switch event {
        case AVAHI_RESOLVER_FOUND:
            guard let host, let address else { return }
            let record = Self.dictionary(txt)
            if record[MediapeerTXT.peerID] == configuration.peerID { return }
            let instance = ServiceInstance(name: key.name, interfaceIndex: interface, family: Self.family(proto))
            let service = ResolvedService(
                instance: instance, hostName: String(cString: host),
                address: Self.format(address, interface: interface), port: port, txt: record)
            reported.insert(key)
            continuation.yield(.resolved(service))
        case AVAHI_RESOLVER_FAILURE:
            // Usually a timeout (the host did not answer within 5 s). The resolver keeps listening and reports
            // FOUND if the records show up later.
            logger.debug(
                "cannot resolve \(key.name) yet",
                metadata: [
                    "interface": "\(interface)", "family": "\(Self.family(proto))",
                ])
        default:
            break
        }
    }

    // MARK: - Timers

    /// A one-shot timer on the poll; the only timers are a pending TXT update and a pending reconnection.
    private func makeTimer(after delay: Duration) -> OpaquePointer? {
        let (seconds, attoseconds) = max(delay, .zero).components
        let milliseconds = UInt32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        var when = timeval()
        avahi_elapse_time(&when, milliseconds, 0)
        return pollAPI.pointee.timeout_new(
            pollAPI, &when,
            { timeout, userdata in
                AvahiEngine.from(userdata).timerFired(timeout)
            }, context)
    }

    private func freeTimer(_ timer: inout OpaquePointer?) {
        if let timer { pollAPI.pointee.timeout_free(timer) }
        timer = nil
    }

    private func timerFired(_ timeout: OpaquePointer?) {
        guard !stopping, let timeout else { return }
        if timeout == txtTimer {
            freeTimer(&txtTimer)
            applyTXTIfDue()
        } else if timeout == reconnectTimer {
            freeTimer(&reconnectTimer)
            reconnect()
        }
    }

    // MARK: - Conversions

    private static func describe(_ error: Int32) -> String {
        String(cString: avahi_strerror(error))
    }

    private static func family(_ proto: AvahiProtocol) -> IPFamily {
        proto == AvahiProtocol(AVAHI_PROTO_INET6) ? .ipv6 : .ipv4
    }

    /// The numeric address; a link-local IPv6 one gets `%ifindex`, without which it cannot be connected to.
    private static func format(_ address: UnsafePointer<AvahiAddress>, interface: AvahiIfIndex) -> String {
        var buffer = [CChar](repeating: 0, count: Int(AVAHI_ADDRESS_STR_MAX))
        guard avahi_address_snprint(&buffer, buffer.count, address) != nil else { return "" }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if address.pointee.proto == AvahiProtocol(AVAHI_PROTO_INET6) {
            let bytes = address.pointee.data.ipv6.address
            if bytes.0 == 0xfe, bytes.1 & 0xc0 == 0x80, interface >= 0 { return "\(text)%\(interface)" }
        }
        return text
    }

    private static func dictionary(_ list: UnsafeMutablePointer<AvahiStringList>?) -> [String: String] {
        var record: [String: String] = [:]
        var node = list
        while let current = node {
            var key: UnsafeMutablePointer<CChar>?
            var value: UnsafeMutablePointer<CChar>?
            var size = 0
            if avahi_string_list_get_pair(current, &key, &value, &size) == 0, let key {
                let text =
                    value.map { value in
                        String(decoding: UnsafeRawBufferPointer(start: value, count: size), as: UTF8.self)
                    } ?? ""
                // RFC 6763 section 6.4 lets one of repeated keys count; a well-formed record has none.
                let name = String(cString: key)
                if record[name] == nil { record[name] = text }
                avahi_free(key)
                avahi_free(value)
            }
            node = avahi_string_list_get_next(current)
        }
        return record
    }

    /// Builds an Avahi string list (sorted by key, so the record is stable), lends it to body, frees it.
    private static func withStringList<R>(
        _ record: [String: String], _ body: (UnsafeMutablePointer<AvahiStringList>?) -> R
    ) -> R {
        var list: UnsafeMutablePointer<AvahiStringList>?
        // avahi_string_list_add_pair prepends, so adding in reverse order yields ascending order.
        for (key, value) in record.sorted(by: { $0.key > $1.key }) {
            list = avahi_string_list_add_pair(list, key, value)
        }
        defer { avahi_string_list_free(list) }
        return body(list)
    }
}
