/// One thing wrong with, or worth knowing about, a configuration file.
///
/// A problem knows where it is, so that its description reads like a
/// compiler diagnostic that an editor or a person can jump to:
///
/// ```
/// /etc/mediapeer/mediapeer.toml:7: media_dirs[1]: "/srv/nope" does not exist
/// /etc/mediapeer/mediapeer.toml:3:12: syntax error: expected '=' ...
/// /etc/mediapeer/mediapeer.toml:5: unknown key "medai_dirs" (did you mean "media_dirs"?)
/// /etc/mediapeer/mediapeer.toml:2: warning: media_dirs: no media directories are configured; ...
/// ```
public struct ConfigProblem: Sendable, Hashable, CustomStringConvertible {
    /// Whether a problem stops the configuration from being used.
    public enum Severity: String, Sendable, Hashable {
        /// The configuration cannot be used until the problem is fixed.
        case error
        /// The configuration is usable, but probably not what was meant.
        case warning
    }

    /// Whether the problem stops the configuration from being used.
    public var severity: Severity

    /// The file the problem is in, as given to ``MediapeerConfiguration/load(path:checkFileSystem:)``
    /// or ``MediapeerConfiguration/parse(_:sourceName:checkFileSystem:)``.
    public var source: String

    /// The setting whose value is wrong, such as `http_port` or `media_dirs[1]`.
    ///
    /// It is nil for problems with the file itself, such as syntax errors
    /// and unknown keys, whose message names what is wrong.
    public var key: String?

    /// The 1-based line of the problem, or nil when it concerns a default
    /// value that the file does not mention.
    public var line: Int?

    /// The 1-based column of the problem. Only syntax errors have one.
    public var column: Int?

    /// What is wrong, worded so that the reader knows how to fix it.
    public var message: String

    /// Creates a problem.
    public init(
        severity: Severity = .error,
        source: String,
        key: String? = nil,
        line: Int? = nil,
        column: Int? = nil,
        message: String
    ) {
        self.severity = severity
        self.source = source
        self.key = key
        self.line = line
        self.column = column
        self.message = message
    }

    /// The problem as `file:line[:column]: [warning: ][key: ]message`.
    public var description: String {
        var text = source
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        text += ": "
        if severity == .warning { text += "warning: " }
        if let key { text += "\(key): " }
        return text + message
    }
}

/// The error thrown when a configuration file cannot be used.
///
/// It carries every problem found in the file, not only the first, so that
/// one run of `mediapeerctl config check` is enough to fix them all. Its
/// description has one problem per line, in file order:
///
/// ```swift
/// do {
///     let config = try MediapeerConfiguration.load(path: path)
/// } catch {
///     print(error)   // every problem, warnings included
///     exit(1)
/// }
/// ```
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Every problem found, errors and warnings, in the order they appear in
    /// the file. Problems without a line come last.
    public var problems: [ConfigProblem]

    /// Creates an error from problems, which are put in file order.
    public init(problems: [ConfigProblem]) {
        self.problems = problems.inFileOrder()
    }

    /// The problems that make the configuration unusable.
    public var errors: [ConfigProblem] {
        problems.filter { $0.severity == .error }
    }

    /// The problems that do not, on their own, make the configuration unusable.
    public var warnings: [ConfigProblem] {
        problems.filter { $0.severity == .warning }
    }

    /// One problem per line.
    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}

extension [ConfigProblem] {
    /// Sorted by line, keeping the order in which they were found within a
    /// line, because that order follows the elements of an array value.
    func inFileOrder() -> [ConfigProblem] {
        enumerated()
            .sorted { a, b in
                let lineA = a.element.line ?? .max
                let lineB = b.element.line ?? .max
                return (lineA, a.offset) < (lineB, b.offset)
            }
            .map(\.element)
    }
}
