import Foundation
@_exported import TestChildProcess

/// Where the built `mediapeerd` and `mediapeerctl` are: `$MEDIAPEER_BIN_DIR` (set by scripts/test), else next to
/// the test bundle, which SwiftPM builds into the same folder.
enum Binaries {
    static let folder: String = {
        if let folder = ProcessInfo.processInfo.environment["MEDIAPEER_BIN_DIR"] { return folder }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.path + "/mediapeerd") { return url.path }
        }
        return FileManager.default.currentDirectoryPath + "/.build/debug"
    }()

    static var daemon: String { folder + "/mediapeerd" }
    static var control: String { folder + "/mediapeerctl" }
}

enum Command {
    /// Runs a command with a hard time limit, so a hung child fails the test instead of hanging the suite.
    @discardableResult
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        timeout: Duration = .seconds(60)
    ) throws -> CommandResult {
        try ChildProcess.run(executable, arguments, environment: environment, timeout: timeout)
    }

    static func which(_ name: String) -> String? {
        for folder in ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"]
        where FileManager.default.isExecutableFile(atPath: folder + "/" + name) {
            return folder + "/" + name
        }
        return nil
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds or `timeout` passes. Timeouts here bound waiting; they assert nothing about speed.
func eventually(timeout: Duration = .seconds(15), _ what: String, _ condition: () throws -> Bool) throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return }
        usleep(20_000)
    }
    throw TestFailure("timed out after \(timeout) waiting for: \(what)")
}
