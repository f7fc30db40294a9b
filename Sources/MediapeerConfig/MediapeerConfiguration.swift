/// The settings of mediapeerd, as read from its TOML configuration file.
///
/// Load the file with ``load(path:checkFileSystem:)``, or, in the daemon,
/// with ``loadOrDefault(path:isExplicit:checkFileSystem:)``, which accepts a
/// missing file at the default path:
///
/// ```swift
/// let config = try MediapeerConfiguration.loadOrDefault(
///     path: options.config ?? MediapeerConfiguration.defaultPath,
///     isExplicit: options.config != nil)
/// for warning in config.warnings {
///     logger.warning("\(warning)")
/// }
/// ```
///
/// Loading validates every key and reports all problems at once in a
/// ``ConfigError``. Unknown keys and values of the wrong type are errors,
/// not silently ignored, because a misspelt key would otherwise leave its
/// setting at the default without anyone noticing.
///
/// Values read from a file are valid. Values set in code are not checked,
/// which lets tests use, for example, temporary directories that a file
/// would not be allowed to name.
public struct MediapeerConfiguration: Sendable, Equatable {
    /// Where mediapeerd and mediapeerctl look for the configuration file
    /// when none is given with `--config`.
    public static let defaultPath = "/etc/mediapeer/mediapeer.toml"

    /// The friendly name other peers show for this box (`name`).
    ///
    /// It becomes the DNS-SD instance name, so it is 1 to 63 bytes of UTF-8
    /// without control characters. The default is ``defaultName``.
    public var name: String

    /// The directories whose media are shared (`media_dirs`): absolute,
    /// existing, readable, and none inside another.
    public var mediaDirs: [String]

    /// Where the media index and other persistent state live (`state_dir`).
    /// mediapeerd creates it if it does not exist.
    public var stateDir: String

    /// Where cached data lives (`cache_dir`). mediapeerd creates it if it does not exist.
    public var cacheDir: String

    /// How much space the cache may use (`cache_max`).
    public var cacheMax: CacheLimit

    /// Whether this box copies popular titles into its cache by itself (`replication`).
    public var replication: ReplicationMode

    /// The share of ``cacheMax`` above which automatic replication starts evicting (`cache_high_watermark`),
    /// above ``cacheLowWatermark`` and at most 1.
    public var cacheHighWatermark: Double

    /// The share of ``cacheMax`` eviction brings the cache down to once it passed the high watermark
    /// (`cache_low_watermark`), more than 0 and below ``cacheHighWatermark``.
    public var cacheLowWatermark: Double

    /// The most bytes automatic replication may write into the cache in a day (`replication_daily_budget`).
    /// SD cards and eMMC wear out with writes, and churn that copies and evicts the same titles is waste.
    public var replicationDailyBudget: Int64

    /// The TCP port of the peer HTTP server (`http_port`).
    public var httpPort: Int

    /// The TCP port of the player endpoint (`player_port`): `/media/ID` streams, the playlist and, when
    /// ``dlna`` is on, the UPnP MediaServer's descriptions and controls. Plain HTTP, apart from the peer API.
    public var playerPort: Int

    /// Whether TVs find this box by SSDP as a DLNA/UPnP MediaServer (`dlna`).
    public var dlna: Bool

    /// The name TVs list this box's MediaServer under (`friendly_name`); nil: the box's ``name``.
    public var friendlyName: String?

    /// The networks players may connect from (`allowed_networks`): the player endpoint, the MediaServer's HTTP
    /// side and SSDP answer no other address. Players cannot authenticate; the default is the home's private,
    /// link-local and loopback ranges (``AllowedNetworks/home``). Empty: no other device may connect.
    public var allowedNetworks: AllowedNetworks

    /// The program and arguments `mediapeerctl play` hands a title's URL to (`player_command`); nil: none set.
    public var playerCommand: [String]?

    /// The path of the Unix socket of the control API (`control_socket`).
    /// mediapeerd creates its directory if it does not exist.
    public var controlSocket: String

    /// The least severe messages that are logged (`log_level`).
    public var logLevel: LogLevel

    /// Peers to contact without waiting for DNS-SD discovery (`static_peers`).
    public var staticPeers: [PeerAddress]

    /// How often to rescan the media directories, for file systems where
    /// inotify misses changes, such as network mounts (`rescan_interval`).
    /// Whole seconds; nil means never.
    public var rescanInterval: Duration?

    /// The most objects this box keeps of one neighbour's catalog (`peer_catalog_max_objects`), so that a peer
    /// listing endless entries cannot fill the index. At least 1.
    public var peerCatalogMaxObjects: Int

    /// The most bytes this box keeps of one neighbour's catalog (`peer_catalog_max_bytes`): the UTF-8 bytes of the
    /// stored strings plus 64 bytes per object. At least 1.
    public var peerCatalogMaxBytes: Int64

    /// How long a neighbour may stay unseen before its catalog is deleted (`forget_peers_after`).
    /// Whole seconds; nil means never.
    public var forgetPeersAfter: Duration?

    /// How long a play, a fetch or a served request takes to count half as much (`demand_half_life`). Whole
    /// seconds, never zero.
    public var demandHalfLife: Duration

    /// Things in the file that are allowed but probably not what was meant,
    /// such as an empty `media_dirs`. Log them at startup.
    ///
    /// Warnings describe the file, not the configuration, so they are
    /// ignored when two configurations are compared with `==`.
    public var warnings: [ConfigProblem]

    /// Creates a configuration. Every parameter defaults to the value used
    /// when the configuration file does not set it. Values are not checked.
    public init(
        name: String = MediapeerConfiguration.defaultName,
        mediaDirs: [String] = [],
        stateDir: String = "/var/lib/mediapeer",
        cacheDir: String = "/var/cache/mediapeer",
        cacheMax: CacheLimit = .percentOfFilesystem(20),
        replication: ReplicationMode = .auto,
        cacheHighWatermark: Double = 0.90,
        cacheLowWatermark: Double = 0.80,
        // A day of replication is a few films; an SD card or eMMC rated for a few hundred full writes lasts
        // years at this rate, where unbounded churn could wear it out in months.
        replicationDailyBudget: Int64 = 20_000_000_000,
        httpPort: Int = 8737,
        playerPort: Int = 8738,
        dlna: Bool = true,
        friendlyName: String? = nil,
        allowedNetworks: AllowedNetworks = .home,
        playerCommand: [String]? = nil,
        controlSocket: String = "/run/mediapeer/control.sock",
        logLevel: LogLevel = .info,
        staticPeers: [PeerAddress] = [],
        rescanInterval: Duration? = nil,
        peerCatalogMaxObjects: Int = 100_000,
        peerCatalogMaxBytes: Int64 = 64 << 20,
        forgetPeersAfter: Duration? = .seconds(14 * 86_400),
        demandHalfLife: Duration = .seconds(7 * 86_400),
        warnings: [ConfigProblem] = []
    ) {
        self.name = name
        self.mediaDirs = mediaDirs
        self.stateDir = stateDir
        self.cacheDir = cacheDir
        self.cacheMax = cacheMax
        self.replication = replication
        self.cacheHighWatermark = cacheHighWatermark
        self.cacheLowWatermark = cacheLowWatermark
        self.replicationDailyBudget = replicationDailyBudget
        self.httpPort = httpPort
        self.playerPort = playerPort
        self.dlna = dlna
        self.friendlyName = friendlyName
        self.allowedNetworks = allowedNetworks
        self.playerCommand = playerCommand
        self.controlSocket = controlSocket
        self.logLevel = logLevel
        self.staticPeers = staticPeers
        self.rescanInterval = rescanInterval
        self.peerCatalogMaxObjects = peerCatalogMaxObjects
        self.peerCatalogMaxBytes = peerCatalogMaxBytes
        self.forgetPeersAfter = forgetPeersAfter
        self.demandHalfLife = demandHalfLife
        self.warnings = warnings
    }

    /// The name used when the file sets none: the host name, cut to the 63
    /// bytes a DNS-SD instance name allows, or `mediapeer` if the host has no name.
    public static var defaultName: String {
        guard let hostName = FileSystem.hostName() else { return "mediapeer" }
        var name = ""
        for character in hostName {
            guard name.utf8.count + String(character).utf8.count <= 63 else { break }
            name.append(character)
        }
        return name
    }

    /// Compares every setting, but not ``warnings``.
    public static func == (lhs: MediapeerConfiguration, rhs: MediapeerConfiguration) -> Bool {
        lhs.name == rhs.name
            && lhs.mediaDirs == rhs.mediaDirs
            && lhs.stateDir == rhs.stateDir
            && lhs.cacheDir == rhs.cacheDir
            && lhs.cacheMax == rhs.cacheMax
            && lhs.replication == rhs.replication
            && lhs.cacheHighWatermark == rhs.cacheHighWatermark
            && lhs.cacheLowWatermark == rhs.cacheLowWatermark
            && lhs.replicationDailyBudget == rhs.replicationDailyBudget
            && lhs.httpPort == rhs.httpPort
            && lhs.playerPort == rhs.playerPort
            && lhs.dlna == rhs.dlna
            && lhs.friendlyName == rhs.friendlyName
            && lhs.allowedNetworks == rhs.allowedNetworks
            && lhs.playerCommand == rhs.playerCommand
            && lhs.controlSocket == rhs.controlSocket
            && lhs.logLevel == rhs.logLevel
            && lhs.staticPeers == rhs.staticPeers
            && lhs.rescanInterval == rhs.rescanInterval
            && lhs.peerCatalogMaxObjects == rhs.peerCatalogMaxObjects
            && lhs.peerCatalogMaxBytes == rhs.peerCatalogMaxBytes
            && lhs.forgetPeersAfter == rhs.forgetPeersAfter
            && lhs.demandHalfLife == rhs.demandHalfLife
    }
}

// MARK: - Loading

extension MediapeerConfiguration {
    /// Reads and validates a configuration file.
    ///
    /// ```swift
    /// let config = try MediapeerConfiguration.load(path: "/etc/mediapeer/mediapeer.toml")
    /// ```
    ///
    /// - parameter path: The configuration file. A missing file is an error;
    ///   see ``loadOrDefault(path:isExplicit:checkFileSystem:)``.
    /// - parameter checkFileSystem: Whether to check that the directories
    ///   the file names exist (see ``parse(_:sourceName:checkFileSystem:)``).
    /// - throws: A ``ConfigError`` with every problem found in the file, or
    ///   the reason the file could not be read.
    public static func load(path: String, checkFileSystem: Bool = true) throws(ConfigError) -> MediapeerConfiguration {
        let bytes: [UInt8]
        switch FileSystem.contents(of: path) {
        case .success(let contents):
            bytes = contents
        case .failure(let failure):
            throw ConfigError(problems: [
                ConfigProblem(source: path, message: "cannot read the configuration file: \(failure.reason)")
            ])
        }
        let text = String(decoding: bytes, as: UTF8.self)
        // Decoding replaces invalid UTF-8 with U+FFFD, which changes the bytes.
        if !text.utf8.elementsEqual(bytes) {
            let valid = zip(text.utf8, bytes).prefix { $0 == $1 }.count
            let line = bytes[..<valid].filter { $0 == UInt8(ascii: "\n") }.count + 1
            throw ConfigError(problems: [
                ConfigProblem(source: path, line: line, message: "the file is not UTF-8 text, as TOML requires")
            ])
        }
        return try parse(text, sourceName: path, checkFileSystem: checkFileSystem)
    }

    /// Reads and validates a configuration file, or uses the defaults when
    /// there is no file at a path the user did not choose.
    ///
    /// mediapeerd runs without a configuration file (sharing nothing until
    /// `media_dirs` is set), but a file named on the command line must exist,
    /// or a typo in `--config` would go unnoticed.
    ///
    /// - parameter path: The configuration file.
    /// - parameter isExplicit: Whether the user chose `path`, for example
    ///   with `--config`. If false and the file does not exist, the result is
    ///   the default configuration with a warning saying so.
    /// - parameter checkFileSystem: Whether to check that the directories the
    ///   configuration names exist.
    /// - throws: A ``ConfigError`` with every problem found.
    public static func loadOrDefault(
        path: String = defaultPath,
        isExplicit: Bool,
        checkFileSystem: Bool = true
    )
        throws(ConfigError) -> MediapeerConfiguration
    {
        guard !isExplicit, case .missing = FileSystem.lookup(path) else {
            return try load(path: path, checkFileSystem: checkFileSystem)
        }
        let note = ConfigProblem(
            severity: .warning, source: path,
            message: "no configuration file; using the built-in defaults")
        do throws(ConfigError) {
            var config = try parse("", sourceName: path, checkFileSystem: checkFileSystem)
            config.warnings.insert(note, at: 0)
            return config
        } catch {
            // The defaults themselves can fail (a missing /var/lib, say); say where they came from.
            throw ConfigError(problems: [note] + error.problems)
        }
    }

    /// Validates the text of a configuration file.
    ///
    /// ```swift
    /// let config = try MediapeerConfiguration.parse(
    ///     #"media_dirs = ["/srv/media"]"#,
    ///     sourceName: "example.toml")
    /// ```
    ///
    /// - parameter text: The TOML text.
    /// - parameter sourceName: The name problems are reported under,
    ///   usually the file's path.
    /// - parameter checkFileSystem: Whether to check the file system: that
    ///   media directories exist and are readable (also resolving symbolic
    ///   links to find duplicates), and that the state and cache directories
    ///   and the control socket's directory exist or can be created. Pass
    ///   false to check a file meant for another machine.
    /// - throws: A ``ConfigError`` with every problem found.
    public static func parse(
        _ text: String,
        sourceName: String,
        checkFileSystem: Bool = true
    )
        throws(ConfigError) -> MediapeerConfiguration
    {
        var reader = ConfigurationReader(text: text, source: sourceName, checkFileSystem: checkFileSystem)
        return try reader.read()
    }
}

// MARK: - Rendering

extension MediapeerConfiguration {
    /// The configuration as TOML, with every key set, in the order of the
    /// shipped configuration file.
    ///
    /// Parsing the result gives back an equal configuration, so it shows
    /// exactly what mediapeerd uses, defaults included.
    public func rendered() -> String {
        func array(_ items: [String]) -> String {
            items.isEmpty ? "[]" : "[\n" + items.map { "    \(quoted($0)),\n" }.joined() + "]"
        }
        return """
            name = \(quoted(name))
            media_dirs = \(array(mediaDirs))
            state_dir = \(quoted(stateDir))
            cache_dir = \(quoted(cacheDir))
            cache_max = \(quoted(cacheMax.description))
            replication = \(quoted(replication.rawValue))
            cache_high_watermark = \(Watermark.render(cacheHighWatermark))
            cache_low_watermark = \(Watermark.render(cacheLowWatermark))
            replication_daily_budget = \(quoted(CacheLimit.bytes(replicationDailyBudget).description))
            http_port = \(httpPort)
            player_port = \(playerPort)
            dlna = \(dlna)
            \(friendlyName.map { "friendly_name = \(quoted($0))" } ?? "# friendly_name is not set: TVs show the name")
            allowed_networks = \(array(allowedNetworks.networks.map(\.description)))
            \(playerCommand.map { "player_command = \(array($0))" } ?? "# player_command is not set")
            control_socket = \(quoted(controlSocket))
            log_level = \(quoted(logLevel.rawValue))
            static_peers = \(array(staticPeers.map(\.description)))
            rescan_interval = \(quoted(RescanInterval.render(rescanInterval)))
            peer_catalog_max_objects = \(peerCatalogMaxObjects)
            peer_catalog_max_bytes = \(quoted(CacheLimit.bytes(peerCatalogMaxBytes).description))
            forget_peers_after = \(quoted(RescanInterval.render(forgetPeersAfter)))
            demand_half_life = \(quoted(RescanInterval.render(demandHalfLife)))

            """
    }
}
