import Foundation
import HTTPService
import Logging
import MediaIndex
import MediapeerConfig
import Replication
import ServiceLifecycle
import UnixSignals

/// `systemctl reload mediapeerd` (SIGHUP): reads the configuration file again and applies the media folders, so
/// a folder added to `media_dirs` is scanned and one removed is dropped from the index without a restart, and the
/// cache's settings (`cache_max`, `replication`, the watermarks, `replication_daily_budget`), which the fetcher
/// and the auto-replicator read from ``ReplicationSettings``: running fetches check at once that they still fit.
/// `allowed_networks` applies to the player endpoint's next connection and SSDP's next search, and the player
/// connections open from addresses it no longer allows are closed (a TV taken out of the list stops streaming now,
/// not at its next reconnection).
/// Other keys (name, ports, paths) are bound to open sockets and files: a change to them is reported as needing a
/// restart. A file that no longer loads leaves the running configuration in place.
struct ConfigReloader: Service {
    let configPath: String
    let isExplicit: Bool
    let running: MediapeerConfiguration
    let library: MediaLibrary
    let fetcher: Fetcher
    let playerNetworks: PlayerNetworks
    let playerRefusal: ClientRefusal
    let logger: Logger
    /// Created with the reloader, before the service group runs and so before READY=1, after which systemd may
    /// send SIGHUP. The initializer returns once Dispatch has installed its handler (registration is asynchronous;
    /// until it is done the default action, terminate, is still in force): from then on the signal no longer
    /// terminates the daemon.
    private let hangups: UnixSignalsSequence

    init(
        configPath: String, isExplicit: Bool, running: MediapeerConfiguration, library: MediaLibrary, fetcher: Fetcher,
        playerNetworks: PlayerNetworks, playerRefusal: ClientRefusal, logger: Logger
    ) async {
        self.configPath = configPath
        self.isExplicit = isExplicit
        self.running = running
        self.library = library
        self.fetcher = fetcher
        self.playerNetworks = playerNetworks
        self.playerRefusal = playerRefusal
        self.logger = logger
        hangups = await UnixSignalsSequence(trapping: .sighup)
    }

    func run() async throws {
        for await _ in hangups.cancelOnGracefulShutdown() {
            await reload()
        }
    }

    func reload() async {
        logger.info("SIGHUP: reloading the configuration", metadata: ["config": "\(configPath)"])
        let settings: MediapeerConfiguration
        do {
            settings = try MediapeerConfiguration.loadOrDefault(path: configPath, isExplicit: isExplicit)
        } catch {
            logger.error(
                "the configuration no longer loads; keeping the running one",
                metadata: ["problems": "\(error.description)"])
            return
        }
        for warning in settings.warnings { logger.warning("\(warning.description)") }
        let needRestart = Self.keysNeedingRestart(running: running, loaded: settings)
        if !needRestart.isEmpty {
            logger.warning(
                "changed settings take effect at the next restart",
                metadata: ["keys": "\(needRestart.joined(separator: ","))"])
        }
        if let scan = library.reconfigure(mediaFolders: settings.mediaDirs) {
            logger.info(
                "media folders changed; scanning",
                metadata: [
                    "media_dirs": "\(settings.mediaDirs.joined(separator: ","))", "scan": "\(scan)",
                ])
        } else {
            logger.info("media folders unchanged")
        }
        let cache = ReplicationSettings.Values(settings)
        if fetcher.settings.update(cache) {
            logger.info(
                "cache settings applied",
                metadata: [
                    "cache_max": "\(cache.cacheLimit)", "replication": "\(cache.mode.rawValue)",
                    "cache_high_watermark": "\(cache.highWatermark)", "cache_low_watermark": "\(cache.lowWatermark)",
                    "replication_daily_budget": "\(cache.dailyBudget)",
                ])
            await fetcher.settingsChanged()
        }
        if playerNetworks.update(settings.allowedNetworks) {
            let closed = playerRefusal.closeConnectionsRefusedNow()
            logger.info(
                "allowed_networks applied",
                metadata: [
                    "allowed_networks": "\(settings.allowedNetworks)",
                    "closed_player_connections": "\(closed.count)",
                    "closed_for": "\(Set(closed).sorted().joined(separator: ","))",
                ])
        }
    }

    /// The keys a reload cannot apply whose value differs from the one the daemon started with.
    static func keysNeedingRestart(running: MediapeerConfiguration, loaded: MediapeerConfiguration) -> [String] {
        var keys: [String] = []
        if running.name != loaded.name { keys.append("name") }
        if running.stateDir != loaded.stateDir { keys.append("state_dir") }
        if running.cacheDir != loaded.cacheDir { keys.append("cache_dir") }
        if running.httpPort != loaded.httpPort { keys.append("http_port") }
        if running.controlSocket != loaded.controlSocket { keys.append("control_socket") }
        if running.logLevel != loaded.logLevel { keys.append("log_level") }
        if running.staticPeers != loaded.staticPeers { keys.append("static_peers") }
        if running.rescanInterval != loaded.rescanInterval { keys.append("rescan_interval") }
        return keys
    }
}
