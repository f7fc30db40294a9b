import Foundation
import Logging
import WireVocabulary

/// Log lines on stderr that read well both in a terminal and in the journal.
///
/// Under systemd (`JOURNAL_STREAM` is set) each line starts with the syslog priority in angle brackets, which
/// journald turns into the entry's priority, and carries no timestamp (journald adds its own). In a terminal, lines
/// start with an ISO 8601 time and the level.
struct JournalLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let label: String
    let underJournal: Bool
    private let output = StandardErrorLock()

    init(
        label: String, level: Logger.Level,
        underJournal: Bool = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil
    ) {
        self.label = label
        self.logLevel = level
        self.underJournal = underJournal
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line =
            underJournal ? "<\(Self.priority(event.level))>" : Self.timestamp() + " " + event.level.rawValue + " "
        // Messages and values carry names and titles other boxes chose: their control characters are written as
        // escapes, so they can neither forge a line nor drive the terminal that shows the log.
        line += DisplayText.escaped(event.message.description)
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for key in merged.keys.sorted() {
            let value = merged[key].map { "\($0)" } ?? ""
            line += " " + DisplayText.escaped(key) + "=" + DisplayText.escaped(Self.quotedIfNeeded(value))
        }
        line += "\n"
        output.write(line)
    }

    /// syslog(3) priorities.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    private static func quotedIfNeeded(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) else {
            return value
        }
        return "\""
            + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    private static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// One write per line, so lines from several threads never interleave.
private final class StandardErrorLock: Sendable {
    private let lock = NSLock()
    func write(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { Foundation.write(2, $0.baseAddress, $0.count) }
    }
}
