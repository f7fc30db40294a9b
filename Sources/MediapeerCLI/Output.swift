import ArgumentParser
import ControlAPIClient
import ControlWire
import Foundation
import WireVocabulary

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The daemon's control socket (default: $MEDIAPEER_SOCKET, else \(ControlClient.defaultSocket)).",
            valueName: "path"))
    var socket: String?

    @Flag(name: .long, help: "Print machine-readable JSON instead of tables.")
    var json = false

    var client: ControlClient {
        ControlClient(
            socketPath: socket ?? ProcessInfo.processInfo.environment["MEDIAPEER_SOCKET"] ?? ControlClient.defaultSocket
        )
    }
}

enum Output {
    static func json<T: Encodable>(_ value: T) throws {
        print(String(decoding: try ControlJSON.encoder().encode(value), as: UTF8.self))
    }

    static var isTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    /// A value for human output, its control characters written as escapes (``DisplayText/escaped(_:)``): names,
    /// titles, paths and messages can come from other boxes, and a terminal must not obey them. Applied to each
    /// value or single line, never to the CLI's own line breaks and progress-bar escapes.
    static func shown(_ text: String) -> String {
        DisplayText.escaped(text)
    }
}

/// Runs a control request, turning a failure into one clear line on stderr and a non-zero exit.
func talkingToDaemon<T>(_ body: () async throws(ControlClientError) -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        FileHandle.standardError.write(Data(("mediapeerctl: " + Output.shown(error.description) + "\n").utf8))
        switch error {
        case .daemonNotRunning: throw ExitCode(3)
        default: throw ExitCode.failure
        }
    }
}
