import ControlWire
import Logging
import Synchronization

/// Announces this box on mDNS/DNS-SD and discovers the other mediapeer boxes, through avahi-daemon.
///
/// ```swift
/// let discovery = try MDNSDiscovery(configuration: DiscoveryConfiguration(
///     friendlyName: "Living Room", peerID: peerID, port: 8737, txt: ["gen": "42"]))
/// try discovery.start()                        // succeeds even while avahi-daemon is down
/// Task { await peers.consume(discovery.events) } // a PeerTable merges the events into peers
/// try discovery.updateTXT(["gen": "43"])       // rate limited; the latest value wins
/// discovery.stop()                             // goodbyes, every Avahi object freed
/// ```
///
/// The service is announced on every interface avahi-daemon uses, over IPv4 and IPv6, with the TXT record
/// described in ``MediapeerTXT``. Browsing covers the same service type on all interfaces and both IP versions;
/// each instance (name × interface × IP version) is resolved and reported on ``events``, and our own registration
/// is never reported.
///
/// avahi-daemon may be missing, stopped or restarted at any time: the instance reconnects by itself, announces
/// again and browses again (``DiscoveryEvent/daemonDown`` / ``DiscoveryEvent/daemonUp`` tell when). When another
/// box on the network uses the same instance name, Avahi's alternative (`Living Room #2`) is taken and reported
/// as ``DiscoveryEvent/nameChanged(from:to:)``; ``state`` always has the name in use.
///
/// Threads and timers: Avahi runs on a thread of its own (an `AvahiThreadedPoll`) that sleeps in `poll(2)` while
/// nothing happens on the network. The only timers are one-shot: a TXT update held back by the rate limit, and a
/// reconnection after the daemon or the system bus went away. An idle instance never wakes up on its own.
///
/// An instance runs once: ``start()``, then ``stop()`` (or its release). Its methods may be called from any
/// thread or task.
public final class MDNSDiscovery: Sendable {
    /// What is announced and browsed.
    public let configuration: DiscoveryConfiguration

    /// Every discovery event, in order, from ``start()`` until ``stop()`` finishes the stream.
    ///
    /// Iterate it from one task only (it is an `AsyncStream`); ``PeerTable/consume(_:)`` is the usual reader.
    /// Events are buffered, none dropped, while nobody reads.
    public let events: AsyncStream<DiscoveryEvent>

    private let engine: AvahiEngine
    private let lifecycle = Mutex(Lifecycle.created)

    private enum Lifecycle {
        case created, running, stopped
    }

    /// Checks the configuration and prepares Avahi's event loop; nothing is announced until ``start()``.
    ///
    /// - throws: ``DiscoveryError/invalidConfiguration(_:)`` or ``DiscoveryError/invalidTXT(key:reason:)`` for a
    ///   configuration that cannot be announced, ``DiscoveryError/eventLoopUnavailable(_:)`` if Avahi's event
    ///   loop cannot be created.
    public init(configuration: DiscoveryConfiguration, logger: Logger = Logger(label: "mediapeer.discovery"))
        throws(DiscoveryError)
    {
        try configuration.validate()
        self.configuration = configuration
        let (events, continuation) = AsyncStream.makeStream(of: DiscoveryEvent.self, bufferingPolicy: .unbounded)
        self.events = events
        engine = try AvahiEngine(configuration: configuration, logger: logger, continuation: continuation)
    }

    deinit {
        stop()
    }

    /// Starts announcing and browsing.
    ///
    /// It succeeds whether or not avahi-daemon runs: without it ``state`` says the daemon is down, a
    /// ``DiscoveryEvent/daemonDown`` event is sent, and announcing and browsing begin when it appears.
    ///
    /// - throws: ``DiscoveryError/alreadyStarted`` on a second call or after ``stop()``;
    ///   ``DiscoveryError/eventLoopUnavailable(_:)`` if Avahi's thread cannot be started.
    public func start() throws(DiscoveryError) {
        try lifecycle.withLock { (lifecycle: inout Lifecycle) throws(DiscoveryError) in
            guard lifecycle == .created else { throw .alreadyStarted }
            try engine.start()
            lifecycle = .running
        }
    }

    /// Replaces the TXT keys besides `id`, `v`, `port` and `name` (which come from the configuration), for
    /// example `["gen": "43"]` when the catalog changed.
    ///
    /// Updates are rate limited: at most one goes on the wire per
    /// ``DiscoveryConfiguration/txtUpdateInterval``. One requested sooner is held back and sent when the interval
    /// is over, and when several are requested meanwhile only the latest is sent. While avahi-daemon is down or
    /// our name is being probed, the latest value is kept and announced when registration completes. Before
    /// ``start()`` it sets what will be announced; after ``stop()`` it does nothing.
    ///
    /// - throws: ``DiscoveryError/invalidTXT(key:reason:)`` for a reserved key, a malformed key, or a record too
    ///   long for one packet; the announced record is then left as it was.
    public func updateTXT(_ txt: [String: String]) throws(DiscoveryError) {
        var candidate = configuration
        candidate.txt = txt
        try candidate.validate()
        lifecycle.withLock { lifecycle in
            guard lifecycle != .stopped else { return }
            engine.updateTXT(txt)
        }
    }

    /// The instance name in use, and whether avahi-daemon is reachable and our service registered.
    public var state: DiscoveryState {
        engine.published.withLock { $0 }
    }

    /// Withdraws our service (Avahi sends goodbye packets, so peers see us leave within about a second), frees
    /// every Avahi object, stops Avahi's thread and finishes ``events``. Calling it again does nothing.
    public func stop() {
        lifecycle.withLock { lifecycle in
            switch lifecycle {
            case .created:
                lifecycle = .stopped
                engine.finishWithoutStarting()
            case .running:
                lifecycle = .stopped
                engine.shutdown()
            case .stopped:
                break
            }
        }
    }
}
