import ArgumentParser
import BoxIdentity
import CSystemShims
import ControlAPI
import ControlWire
import Discovery
import Foundation
import Household
import Logging
import MediaIndex
import MediaServer
import MediapeerConfig
import PeerProtocol
import PlayerEndpoint
import Replication
import SSDP
import ServiceLifecycle

/// `mediapeerd`: indexes the box's media folders and serves the control API until SIGTERM or SIGINT.
public struct Daemon: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mediapeerd",
        abstract: "The mediapeer daemon: indexes this box's media and shares it with the other boxes of the home.",
        discussion: Daemon.discussion,
        version: MediapeerVersion.string)

    @Option(name: .long, help: ArgumentHelp("The configuration file.", valueName: "path"))
    var config: String?

    public init() {}

    public func run() async throws {
        // Two arenas are plenty for a daemon whose threads mostly sleep, and keep bursts from staying resident.
        _ = mediapeer_limit_malloc_arenas(2)
        let configPath = config ?? MediapeerConfiguration.defaultPath
        let settings: MediapeerConfiguration
        do {
            settings = try MediapeerConfiguration.loadOrDefault(path: configPath, isExplicit: config != nil)
        } catch {
            FileHandle.standardError.write(
                Data((error.description + "\nmediapeerd: not started: fix the configuration above\n").utf8))
            throw ExitCode(78)  // EX_CONFIG, which systemd's RestartPreventExitStatus can name
        }
        let level = Logger.Level(rawValue: settings.logLevel.rawValue) ?? .info
        LoggingSystem.bootstrap { label in JournalLogHandler(label: label, level: level) }
        let logger = Logger(label: "mediapeerd")
        for warning in settings.warnings {
            logger.warning("\(warning.description)")
        }

        let environment = ProcessInfo.processInfo.environment
        let library: MediaLibrary
        do {
            library = try MediaLibrary(
                configuration: LibraryConfiguration(
                    mediaFolders: settings.mediaDirs, stateDirectory: settings.stateDir,
                    rescanInterval: settings.rescanInterval,
                    maxWatches: ProcessInfo.processInfo.environment["MEDIAPEER_MAX_WATCHES"].flatMap { Int($0) }),
                logger: logger)
        } catch .stateFolderNotWritable(let path, let reason) {
            logger.critical("\(IndexError.stateFolderNotWritable(path: path, reason: reason))")
            // Starting again every few seconds cannot help until someone fixes the folder (systemd's unit names
            // this status in RestartPreventExitStatus).
            throw ExitCode(73)  // EX_CANTCREAT
        } catch {
            logger.critical("cannot open the media index", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
        let identity: BoxIdentity
        do {
            identity = try PeerIdentity.loadOrCreate(stateDirectory: settings.stateDir, logger: logger)
        } catch {
            logger.critical(
                "cannot read or create the box's identity",
                metadata: ["state_dir": "\(settings.stateDir)", "error": "\(error)"])
            library.shutdown()
            throw ExitCode.failure
        }
        let peerID = identity.peerID
        let householdFile = HouseholdFile(stateDirectory: settings.stateDir)
        let membership: HouseholdMembership
        do {
            membership = HouseholdMembership(try householdFile.load())
        } catch {
            logger.critical("cannot read the household file", metadata: ["error": "\(error)"])
            library.shutdown()
            throw ExitCode.failure
        }
        let peerClient: PeerClient
        do {
            peerClient = PeerClient(
                trust: try PeerTrust(identity: identity, refusal: { membership.outgoingRefusal($0) }))
        } catch {
            logger.critical("cannot set up the TLS client with the box's key", metadata: ["error": "\(error)"])
            library.shutdown()
            throw ExitCode.failure
        }
        let demand = DemandLedger(
            catalog: library.catalog,
            configuration: DemandLedger.Configuration(
                halfLife: settings.demandHalfLife,
                flushInterval: environment["MEDIAPEER_DEMAND_FLUSH_MS"].flatMap { Int($0) }.map { .milliseconds($0) }
                    ?? DemandLedger.Configuration().flushInterval),
            logger: logger)
        let households = Households(
            identity: identity, name: settings.name, file: householdFile, membership: membership, client: peerClient,
            // Tests shorten a pairing code's life to see it expire.
            pairingValidity: environment["MEDIAPEER_PAIRING_CODE_MS"].flatMap { Int($0) }.map { .milliseconds($0) }
                ?? PairingDesk.defaultValidity,
            logger: logger)
        let network: PeerNetwork
        do {
            let healthMilliseconds = ProcessInfo.processInfo.environment["MEDIAPEER_HEALTH_INTERVAL_MS"].flatMap {
                Int($0)
            }
            network = try PeerNetwork(
                name: settings.name, peerID: peerID, port: settings.httpPort, staticPeers: settings.staticPeers,
                healthInterval: healthMilliseconds.map { .milliseconds($0) } ?? .seconds(10),
                catalogs: CatalogSync.Configuration(
                    limits: RemoteCatalogLimits(
                        maxObjects: settings.peerCatalogMaxObjects, maxBytes: settings.peerCatalogMaxBytes),
                    forgetPeersAfter: settings.forgetPeersAfter),
                demand: demand, library: library, client: peerClient, households: households, logger: logger)
        } catch {
            logger.critical("cannot set up discovery", metadata: ["error": "\(error)"])
            library.shutdown()
            throw ExitCode.failure
        }
        let locator = Locator(
            ownID: peerID, ownName: settings.name, catalog: library.catalog, neighbourhood: network,
            client: peerClient, logger: logger)
        let objects = ServableObjects(
            catalog: library.catalog, layout: ReplicaLayout(cacheDirectory: settings.cacheDir))
        let fetcher = Fetcher(
            catalog: library.catalog, cacheDirectory: settings.cacheDir,
            settings: ReplicationSettings(ReplicationSettings.Values(settings)), directory: locator, serving: objects,
            client: peerClient,
            chunkTimeoutSeconds: environment["MEDIAPEER_CHUNK_TIMEOUT_S"].flatMap { Int64($0) } ?? 20, logger: logger)
        let replicator = AutoReplicator(
            thisBox: peerID, catalog: library.catalog, fetcher: fetcher, demand: demand, neighbourhood: network,
            settings: fetcher.settings, configuration: Self.replicatorConfiguration(environment), logger: logger)
        await fetcher.observeFetchEnds { _ in replicator.nudge() }
        await demand.observeChanges { replicator.nudge() }
        let handler = LibraryControlHandler(
            library: library, name: settings.name, peerID: peerID, httpPort: settings.httpPort,
            playerPort: settings.playerPort, configPath: configPath,
            stateDirectory: settings.stateDir, startedAt: .now, network: network, locator: locator, fetcher: fetcher,
            objects: objects, resolver: ReferenceResolver(catalog: library.catalog, neighbourhood: network),
            demand: demand, demandHalfLife: settings.demandHalfLife, replicator: replicator, households: households)
        let peerServer: any Service
        do {
            peerServer = try PeerServer.makeApplication(
                port: settings.httpPort, handler: handler, identity: identity, logger: logger,
                faults: Self.testFaults(environment, logger: logger),
                onListening: { port in logger.info("peer API listening", metadata: ["port": "\(port)"]) })
        } catch {
            logger.critical("cannot set up the peer API's TLS with the box's key", metadata: ["error": "\(error)"])
            library.shutdown()
            throw ExitCode.failure
        }
        let playerNetworks = PlayerNetworks(settings.allowedNetworks)
        let playerRefusal = PlayerServer.makeRefusal(allowsClient: playerNetworks.allows(clientIP:))
        let playerServer = PlayerServer.makeApplication(
            port: settings.playerPort,
            handler: PlayerRequests(
                catalog: library.catalog, objects: objects, neighbourhood: network, fetcher: fetcher, demand: demand,
                client: peerClient, logger: logger),
            upnp: settings.dlna ? Self.mediaServer(peerID, settings, library, network) : nil,
            refusal: playerRefusal, logger: logger,
            onListening: { port in
                logger.info(
                    "player endpoint listening",
                    metadata: [
                        "port": "\(port)",
                        "allowed_networks": "\(playerNetworks.networks)",
                    ])
            })
        let notifier = SystemdNotifier()
        let controlServer: any Service
        do {
            controlServer = try ControlServer.makeApplication(
                socketPath: settings.controlSocket, handler: handler, logger: logger,
                onListening: {
                    logger.info("control API listening", metadata: ["socket": "\(settings.controlSocket)"])
                    // The index is open and the control socket answers: ready, as far as systemd is concerned.
                    notifier.notify("READY=1\nSTATUS=indexing the media folders")
                })
        } catch {
            logger.critical("cannot start the control API", metadata: ["error": "\(error)"])
            library.shutdown()
            throw ExitCode.failure
        }

        logger.info(
            "mediapeerd starting",
            metadata: [
                "version": "\(MediapeerVersion.string)", "name": "\(settings.name)", "peer_id": "\(peerID)",
                "config": "\(configPath)",
                "media_dirs": "\(settings.mediaDirs.joined(separator: ","))", "state_dir": "\(settings.stateDir)",
            ])
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if notifier.isActive, let interval = SystemdNotifier.watchdogInterval() {
            services.append(
                .init(
                    service: SystemdWatchdogService(notifier: notifier, interval: interval) {
                        guard let status = try? await handler.status() else { return nil }
                        return
                            "\(status.library.files) files, \(status.peerCount) peers, scan \(status.scan.phase.rawValue)"
                    }))
        }
        services.append(
            .init(
                service: await ConfigReloader(
                    configPath: configPath, isExplicit: config != nil, running: settings, library: library,
                    fetcher: fetcher, playerNetworks: playerNetworks, playerRefusal: playerRefusal, logger: logger)))
        services.append(.init(service: IdleMemoryTrimmer(library: library, logger: logger)))
        // Services stop in reverse order: the control API first, then the fetches and the catalog syncs, and the
        // index, whose database closes last.
        let group = ServiceGroup(
            configuration: .init(
                services: services + [
                    .init(service: IndexService(library: library)), .init(service: peerServer),
                    .init(service: playerServer), .init(service: households), .init(service: network),
                    .init(service: network.catalogSync), .init(service: ReplicationService(fetcher: fetcher)),
                    // After the index (so its last figures are written before the database closes) and the network.
                    .init(service: demand), .init(service: network.demandSync),
                    // After the fetcher and the demand it reads, so it stops first.
                    .init(service: replicator),
                    .init(service: controlServer),
                ]
                    // Last, so that its byebye goes out first at shutdown, before the rest stops answering.
                    + (settings.dlna
                        ? [.init(service: Self.ssdp(peerID, settings.playerPort, playerNetworks, logger))] : []),
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch {
            logger.critical("mediapeerd stopped on an error", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
        notifier.notify("STOPPING=1")
        logger.info("mediapeerd stopped")
    }
}

extension Daemon {
    /// The auto-replicator's timing; the tests shorten it (`MEDIAPEER_REPLICATION_INTERVAL_MS`, and
    /// `MEDIAPEER_REPLICATION_SETTLE_MS` for the wait after a change).
    static func replicatorConfiguration(_ environment: [String: String]) -> AutoReplicator.Configuration {
        var configuration = AutoReplicator.Configuration()
        if let interval = environment["MEDIAPEER_REPLICATION_INTERVAL_MS"].flatMap({ Int($0) }), interval > 0 {
            configuration.interval = .milliseconds(interval)
        }
        if let settle = environment["MEDIAPEER_REPLICATION_SETTLE_MS"].flatMap({ Int($0) }), settle >= 0 {
            configuration.settle = .milliseconds(settle)
        }
        return configuration
    }

    /// `MEDIAPEER_TEST_FAULTS=corrupt-objects` makes this box send corrupted object bytes: the test suite's lying
    /// peer. It is logged loudly, so it cannot go unnoticed on a real box.
    static func testFaults(_ environment: [String: String], logger: Logger) -> ServingFaults {
        guard let value = environment["MEDIAPEER_TEST_FAULTS"] else { return .none }
        let faults = ServingFaults(corruptBodies: value.split(separator: ",").contains("corrupt-objects"))
        logger.warning(
            "TEST FAULTS ENABLED: this box serves corrupted objects", metadata: ["MEDIAPEER_TEST_FAULTS": "\(value)"])
        return faults
    }
}

extension Daemon {
    /// The DLNA MediaServer TVs browse: the whole home, under the UUID SSDP announces.
    static func mediaServer(
        _ peerID: String, _ settings: MediapeerConfiguration, _ library: MediaLibrary, _ network: PeerNetwork
    ) -> MediaServerDevice {
        let friendlyName = settings.friendlyName ?? settings.name
        let tree = HomeMediaTree(
            library: library, peerID: peerID, name: settings.name, neighbours: { await network.neighbours() })
        return MediaServerDevice(
            uuid: UPnPDeviceIdentity.uuid(peerID: peerID), friendlyName: friendlyName, modelName: "mediapeer",
            modelNumber: MediapeerVersion.string, tree: tree, systemUpdateID: { await tree.systemUpdateID() })
    }

    /// SSDP for the MediaServer, answering only the searches of senders in `allowed_networks`.
    static func ssdp(_ peerID: String, _ playerPort: Int, _ networks: PlayerNetworks, _ logger: Logger) -> SSDPService {
        var configuration = SSDPConfiguration(
            deviceUUID: UPnPDeviceIdentity.uuid(peerID: peerID), descriptionPort: playerPort,
            server: SSDPConfiguration.serverString(version: MediapeerVersion.string))
        configuration.allowsSender = networks.allows(sender:)
        return SSDPService(configuration: configuration, transport: NIOSSDPTransport(logger: logger), logger: logger)
    }
}

/// Resumes unfinished fetches at start, and stops every fetch (recording its verified chunks) at shutdown.
struct ReplicationService: Service {
    let fetcher: Fetcher

    func run() async throws {
        await fetcher.resumeUnfinished()
        try? await gracefulShutdown()
        await fetcher.shutdown()
    }
}

/// Runs the library for as long as the service group runs.
struct IndexService: Service {
    let library: MediaLibrary

    func run() async throws {
        library.start()
        try? await gracefulShutdown()
        library.shutdown()
    }
}
