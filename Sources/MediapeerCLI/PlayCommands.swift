import ArgumentParser
import ControlAPIClient
import ControlWire
import Foundation
import MediapeerConfig

/// What names a title and where its URL points: shared by `url` and `play`.
struct TitleOptions: ParsableArguments {
    @Argument(help: "A content id, a prefix of one (8+ hex digits), or words of a title (see `library search --all`).")
    var reference: [String]
    @Option(
        help: ArgumentHelp(
            "The host the URL names instead of this box's LAN address (e.g. its DNS name).", valueName: "host"))
    var host: String?

    func validate() throws {
        guard reference.contains(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            throw ValidationError("say which title: a content id, an id prefix, or words of a title")
        }
    }

    var text: String { reference.joined(separator: " ") }
}

/// `mediapeerctl url`: the stream URL of any title of the home, alone on stdout, for players and scripts
/// (`ffprobe $(mediapeerctl url holiday)`).
struct URLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "url",
        abstract: "Print the URL a player streams a title from, through this box (wherever the title is held).")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var title: TitleOptions

    func run() async throws {
        let client = options.client
        let (reference, host) = (title.text, title.host)
        let found = try await talkingToDaemon { () async throws(ControlClientError) in
            try await client.url(reference, host: host)
        }
        if options.json { return try Output.json(found) }
        // A URL is made of ASCII only (the daemon percent-encodes): nothing to escape.
        print(found.url)
    }
}

/// `mediapeerctl play`: hands a title's URL to the configured player.
struct Play: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Play a title of the home with the player command of the configuration (or --player).",
        discussion: """
            The player is run directly, without a shell, with the title's URL as its last argument, in place of \
            mediapeerctl. Set it in the configuration as player_command = ["mpv", "--fs"], or give it with \
            --player "mpv --fs" (words separated by spaces).
            """)
    @OptionGroup var options: GlobalOptions
    @OptionGroup var title: TitleOptions
    @Option(help: ArgumentHelp("The player to run instead of player_command.", valueName: "command"))
    var player: String?
    @Option(
        help: ArgumentHelp(
            "The configuration file to read player_command from (default: the one the daemon runs with).",
            valueName: "path"))
    var config: String?

    func validate() throws {
        if let player, PlayerCommand.words(player).isEmpty { throw ValidationError("--player names no program") }
    }

    func run() async throws {
        let client = options.client
        let (reference, host) = (title.text, title.host)
        let command: [String]
        if let player {
            command = PlayerCommand.words(player)
        } else {
            let path: String
            if let config {
                path = config
            } else {
                path = try await talkingToDaemon { () async throws(ControlClientError) in
                    try await client.status()
                }.configPath
            }
            command = try PlayerCommand.configured(path: path)
        }
        let found = try await talkingToDaemon { () async throws(ControlClientError) in
            try await client.url(reference, host: host)
        }
        FileHandle.standardError.write(
            Data(Output.shown("playing \"\(found.title)\" with \(command[0]): \(found.url)\n").utf8))
        let failure = PlayerCommand.exec(command + [found.url])
        throw PlayerCommand.Failure(
            "cannot run the player \(command[0]): \(failure); set player_command in the configuration or pass --player")
    }
}

/// The player `play` runs: from `--player` or the configuration, started with `execvp`.
enum PlayerCommand {
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// A `--player` value as words: split on spaces, no shell quoting.
    static func words(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }

    /// `player_command` of the configuration at `path`, or an error that says how to set one.
    static func configured(path: String) throws -> [String] {
        let settings: MediapeerConfiguration
        do {
            settings = try MediapeerConfiguration.loadOrDefault(path: path, isExplicit: false, checkFileSystem: false)
        } catch {
            throw Failure("cannot read player_command: \(error.description)")
        }
        guard let command = settings.playerCommand, !command.isEmpty else {
            throw Failure(
                "no player configured: set player_command = [\"mpv\", \"--fs\"] (or your player) in \(path), "
                    + "or pass --player COMMAND")
        }
        return command
    }

    /// Replaces this process with `arguments[0]` (looked up in `PATH`), and returns why it could not, if it could
    /// not.
    static func exec(_ arguments: [String]) -> String {
        fflush(nil)  // every stream: nothing printed so far may be lost with this process
        var argv = arguments.map { strdup($0) }
        argv.append(nil)
        execvp(arguments[0], argv)
        let reason = String(cString: strerror(errno))
        for pointer in argv { free(pointer) }
        return reason
    }
}
