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
        // Already in the graph through Hummingbird; named here for the HTTP/1 codec the sendfile path writes below.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.20.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.24.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.10.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        // Tests only: TestClock, so timer tests advance virtual time instead of sleeping.
        .package(url: "https://github.com/pointfreeco/swift-clocks.git", from: "1.0.0"),
    ],
    targets: [
        // C libraries from Debian (libexif-dev, libtagc0-dev).
        .systemLibrary(name: "CExif", pkgConfig: "libexif", providers: [.apt(["libexif-dev"])]),
        .systemLibrary(name: "CTagLib", pkgConfig: "taglib_c", providers: [.apt(["libtagc0-dev"])]),
        .systemLibrary(name: "CAvahi", pkgConfig: "avahi-client", providers: [.apt(["libavahi-client-dev"])]),

        // The few Linux calls Swift cannot make directly (variadic syscall, inotify event layout).
        .target(name: "CSystemShims"),

        // What a media file is: sniffing by magic bytes, photo/audio/video metadata readers.
        .target(name: "MediaProbe", dependencies: ["CExif", "CTagLib"]),
        // Content identity: chunk manifests, content ids and chunk verification.
        .target(name: "ContentID", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // The TOML configuration file and its validation.
        .target(name: "MediapeerConfig", dependencies: ["TOMLKit"]),
        // The SQLite media index: schema, scanner, hasher, inotify watcher.
        .target(name: "MediaIndex", dependencies: [
            "MediaProbe", "ContentID", "CSystemShims",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Which of a peer's addresses to try first: one rule for the peer table and the peer client alike.
        .target(name: "PeerAddresses"),
        // Finding the other boxes: mDNS/DNS-SD through avahi-daemon, and the table of known peers.
        .target(name: "Discovery", dependencies: [
            "CAvahi", "PeerAddresses", .product(name: "Logging", package: "swift-log"),
        ]),
        // The local control API (HTTP/JSON over a Unix socket): wire types, server routes, client.
        .target(name: "ControlAPI", dependencies: [
            "MediaIndex", "Discovery", "HTTPService", "Replication",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Hummingbird routers served as services without periodic timers (both HTTP APIs use it).
        .target(name: "HTTPService", dependencies: [
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The peer HTTP API other boxes talk to.
        .target(name: "PeerProtocol", dependencies: [
            "ContentID", "HTTPService", "MediaIndex", "CSystemShims", "PeerAddresses",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "_NIOFileSystem", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Replication: the neighbours' catalogs, locating holders, and verified multi-source fetches into the cache.
        .target(name: "Replication", dependencies: [
            "ContentID", "MediaIndex", "PeerProtocol", "MediapeerConfig", "CSystemShims",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The daemon: wires the services together and runs them until SIGTERM.
        .target(name: "MediapeerDaemon", dependencies: [
            "MediapeerConfig", "MediaIndex", "ControlAPI", "PeerProtocol", "Replication", "Discovery", "CSystemShims",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The control CLI.
        .target(name: "MediapeerCLI", dependencies: [
            "ControlAPI", "MediapeerConfig", "Discovery", "Replication", "ContentID",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "mediapeerd", dependencies: ["MediapeerDaemon"]),
        .executableTarget(name: "mediapeerctl", dependencies: ["MediapeerCLI"]),
        .executableTarget(name: "mediapeer", dependencies: ["MediapeerDaemon", "MediapeerCLI"]),

        // posix_spawn children for the test harnesses (Foundation's Process crashed the runner under load).
        .target(name: "TestChildProcess", path: "Tests/TestChildProcess"),
        .testTarget(name: "MediaProbeTests", dependencies: ["MediaProbe", "TestChildProcess"]),
        .testTarget(name: "ContentIDTests", dependencies: ["ContentID"]),
        .testTarget(name: "MediapeerConfigTests", dependencies: ["MediapeerConfig"]),
        .testTarget(name: "MediaIndexTests", dependencies: ["MediaIndex", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "DiscoveryTests", dependencies: [
            "Discovery", "PeerAddresses", "TestChildProcess", .product(name: "Clocks", package: "swift-clocks"),
        ]),
        .testTarget(name: "PeerProtocolTests", dependencies: [
            "PeerProtocol", "ContentID", "MediaIndex", .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "ReplicationTests", dependencies: [
            "Replication", "ContentID", "MediaIndex", "PeerProtocol", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "IntegrationTests", dependencies: ["ControlAPI", "MediaIndex", "Replication", "ContentID", "TestChildProcess"]),
    ]
)
