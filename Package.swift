// swift-tools-version:6.0
import PackageDescription

// One module per concern; see docs/ARCHITECTURE.md for how a request flows through them.
let package = Package(
    name: "mediapeer",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mediapeerd", targets: ["mediapeerd"]),
        .executable(name: "mediapeerctl", targets: ["mediapeerctl"]),
        // The packaged multi-call binary (mediapeerd and mediapeerctl are symlinks to it).
        .executable(name: "mediapeer", targets: ["mediapeer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        // Already in the graph through AsyncHTTPClient and swift-nio-extras: the peer API's mutual TLS and the box's
        // self-signed certificate.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.29.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.14.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.0.0"),
        // Already in the graph through Hummingbird; named here for the HTTP/1 codec the sendfile path writes below.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.20.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.24.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.10.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        // Test clocks only: production code takes any Clock<Duration> and is given ContinuousClock.
        .package(url: "https://github.com/pointfreeco/swift-clocks.git", from: "1.0.0"),
    ],
    targets: [
        // C libraries from Debian (libexif-dev, libtagc0-dev).
        .systemLibrary(name: "CExif", pkgConfig: "libexif", providers: [.apt(["libexif-dev"])]),
        .systemLibrary(name: "CTagLib", pkgConfig: "taglib_c", providers: [.apt(["libtagc0-dev"])]),
        .systemLibrary(name: "CAvahi", pkgConfig: "avahi-client", providers: [.apt(["libavahi-client-dev"])]),

        // The few Linux calls Swift cannot make directly (variadic syscall, inotify event layout).
        .target(name: "CSystemShims"),

        // The values both HTTP APIs speak (content ids, have-bitmaps, media kinds and metadata): the standard
        // library only, so the wire modules below stay free of hashing, C libraries and databases.
        .target(name: "WireVocabulary"),
        // The JSON of the peer protocol (info, catalog deltas, have-maps, locate answers, goodbyes) and its limits.
        .target(name: "PeerWire", dependencies: ["WireVocabulary"]),
        // The JSON of the control API (status, library and home pages, peers, fetches), its routes and coders:
        // what mediapeerctl and the daemon share, so the CLI links no library the daemon's domain needs.
        .target(name: "ControlWire", dependencies: ["WireVocabulary"]),
        // What a media file is: sniffing by magic bytes, photo/audio/video metadata readers.
        .target(name: "MediaProbe", dependencies: ["WireVocabulary", "CExif", "CTagLib", "CSystemShims"]),
        // Content identity: chunk manifests, hashing content into ids, and chunk verification.
        .target(
            name: "ContentID", dependencies: ["WireVocabulary", .product(name: "Crypto", package: "swift-crypto")]),
        // The box's identity: its P-256 key, self-signed certificate and key-derived peer id, and the TLS
        // configurations and verification that prove it to peers.
        .target(
            name: "BoxIdentity",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        // Households: signed rosters and their merge, pairing codes and proofs, who may do what (pure), and the
        // household file.
        .target(
            name: "Household",
            dependencies: [
                "BoxIdentity", "PeerWire", "ElapsedTime", .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // The TOML configuration file and its validation.
        .target(name: "MediapeerConfig", dependencies: ["TOMLKit", "CSystemShims"]),
        // The SQLite media index: schema, scanner, hasher, inotify watcher.
        .target(
            name: "MediaIndex",
            dependencies: [
                "MediaProbe", "ContentID", "WireVocabulary", "PeerWire", "ControlWire", "CSystemShims",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Which of a peer's addresses to try first: one rule for the peer table and the peer client alike.
        .target(name: "PeerAddresses"),
        // Any clock read as the time elapsed since an origin: the instants the pure cores reason in.
        .target(name: "ElapsedTime"),
        // Finding the other boxes: mDNS/DNS-SD through avahi-daemon, and the table of known peers.
        .target(
            name: "Discovery",
            dependencies: [
                "ControlWire", "CAvahi", "PeerAddresses", "ElapsedTime", "PeerWire", "WireVocabulary",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The server of the local control API (HTTP/JSON over a Unix socket): routes, validation, `ControlHandler`.
        .target(
            name: "ControlAPI",
            dependencies: [
                "ControlWire", "WireVocabulary", "HTTPService", "CSystemShims",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The client of the local control API, as mediapeerctl and the integration tests use it.
        .target(
            name: "ControlAPIClient",
            dependencies: [
                "ControlWire", "WireVocabulary",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]),
        // Hummingbird routers served as services without periodic timers (both HTTP APIs use it).
        .target(
            name: "HTTPService",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // Files sent over HTTP the same way by both servers: Range headers, 64-bit pread64 blocks below Hummingbird's
        // codec, and the watchdog that cuts off a client that stopped reading.
        .target(
            name: "HTTPFiles",
            dependencies: [
                "CSystemShims", "WireVocabulary",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            ]),
        // The peer HTTP API other boxes talk to: server and client (its JSON is in PeerWire).
        .target(
            name: "PeerProtocol",
            dependencies: [
                "BoxIdentity", "ContentID", "WireVocabulary", "PeerWire", "HTTPService", "HTTPFiles", "CSystemShims",
                "PeerAddresses",
                "ElapsedTime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Replication: the neighbours' catalogs, locating holders, and verified multi-source fetches into the cache.
        .target(
            name: "Replication",
            dependencies: [
                "ContentID", "WireVocabulary", "PeerWire", "ControlWire", "MediaIndex", "PeerProtocol",
                "MediapeerConfig", "ReplicationPolicy",
                "CSystemShims", "ElapsedTime",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Which titles a box copies and evicts, from the home's demand: pure and deterministic, no dependencies, so the
        // daemon's auto-replicator and the simulator run the same decisions.
        .target(name: "ReplicationPolicy"),
        // The DLNA/UPnP MediaServer TVs browse: device and service descriptions, SOAP controls (ContentDirectory,
        // ConnectionManager), DIDL-Lite. No server of its own: the player endpoint hands it `/upnp/` requests.
        .target(name: "MediaServer", dependencies: ["WireVocabulary"]),
        // What players reach, on a port of its own apart from the peer API: `/media/ID` streams (local files with
        // sendfile, remote titles while they are fetched), the playlist, and the MediaServer's HTTP side.
        .target(
            name: "PlayerEndpoint",
            dependencies: [
                "WireVocabulary", "MediaServer", "HTTPService", "HTTPFiles", "ElapsedTime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The kernel's interface and address events (rtnetlink), read on a thread of their own, and which of them
        // change what the box announces on its LAN.
        .target(name: "NetworkChanges", dependencies: ["CSystemShims"]),
        // SSDP for the MediaServer: announcements and answers to searches on the LAN interfaces (a pure responder and
        // its NIO driver), so TVs and control points find the box by themselves.
        .target(
            name: "SSDP",
            dependencies: [
                "ElapsedTime", "NetworkChanges",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The daemon: wires the services together and runs them until SIGTERM.
        .target(
            name: "MediapeerDaemon",
            dependencies: [
                "BoxIdentity", "Household", "MediapeerConfig", "MediaIndex", "ControlAPI", "PeerProtocol",
                "Replication",
                "Discovery",
                "CSystemShims", "PlayerEndpoint", "HTTPService", "MediaServer", "SSDP", "PeerAddresses",
                "ContentID", "WireVocabulary", "PeerWire", "ControlWire", "MediaProbe", "ElapsedTime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // The control CLI: the control API's client and wire types, and the configuration for `config check`.
        .target(
            name: "MediapeerCLI",
            dependencies: [
                "ControlAPIClient", "ControlWire", "WireVocabulary", "MediapeerConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "mediapeerd", dependencies: ["MediapeerDaemon"]),
        .executableTarget(name: "mediapeerctl", dependencies: ["MediapeerCLI"]),
        .executableTarget(name: "mediapeer", dependencies: ["MediapeerDaemon", "MediapeerCLI"]),

        // The hostile side of the integration tests' hostile-LAN suite: a fake peer speaking the real wire formats
        // badly on purpose, and bounded load generators. A test tool only: no product names it, so the package
        // (packaging/build-deb builds the `mediapeer` product alone) never ships it.
        .executableTarget(
            name: "mediapeer-hostile-peer",
            dependencies: [
                "PeerWire", "WireVocabulary", "ContentID", "BoxIdentity",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tests/HostilePeer"),
        // The replication simulator: a generated household replayed on virtual time against the baselines and
        // ReplicationPolicy (scripts/bench-replication). A benchmark tool only: no product names it.
        .target(name: "ReplicationSimulation", dependencies: ["ReplicationPolicy"]),
        .executableTarget(
            name: "mediapeer-sim",
            dependencies: [
                "ReplicationSimulation", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // posix_spawn children for the test harnesses (Foundation's Process crashed the runner under load).
        .target(name: "TestChildProcess", path: "Tests/TestChildProcess"),
        .testTarget(name: "MediaProbeTests", dependencies: ["MediaProbe", "WireVocabulary", "TestChildProcess"]),
        .testTarget(name: "ContentIDTests", dependencies: ["ContentID", "WireVocabulary"]),
        .testTarget(
            name: "BoxIdentityTests",
            dependencies: [
                "BoxIdentity", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .testTarget(
            name: "HouseholdTests", dependencies: ["Household", "BoxIdentity", "PeerWire", "ElapsedTime"]),
        .testTarget(name: "ReplicationPolicyTests", dependencies: ["ReplicationPolicy"]),
        // The MediaServer's XML reader, SOAP controls, DIDL-Lite and tree, over a fake tree source.
        .testTarget(name: "MediaServerTests", dependencies: ["MediaServer", "WireVocabulary"]),
        .testTarget(name: "MediapeerConfigTests", dependencies: ["MediapeerConfig"]),
        // mediapeerctl's human output, and the escaping of control characters it shares with the daemon's log.
        .testTarget(name: "MediapeerCLITests", dependencies: ["MediapeerCLI", "WireVocabulary"]),
        .testTarget(
            name: "MediaIndexTests",
            dependencies: [
                "MediaIndex", "WireVocabulary", "PeerWire",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "DiscoveryTests",
            dependencies: [
                "Discovery", "ControlWire", "PeerAddresses", "TestChildProcess", "PeerWire",
                .product(name: "Clocks", package: "swift-clocks"),
            ]),
        .testTarget(
            name: "PeerProtocolTests",
            dependencies: [
                "BoxIdentity", "PeerProtocol", .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), "PeerWire", "ContentID",
                "WireVocabulary", "ElapsedTime", "HTTPFiles",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Clocks", package: "swift-clocks"),
            ]),
        .testTarget(
            name: "ReplicationTests",
            dependencies: [
                "Replication", "ContentID", "WireVocabulary", "PeerWire", "MediaIndex", "PeerProtocol", "ElapsedTime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "Clocks", package: "swift-clocks"), .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .testTarget(name: "NetworkChangesTests", dependencies: ["NetworkChanges"]),
        .testTarget(
            name: "SSDPTests",
            dependencies: [
                "SSDP", "ElapsedTime", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "Clocks", package: "swift-clocks"),
            ]),
        .testTarget(
            name: "PlayerEndpointTests",
            dependencies: [
                "PlayerEndpoint", "MediaServer", "WireVocabulary", "HTTPFiles",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Clocks", package: "swift-clocks"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "ControlAPITests",
            dependencies: [
                "ControlAPI", "ControlWire", "WireVocabulary",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "HTTPServiceTests",
            dependencies: [
                "HTTPService",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "ReplicationSimulationTests", dependencies: ["ReplicationSimulation", "ReplicationPolicy"]),
        // Drives the real executables; it needs only the control API's JSON to read what `mediapeerctl --json` prints.
        .testTarget(name: "IntegrationTests", dependencies: ["ControlWire", "WireVocabulary", "TestChildProcess"]),
    ]
)
