import Foundation
import MediapeerConfig
import Testing

/// Parses text that must be valid, without looking at this machine's file system.
func parsed(_ text: String, checkFileSystem: Bool = false) throws -> MediapeerConfiguration {
    try MediapeerConfiguration.parse(text, sourceName: "test.toml", checkFileSystem: checkFileSystem)
}

/// Parses text that must be invalid and returns its errors, without the
/// warnings (such as "media_dirs is not set") that most tests do not care about.
func problems(_ text: String, checkFileSystem: Bool = false, sourceLocation: SourceLocation = #_sourceLocation)
    -> [ConfigProblem]
{
    do {
        let config = try MediapeerConfiguration.parse(text, sourceName: "test.toml", checkFileSystem: checkFileSystem)
        Issue.record("expected a ConfigError, got \(config)", sourceLocation: sourceLocation)
        return []
    } catch {
        return error.errors
    }
}

/// The descriptions of the problems of invalid text, the way a user sees them.
func messages(_ text: String, checkFileSystem: Bool = false, sourceLocation: SourceLocation = #_sourceLocation)
    -> [String]
{
    problems(text, checkFileSystem: checkFileSystem, sourceLocation: sourceLocation).map(\.description)
}

/// A fresh directory, removed after `body`, with symbolic links resolved so
/// that paths compare equal to what validation resolves.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent(
        "mediapeer-config-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: base) }
    return try body(base.resolvingSymlinksInPath().path)
}

func makeDirectory(_ path: String) throws {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
}

/// Settings that keep a file-system-checked configuration inside `root`,
/// so that tests do not depend on /var/lib or /run existing.
func privateDirectories(in root: String) throws -> String {
    try makeDirectory("\(root)/state")
    return """
        state_dir = "\(root)/state"
        cache_dir = "\(root)/cache"
        control_socket = "\(root)/run/control.sock"
        """
}

/// The shipped default configuration file, found from this source file so
/// that the tests work wherever the repository is checked out.
func shippedConfigPath() -> String {
    var url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    while url.path != "/" {
        url.deleteLastPathComponent()
        let candidate = url.appendingPathComponent("packaging/mediapeer.toml")
        if FileManager.default.fileExists(atPath: candidate.path) { return candidate.path }
    }
    return "packaging/mediapeer.toml"
}
