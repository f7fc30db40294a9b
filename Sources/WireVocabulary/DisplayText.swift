/// Text another device chose, made safe to show: on a terminal, in the journal, in a table.
///
/// A peer's name or title can carry terminal escapes (`ESC]0;…` retitles the window, `ESC[2J` clears it), a
/// carriage return that overwrites the line before it, or bidi overrides that show text in another order than it
/// is stored. ``isControl(_:)`` is the one list of such characters; ``escaped(_:)`` writes them visibly for output,
/// ``replacingControls(_:)`` replaces them where a value is kept to be shown later (a peer's name).
///
/// ```swift
/// DisplayText.escaped("Box\u{1B}[2J")                    // "Box\\u{1B}[2J"
/// DisplayText.prefix("Müller", utf8Bytes: 2)            // "M" (ü takes two bytes)
/// ```
public enum DisplayText {
    /// Whether `scalar` changes how text is shown rather than being shown: C0 (U+0000-001F), DEL, C1
    /// (U+0080-009F), the line and paragraph separators U+2028/2029, and the bidi embeddings, overrides and isolates
    /// U+202A-202E and U+2066-2069.
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// `text` with each control character (``isControl(_:)``) written as a Swift-style escape, `\u{1B}`, and
    /// everything else as it is. Text without control characters is returned unchanged.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                result.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    /// `text` with each control character (``isControl(_:)``) replaced by U+FFFD.
    public static func replacingControls(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { isControl($0) ? "\u{FFFD}" : $0 }))
    }

    /// The longest prefix of `text` that fits in `utf8Bytes` bytes of UTF-8, cut between Unicode scalars (a
    /// combining mark may lose its base's company, but no scalar is ever split). Limits on stored and shown text
    /// count bytes, not `Character`s: one `Character` can hold any number of combining marks.
    public static func prefix(_ text: String, utf8Bytes: Int) -> String {
        guard text.utf8.count > utf8Bytes else { return text }
        var bytes = 0
        var end = text.unicodeScalars.startIndex
        for index in text.unicodeScalars.indices {
            let length = UTF8.width(text.unicodeScalars[index])
            guard bytes + length <= utf8Bytes else { break }
            bytes += length
            end = text.unicodeScalars.index(after: index)
        }
        return String(text.unicodeScalars[..<end])
    }
}
