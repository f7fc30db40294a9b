import TOMLKit

/// Turns the text of a configuration file into a configuration, collecting
/// every problem on the way instead of stopping at the first.
struct ConfigurationReader {
    static let knownKeys = [
        "name", "media_dirs", "state_dir", "cache_dir", "cache_max", "replication", "cache_high_watermark",
        "cache_low_watermark", "replication_daily_budget", "http_port",
        "control_socket", "log_level", "static_peers", "rescan_interval", "peer_catalog_max_objects",
        "peer_catalog_max_bytes", "forget_peers_after", "player_port", "dlna", "friendly_name", "player_command",
        "demand_half_life", "allowed_networks",
    ]

    /// A Unix socket path must fit in `sockaddr_un.sun_path` (108 bytes on
    /// Linux) with its terminating NUL.
    static let maxSocketPathBytes = 107

    private let text: String
    private let source: String
    private let checkFileSystem: Bool
    private var map = SourceMap(scanning: "")
    private var problems: [ConfigProblem] = []

    init(text: String, source: String, checkFileSystem: Bool) {
        self.text = text
        self.source = source
        self.checkFileSystem = checkFileSystem
    }

    mutating func read() throws(ConfigError) -> MediapeerConfiguration {
        // toml++ gets the text as a C string and would stop at a NUL without a word.
        if let nul = text.utf8.firstIndex(of: 0) {
            let line = text.utf8[..<nul].filter { $0 == UInt8(ascii: "\n") }.count + 1
            throw ConfigError(problems: [
                ConfigProblem(
                    source: source, line: line, message: "the file contains a NUL byte, which TOML does not allow")
            ])
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(problems: [
                ConfigProblem(
                    source: source, line: error.source.begin.line, column: error.source.begin.column,
                    message: "syntax error: \(error.description)")
            ])
        } catch {
            throw ConfigError(problems: [ConfigProblem(source: source, message: "syntax error: \(error)")])
        }
        map = SourceMap(scanning: text)

        reportUnknownKeys(in: table)
        var config = MediapeerConfiguration()
        if let value = table["name"] { readName(value).map { config.name = $0 } }
        let mediaDirs = readMediaDirs(table["media_dirs"])
        config.mediaDirs = mediaDirs.map(\.path)
        if let value = readDirectory("state_dir", table["state_dir"], default: config.stateDir, mediaDirs: mediaDirs) {
            config.stateDir = value
        }
        if let value = readDirectory("cache_dir", table["cache_dir"], default: config.cacheDir, mediaDirs: mediaDirs) {
            config.cacheDir = value
        }
        if let value = table["cache_max"] { readCacheMax(value).map { config.cacheMax = $0 } }
        readReplicationKeys(table, into: &config)
        if let value = table["http_port"] { readPort(value, key: "http_port").map { config.httpPort = $0 } }
        if let value = table["player_port"] { readPort(value, key: "player_port").map { config.playerPort = $0 } }
        if table["http_port"] != nil || table["player_port"] != nil, config.httpPort == config.playerPort {
            error(
                "player_port", line: map.line(of: "player_port") ?? map.line(of: "http_port"),
                "\(config.playerPort) is also http_port; players and peers need a port each")
        }
        if let value = table["dlna"] { readBool(value, key: "dlna").map { config.dlna = $0 } }
        if let value = table["friendly_name"] { readFriendlyName(value).map { config.friendlyName = $0 } }
        if let value = table["allowed_networks"] { readAllowedNetworks(value).map { config.allowedNetworks = $0 } }
        if let value = table["player_command"] { readPlayerCommand(value).map { config.playerCommand = $0 } }
        if let value = readControlSocket(table["control_socket"], default: config.controlSocket) {
            config.controlSocket = value
        }
        if let value = table["log_level"] { readLogLevel(value).map { config.logLevel = $0 } }
        if let value = table["static_peers"] { readStaticPeers(value).map { config.staticPeers = $0 } }
        if let value = table["rescan_interval"] { readRescanInterval(value).map { config.rescanInterval = $0 } }
        if let value = table["peer_catalog_max_objects"] {
            readPeerCatalogMaxObjects(value).map { config.peerCatalogMaxObjects = $0 }
        }
        if let value = table["peer_catalog_max_bytes"] {
            readByteSize(value, key: "peer_catalog_max_bytes", what: "a neighbour's catalog").map {
                config.peerCatalogMaxBytes = $0
            }
        }
        if let value = table["forget_peers_after"] { readForgetPeersAfter(value).map { config.forgetPeersAfter = $0 } }
        if let value = table["demand_half_life"] { readDemandHalfLife(value).map { config.demandHalfLife = $0 } }

        if problems.contains(where: { $0.severity == .error }) {
            throw ConfigError(problems: problems)
        }
        config.warnings = problems.inFileOrder()
        return config
    }

    // MARK: - Reporting

    private mutating func error(_ key: String?, line: Int?, _ message: String) {
        problems.append(ConfigProblem(severity: .error, source: source, key: key, line: line, message: message))
    }

    private mutating func warning(_ key: String?, line: Int?, _ message: String) {
        problems.append(ConfigProblem(severity: .warning, source: source, key: key, line: line, message: message))
    }

    private mutating func typeMismatch(
        _ key: String, line: Int?, expected: String, found value: TOMLValueConvertible, hint: String? = nil
    ) {
        var message = "expected \(expected), found \(Self.describe(value.type))"
        if let hint { message += "; \(hint)" }
        error(key, line: line, message)
    }

    private static func describe(_ type: TOMLType) -> String {
        switch type {
        case .string: "a string"
        case .int: "an integer"
        case .double: "a floating-point number"
        case .bool: "a boolean"
        case .array: "an array"
        case .table: "a table"
        case .date: "a date"
        case .time: "a time"
        case .dateTime: "a date-time"
        }
    }

    private mutating func reportUnknownKeys(in table: TOMLTable) {
        let knownList = Self.knownKeys.joined(separator: ", ")
        for key in table.keys where !Self.knownKeys.contains(key) {
            let line = map.line(of: key)
            let suggestion = closestName(to: key, among: Self.knownKeys).map { " (did you mean \(quoted($0))?)" }
            if map.headerNames.contains(key) {
                // A [section] header also swallows the keys below it, which then look unset.
                error(
                    nil, line: line,
                    "unknown table \(quoted(key))\(suggestion ?? ""); mediapeer settings are top-level keys, so put them before any [table] line"
                )
            } else if let suggestion {
                error(nil, line: line, "unknown key \(quoted(key))\(suggestion)")
            } else {
                error(nil, line: line, "unknown key \(quoted(key)); the known keys are \(knownList)")
            }
        }
    }

    // MARK: - Keys

    private mutating func readName(_ value: TOMLValueConvertible) -> String? {
        let line = map.line(of: "name")
        guard let name = value.string else {
            typeMismatch("name", line: line, expected: "a string", found: value)
            return nil
        }
        if name.isEmpty {
            error("name", line: line, "must not be empty; it is the name other peers show for this box")
            return nil
        }
        if name.utf8.count > 63 {
            error(
                "name", line: line,
                "\(quoted(name)) is \(name.utf8.count) bytes long in UTF-8; a DNS-SD instance name can have at most 63")
            return nil
        }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            error(
                "name", line: line,
                "\(quoted(name)) contains a control character, which a DNS-SD instance name cannot have")
            return nil
        }
        return name
    }

    struct MediaDir {
        var index: Int
        var written: String
        var path: String
        /// With symbolic links resolved when the file system is checked; used to compare directories.
        var identity: String
        var line: Int?

        var key: String { "media_dirs[\(index)]" }

        /// The directory as written, and where it really is when that differs.
        var shown: String {
            identity == path ? quoted(written) : "\(quoted(written)) (really \(quoted(identity)))"
        }
    }

    /// Returns the directories that are valid on their own; the result is
    /// only used when no error is reported.
    private mutating func readMediaDirs(_ value: TOMLValueConvertible?) -> [MediaDir] {
        let keyLine = map.line(of: "media_dirs")
        guard let value else {
            warning(
                "media_dirs", line: nil,
                #"not set, so this box shares nothing; add media_dirs = ["/srv/media"] with your media directories"#)
            return []
        }
        guard let array = value.array else {
            typeMismatch(
                "media_dirs", line: keyLine, expected: "an array of strings", found: value,
                hint: value.type == .string ? #"write media_dirs = ["/srv/media"], with brackets"# : nil)
            return []
        }
        if array.isEmpty {
            warning(
                "media_dirs", line: keyLine,
                #"the list is empty, so this box shares nothing; add your media directories, such as "/srv/media""#)
            return []
        }

        var dirs: [MediaDir] = []
        for (index, element) in array.enumerated() {
            let key = "media_dirs[\(index)]"
            let line = map.line(of: "media_dirs", element: index)
            guard let written = element.string else {
                typeMismatch(key, line: line, expected: "a string", found: element)
                continue
            }
            guard let path = absolutePath(written, key: key, line: line, example: "/srv/media") else { continue }
            var identity = path
            if checkFileSystem {
                switch FileSystem.lookup(path) {
                case .missing:
                    error(key, line: line, "\(quoted(written)) does not exist")
                    continue
                case .found(.other):
                    error(key, line: line, "\(quoted(written)) is not a directory")
                    continue
                case .failed(let reason):
                    error(key, line: line, "cannot use \(quoted(written)): \(reason)")
                    continue
                case .found(.directory):
                    if let reason = FileSystem.readableDirectoryProblem(path) {
                        error(key, line: line, "\(quoted(written)) cannot be read by this user: \(reason)")
                        continue
                    }
                    identity = FileSystem.resolved(path) ?? path
                }
            }
            dirs.append(MediaDir(index: index, written: written, path: path, identity: identity, line: line))
        }

        // Each file must belong to one media directory, or it would be indexed and offered twice.
        for (position, later) in dirs.enumerated() {
            for earlier in dirs[..<position] {
                if later.identity == earlier.identity {
                    let message =
                        later.path == earlier.path
                        ? "\(quoted(later.written)) is listed twice (also \(earlier.key))"
                        : "\(later.shown) is the same directory as \(earlier.key) (\(earlier.shown))"
                    error(later.key, line: later.line, message)
                } else if isPath(later.identity, inside: earlier.identity) {
                    error(
                        later.key, line: later.line,
                        "\(later.shown) is inside \(earlier.key) (\(earlier.shown)), which already shares it; remove one of them"
                    )
                } else if isPath(earlier.identity, inside: later.identity) {
                    error(
                        earlier.key, line: earlier.line,
                        "\(earlier.shown) is inside \(later.key) (\(later.shown)), which already shares it; remove one of them"
                    )
                }
            }
        }
        return dirs
    }

    /// `state_dir` and `cache_dir`: mediapeerd creates the directory itself,
    /// but not its parents, which would hide a typo such as `/var/lbi/...`.
    private mutating func readDirectory(
        _ key: String, _ value: TOMLValueConvertible?, default defaultPath: String, mediaDirs: [MediaDir]
    ) -> String? {
        let line = map.line(of: key)
        let path: String
        if let value {
            guard let written = value.string else {
                typeMismatch(key, line: line, expected: "a string", found: value)
                return nil
            }
            guard let absolute = absolutePath(written, key: key, line: line, example: defaultPath) else { return nil }
            path = absolute
        } else {
            path = defaultPath
        }
        let defaultNote = value == nil ? " (this is the default; set \(key) to use another directory)" : ""

        var identity = path
        if checkFileSystem {
            switch FileSystem.lookup(path) {
            case .found(.directory):
                identity = FileSystem.resolved(path) ?? path
            case .found(.other):
                error(key, line: line, "\(quoted(path)) exists but is not a directory\(defaultNote)")
                return nil
            case .failed(let reason):
                error(key, line: line, "cannot use \(quoted(path)): \(reason)\(defaultNote)")
                return nil
            case .missing:
                let parent = parentPath(path)
                switch FileSystem.lookup(parent) {
                case .found(.directory):
                    let last = path.split(separator: "/").last.map(String.init) ?? ""
                    identity = (FileSystem.resolved(parent) ?? parent) + (parent == "/" ? "" : "/") + last
                case .found(.other):
                    error(
                        key, line: line,
                        "cannot create \(quoted(path)): \(quoted(parent)) is not a directory\(defaultNote)")
                    return nil
                case .failed(let reason):
                    error(key, line: line, "cannot create \(quoted(path)): \(quoted(parent)): \(reason)\(defaultNote)")
                    return nil
                case .missing:
                    error(
                        key, line: line,
                        "neither \(quoted(path)) nor its parent \(quoted(parent)) exists; mediapeerd creates only the directory itself, so create \(quoted(parent)) first\(defaultNote)"
                    )
                    return nil
                }
            }
        }
        // Whatever is in these directories would be scanned and offered to peers as media.
        for dir in mediaDirs where identity == dir.identity || isPath(identity, inside: dir.identity) {
            error(
                key, line: line,
                "\(quoted(path)) is inside \(dir.key) (\(dir.shown)), so mediapeer's own files would be shared as media; choose a directory outside the media directories\(defaultNote)"
            )
            return nil
        }
        return path
    }

    private mutating func readControlSocket(_ value: TOMLValueConvertible?, default defaultPath: String) -> String? {
        let key = "control_socket"
        let line = map.line(of: key)
        guard let value else {
            return checkSocketDirectory(
                defaultPath, line: nil, defaultNote: " (this is the default; set control_socket to use another path)")
                ? defaultPath : nil
        }
        guard let written = value.string else {
            typeMismatch(key, line: line, expected: "a string", found: value)
            return nil
        }
        if written.hasSuffix("/") {
            error(
                key, line: line,
                "\(quoted(written)) names a directory; give the socket's file name, as in \(quoted(defaultPath))")
            return nil
        }
        guard let path = absolutePath(written, key: key, line: line, example: defaultPath) else { return nil }
        if path.utf8.count > Self.maxSocketPathBytes {
            error(
                key, line: line,
                "\(quoted(path)) is \(path.utf8.count) bytes long; a Unix socket path can have at most \(Self.maxSocketPathBytes)"
            )
            return nil
        }
        return checkSocketDirectory(path, line: line, defaultNote: "") ? path : nil
    }

    /// The socket's directory (like `/run/mediapeer`, which lives on a tmpfs
    /// and vanishes at boot) is created by mediapeerd, so only its parent must exist.
    private mutating func checkSocketDirectory(_ path: String, line: Int?, defaultNote: String) -> Bool {
        guard checkFileSystem else { return true }
        let key = "control_socket"
        if case .found(.directory) = FileSystem.lookup(path) {
            error(
                key, line: line,
                "\(quoted(path)) is a directory; give the socket's file name, as in \(quoted(path + "/control.sock"))\(defaultNote)"
            )
            return false
        }
        let directory = parentPath(path)
        switch FileSystem.lookup(directory) {
        case .found(.directory):
            return true
        case .found(.other):
            error(
                key, line: line, "cannot create \(quoted(path)): \(quoted(directory)) is not a directory\(defaultNote)")
        case .failed(let reason):
            error(key, line: line, "cannot create \(quoted(path)): \(quoted(directory)): \(reason)\(defaultNote)")
        case .missing:
            let grandparent = parentPath(directory)
            if case .found(.directory) = FileSystem.lookup(grandparent) { return true }
            error(
                key, line: line,
                "neither the socket's directory \(quoted(directory)) nor its parent \(quoted(grandparent)) exists; mediapeerd creates only the socket's directory\(defaultNote)"
            )
        }
        return false
    }

    private mutating func absolutePath(_ written: String, key: String, line: Int?, example: String) -> String? {
        if written.isEmpty {
            error(key, line: line, "must not be empty; write an absolute path, such as \(quoted(example))")
            return nil
        }
        guard written.hasPrefix("/") else {
            // Relative to what? The daemon's working directory is not something to rely on.
            error(
                key, line: line,
                "\(quoted(written)) is not an absolute path; write the full path from \"/\", such as \(quoted(example))"
            )
            return nil
        }
        return normalizedPath(written)
    }

    private mutating func readCacheMax(_ value: TOMLValueConvertible) -> CacheLimit? {
        let line = map.line(of: "cache_max")
        if value.type == .int {
            guard let bytes = integer(value, key: "cache_max") else { return nil }
            guard bytes > 0 else {
                error("cache_max", line: line, "\(bytes) bytes leaves no room for the cache; \(CacheLimit.formsHint)")
                return nil
            }
            return .bytes(bytes)
        }
        guard let text = value.string else {
            typeMismatch(
                "cache_max", line: line, expected: "an integer or a string", found: value,
                hint: value.type == .double ? #"write a fraction with a unit in quotes, such as "1.5GiB""# : nil)
            return nil
        }
        do {
            return try CacheLimit.parse(text)
        } catch {
            self.error("cache_max", line: line, error.message)
            return nil
        }
    }

    /// `replication`, the watermarks (checked against each other, a default standing in for the one not set) and
    /// `replication_daily_budget`.
    private mutating func readReplicationKeys(_ table: TOMLTable, into config: inout MediapeerConfiguration) {
        if let value = table["replication"] {
            let line = map.line(of: "replication")
            if let text = value.string, let mode = ReplicationMode(rawValue: text) {
                config.replication = mode
            } else if let text = value.string {
                let names = ReplicationMode.allCases.map(\.rawValue)
                error(
                    "replication", line: line,
                    "\(quoted(text)) is not a replication mode; use \(names.map { quoted($0) }.joined(separator: " or "))"
                )
            } else {
                let hint = value.bool.map { #"write \#($0 ? "\"auto\"" : "\"off\""), a string"# }
                typeMismatch("replication", line: line, expected: #""auto" or "off""#, found: value, hint: hint)
            }
        }
        let high = table["cache_high_watermark"].flatMap { readWatermark($0, key: "cache_high_watermark") }
        let low = table["cache_low_watermark"].flatMap { readWatermark($0, key: "cache_low_watermark") }
        if let high { config.cacheHighWatermark = high }
        if let low { config.cacheLowWatermark = low }
        if high != nil || low != nil, config.cacheLowWatermark >= config.cacheHighWatermark {
            let key = low != nil ? "cache_low_watermark" : "cache_high_watermark"
            let defaultNote = { (set: Double?) in set == nil ? ", the default" : "" }
            error(
                key, line: map.line(of: key),
                "cache_low_watermark (\(Watermark.render(config.cacheLowWatermark))\(defaultNote(low))) must be below "
                    + "cache_high_watermark (\(Watermark.render(config.cacheHighWatermark))\(defaultNote(high))): "
                    + "eviction starts above the high one and stops at the low one")
        }
        if let value = table["replication_daily_budget"] {
            readByteSize(value, key: "replication_daily_budget", what: "replication").map {
                config.replicationDailyBudget = $0
            }
        }
    }

    private mutating func readWatermark(_ value: TOMLValueConvertible, key: String) -> Double? {
        let line = map.line(of: key)
        do {
            if let number = value.double {
                return try Watermark.parse(number: number, text: "\(number)")
            } else if value.type == .int {
                guard let number = integer(value, key: key) else { return nil }
                return try Watermark.parse(number: Double(number), text: "\(number)")
            } else if let text = value.string {
                return try Watermark.parse(percentage: text)
            }
            typeMismatch(key, line: line, expected: "a number from 0 to 1", found: value, hint: Watermark.formsHint)
        } catch {
            self.error(key, line: line, error.message)
        }
        return nil
    }

    private mutating func readPort(_ value: TOMLValueConvertible, key: String) -> Int? {
        let line = map.line(of: key)
        guard value.type == .int else {
            let hint = value.string.flatMap { Int64($0) }.map { "write \($0) without quotes" }
            typeMismatch(key, line: line, expected: "an integer", found: value, hint: hint)
            return nil
        }
        guard let number = integer(value, key: key) else { return nil }
        guard (1...65535).contains(number), let port = Int(exactly: number) else {
            error(key, line: line, "\(number) is out of range; use a port from 1 to 65535")
            return nil
        }
        if port < 1024 {
            warning(
                key, line: line,
                "port \(port) is below 1024, which only root or a process with CAP_NET_BIND_SERVICE can listen on")
        }
        return port
    }

    /// An integer value as `Int64` on every architecture (``ConfigInteger``; TOMLKit's `int` traps past 2^31 - 1 on
    /// armhf); nil, with the error recorded, if its text cannot be read, which toml++'s own check leaves no room for.
    private mutating func integer(_ value: TOMLValueConvertible, key: String) -> Int64? {
        if let text = map.bareValue(of: key), let number = ConfigInteger.parse(text) { return number }
        error(key, line: map.line(of: key), "cannot read this integer; write it in decimal digits")
        return nil
    }

    private mutating func readBool(_ value: TOMLValueConvertible, key: String) -> Bool? {
        guard let flag = value.bool else {
            let hint = value.string.flatMap { ["true", "false"].contains($0) ? "write \($0) without quotes" : nil }
            typeMismatch(key, line: map.line(of: key), expected: "true or false", found: value, hint: hint)
            return nil
        }
        return flag
    }

    /// The name TVs show in their list of media servers: a UPnP `friendlyName` should stay under 64 characters.
    private mutating func readFriendlyName(_ value: TOMLValueConvertible) -> String? {
        let line = map.line(of: "friendly_name")
        guard let name = value.string else {
            typeMismatch("friendly_name", line: line, expected: "a string", found: value)
            return nil
        }
        if name.isEmpty || name.count > 63 {
            error("friendly_name", line: line, "must be 1 to 63 characters long; TVs show it in their list of servers")
            return nil
        }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            error("friendly_name", line: line, "\(quoted(name)) contains a control character")
            return nil
        }
        return name
    }

    /// The player `mediapeerctl play` starts, as words: the program and its arguments; the URL is added last.
    private mutating func readPlayerCommand(_ value: TOMLValueConvertible) -> [String]? {
        let line = map.line(of: "player_command")
        let words: [String]?
        if let text = value.string {
            words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        } else if let array = value.array {
            words = array.map { $0.string }.allSatisfy { $0 != nil } ? array.compactMap { $0.string } : nil
        } else {
            words = nil
        }
        guard let words else {
            typeMismatch(
                "player_command", line: line, expected: "a string or an array of strings", found: value,
                hint: "for example player_command = [\"mpv\", \"--fs\"]")
            return nil
        }
        guard let program = words.first, !program.isEmpty else {
            error("player_command", line: line, "must name a program, such as \"mpv\" or \"vlc\"")
            return nil
        }
        if words.contains(where: { $0.utf8.contains(0) }) {
            error("player_command", line: line, "contains a NUL byte")
            return nil
        }
        return words
    }

    /// `allowed_networks`: every entry a network; an empty list (no other device at all) is allowed but warned about.
    private mutating func readAllowedNetworks(_ value: TOMLValueConvertible) -> AllowedNetworks? {
        let key = "allowed_networks"
        let keyLine = map.line(of: key)
        guard let array = value.array else {
            typeMismatch(
                key, line: keyLine, expected: "an array of strings", found: value,
                hint: value.type == .string ? #"write allowed_networks = ["192.168.1.0/24"], with brackets"# : nil)
            return nil
        }
        var networks: [IPNetwork] = []
        for (index, element) in array.enumerated() {
            let line = map.line(of: key, element: index)
            guard let text = element.string else {
                typeMismatch("\(key)[\(index)]", line: line, expected: "a string", found: element)
                continue
            }
            do {
                networks.append(try IPNetwork.parse(text))
            } catch {
                self.error("\(key)[\(index)]", line: line, error.description)
            }
        }
        let allowed = AllowedNetworks(networks)
        if array.isEmpty {
            warning(
                key, line: keyLine,
                "the list is empty, so no player on another device may connect (TVs, VLC, Kodi) and SSDP answers "
                    + "none; only players on this box are answered. Remove the key for the home's private networks")
        }
        return allowed
    }

    private mutating func readLogLevel(_ value: TOMLValueConvertible) -> LogLevel? {
        let line = map.line(of: "log_level")
        guard let text = value.string else {
            typeMismatch("log_level", line: line, expected: "a string", found: value)
            return nil
        }
        if let level = LogLevel(rawValue: text) { return level }
        let names = LogLevel.allCases.map(\.rawValue)
        let suggestion = closestName(to: text, among: names).map { " (did you mean \(quoted($0))?)" } ?? ""
        error(
            "log_level", line: line,
            "\(quoted(text)) is not a log level\(suggestion); use one of \(names.joined(separator: ", "))")
        return nil
    }

    private mutating func readStaticPeers(_ value: TOMLValueConvertible) -> [PeerAddress]? {
        let keyLine = map.line(of: "static_peers")
        guard let array = value.array else {
            typeMismatch(
                "static_peers", line: keyLine, expected: "an array of strings", found: value,
                hint: value.type == .string ? #"write static_peers = ["nas.local:8737"], with brackets"# : nil)
            return nil
        }
        var peers: [PeerAddress] = []
        for (index, element) in array.enumerated() {
            let key = "static_peers[\(index)]"
            let line = map.line(of: "static_peers", element: index)
            guard let text = element.string else {
                typeMismatch(key, line: line, expected: "a string", found: element)
                continue
            }
            do {
                peers.append(try PeerAddress.parse(text))
            } catch {
                self.error(key, line: line, error.message)
            }
        }
        return peers
    }

    private mutating func readRescanInterval(_ value: TOMLValueConvertible) -> Duration?? {
        let key = "rescan_interval"
        guard let interval = readDuration(value, key: key, example: "6h") else { return nil }
        if let interval, interval > RescanInterval.longest {
            error(
                key, line: map.line(of: key),
                "must be at most \(RescanInterval.render(RescanInterval.longest)) (a year), or \"0\" for never; "
                    + "\(RescanInterval.render(interval)) is longer")
            return nil
        }
        if let interval, interval < .seconds(60) {
            warning(
                key, line: map.line(of: key),
                "rescanning every \(interval.components.seconds)s keeps the disks busy; an interval of hours is usual")
        }
        return .some(interval)
    }

    /// A duration key: a string such as "6h" (``RescanInterval``'s syntax) or whole seconds; `.some(nil)` for "0"
    /// (never), nil when the value is wrong (the error is recorded).
    private mutating func readDuration(_ value: TOMLValueConvertible, key: String, example: String) -> Duration?? {
        let line = map.line(of: key)
        do {
            if value.type == .int {
                guard let seconds = integer(value, key: key) else { return nil }
                return .some(try RescanInterval.interval(seconds: seconds))
            } else if let text = value.string {
                return .some(try RescanInterval.parse(text))
            }
            typeMismatch(
                key, line: line, expected: "a duration string such as \"\(example)\" or an integer number of seconds",
                found: value)
            return nil
        } catch {
            self.error(key, line: line, error.message)
            return nil
        }
    }

    private mutating func readPeerCatalogMaxObjects(_ value: TOMLValueConvertible) -> Int? {
        let key = "peer_catalog_max_objects"
        let line = map.line(of: key)
        guard value.type == .int else {
            let hint = value.string.flatMap { Int64($0) }.map { "write \($0) without quotes" }
            typeMismatch(key, line: line, expected: "an integer", found: value, hint: hint)
            return nil
        }
        guard let count = integer(value, key: key) else { return nil }
        guard count >= 1 else {
            error(key, line: line, "\(count) is too small; a neighbour's catalog needs room for at least 1 object")
            return nil
        }
        // Counts of objects in memory are Int, 32 bits on armhf.
        guard let objects = Int(exactly: count) else {
            error(key, line: line, "\(count) is too large; use a count from 1 to \(Int.max)")
            return nil
        }
        return objects
    }

    /// A size key: an integer number of bytes or a string with a unit; `what` is what the size must leave room for.
    private mutating func readByteSize(_ value: TOMLValueConvertible, key: String, what: String) -> Int64? {
        let line = map.line(of: key)
        if value.type == .int {
            guard let bytes = integer(value, key: key) else { return nil }
            guard bytes > 0 else {
                error(key, line: line, "\(bytes) bytes leaves no room for \(what); \(ByteSize.formsHint)")
                return nil
            }
            return bytes
        }
        guard let text = value.string else {
            typeMismatch(
                key, line: line, expected: "an integer or a string", found: value,
                hint: value.type == .double ? #"write a fraction with a unit in quotes, such as "1.5MiB""# : nil)
            return nil
        }
        do {
            return try ByteSize.parse(text, what: what)
        } catch {
            self.error(key, line: line, error.message)
            return nil
        }
    }

    private mutating func readForgetPeersAfter(_ value: TOMLValueConvertible) -> Duration?? {
        let key = "forget_peers_after"
        guard let interval = readDuration(value, key: key, example: "14d") else { return nil }
        let line = map.line(of: key)
        if let interval, interval < .seconds(3_600) {
            warning(
                key, line: line,
                "unseen peers are looked for once an hour, so a neighbour may be kept up to an hour longer than "
                    + RescanInterval.render(interval)
            )
        }
        return .some(interval)
    }

    private mutating func readDemandHalfLife(_ value: TOMLValueConvertible) -> Duration? {
        let key = "demand_half_life"
        guard let interval = readDuration(value, key: key, example: "7d") else { return nil }
        guard let interval else {
            error(key, line: map.line(of: key), "demand cannot fade in no time; give a duration such as \"7d\"")
            return nil
        }
        return interval
    }
}
