/// The lines where the top-level keys of a TOML document, and the elements
/// of their array values, start.
///
/// TOMLKit's tables do not keep source positions, so this scans the text
/// itself. It runs only on documents that toml++ has parsed, and therefore
/// only needs to tell apart what can appear in valid TOML: comments, the
/// four kinds of strings (which may hide `#`, `=`, brackets and newlines),
/// arrays and inline tables.
struct SourceMap {
    /// The line of each top-level key, by its first dotted segment; a
    /// `[table]` header counts as the line of its table.
    private(set) var keyLines: [String: Int] = [:]
    /// The line of each element of top-level arrays such as `media_dirs`.
    private(set) var elementLines: [String: [Int]] = [:]
    /// Top-level names that first appear in a `[table]` or `[[array]]` header.
    private(set) var headerNames: Set<String> = []
    /// The text of each top-level key's value when it is bare (a number, boolean or date), as written.
    private(set) var bareValues: [String: String] = [:]

    private let bytes: [UInt8]
    private var index = 0
    private var line = 1

    init(scanning text: String) {
        bytes = Array(text.utf8)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        scanDocument()
    }

    /// The line of `key`, if the document mentions it at the top level.
    func line(of key: String) -> Int? {
        keyLines[key]
    }

    /// The line of element `element` of `key`, or, for values that span
    /// fewer lines than expected, the line of the key.
    func line(of key: String, element: Int) -> Int? {
        if let lines = elementLines[key], lines.indices.contains(element) {
            return lines[element]
        }
        return keyLines[key]
    }

    /// The value of `key` as written, when it is a bare value at the top level, such as `10_737_418_240` or
    /// `0x7fff`: TOMLKit reads integers into `Int`, which is 32 bits on armhf, so integers are read from here.
    func bareValue(of key: String) -> String? {
        bareValues[key]
    }

    // MARK: - Scanning

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private func byte(at offset: Int) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    private mutating func scanDocument() {
        var inRootTable = true
        while let c = current {
            switch c {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                index += 1
            case UInt8(ascii: "\n"):
                line += 1
                index += 1
            case UInt8(ascii: "#"):
                skipComment()
            case UInt8(ascii: "["):
                let headerLine = line
                index += 1
                if current == UInt8(ascii: "[") { index += 1 }
                skipBlanks()
                let name = readKeySegment()
                if keyLines[name] == nil {
                    keyLines[name] = headerLine
                    headerNames.insert(name)
                }
                // Keys after a header belong to its table, not to the root.
                inRootTable = false
                skipRestOfLine()
            default:
                let keyLine = line
                let name = readKeySegment()
                var dotted = false
                while true {
                    skipBlanks()
                    if current == UInt8(ascii: ".") {
                        dotted = true
                        index += 1
                        skipBlanks()
                        _ = readKeySegment()
                    } else {
                        break
                    }
                }
                if current == UInt8(ascii: "=") { index += 1 }
                if inRootTable && keyLines[name] == nil {
                    keyLines[name] = keyLine
                }
                skipBlanks()
                let bare = readBareValue()
                let elements = scanValue()
                if inRootTable && !dotted {
                    elementLines[name] = elements
                    bareValues[name] = bare
                }
            }
        }
    }

    /// Scans a value up to, but not including, the newline that ends it,
    /// and returns the lines where the elements of a top-level array start.
    private mutating func scanValue() -> [Int] {
        var nesting: [UInt8] = []
        var expectingElement = false
        var elements: [Int] = []
        func startOfSomething() {
            if expectingElement {
                elements.append(line)
                expectingElement = false
            }
        }
        while let c = current {
            switch c {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                index += 1
            case UInt8(ascii: "\n"):
                if nesting.isEmpty { return elements }
                line += 1
                index += 1
            case UInt8(ascii: "#"):
                skipComment()
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                startOfSomething()
                skipString()
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                startOfSomething()
                nesting.append(c)
                expectingElement = nesting == [UInt8(ascii: "[")]
                index += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                _ = nesting.popLast()
                expectingElement = false
                index += 1
            case UInt8(ascii: ","):
                expectingElement = nesting == [UInt8(ascii: "[")]
                index += 1
            default:
                startOfSomething()
                index += 1
            }
        }
        return elements
    }

    /// Reads a bare value (anything but a string, array or inline table) up to the blank, comment or newline that
    /// ends it, without consuming it; nil for the other kinds of value.
    private func readBareValue() -> String? {
        guard let first = current,
            ![UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "["), UInt8(ascii: "{")].contains(first)
        else { return nil }
        let start = index
        var end = index
        let enders: [UInt8] = [
            UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: "#"),
        ]
        while end < bytes.count, !enders.contains(bytes[end]) { end += 1 }
        return end > start ? String(decoding: bytes[start..<end], as: UTF8.self) : nil
    }

    private mutating func skipBlanks() {
        while current == UInt8(ascii: " ") || current == UInt8(ascii: "\t") { index += 1 }
    }

    private mutating func skipComment() {
        while let c = current, c != UInt8(ascii: "\n") { index += 1 }
    }

    /// Skips the rest of a table header, whose quoted keys may contain `]` or `#`.
    private mutating func skipRestOfLine() {
        while let c = current, c != UInt8(ascii: "\n") {
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "'"): skipString()
            case UInt8(ascii: "#"): skipComment()
            default: index += 1
            }
        }
    }

    private mutating func skipString() {
        let quote = bytes[index]
        let isBasic = quote == UInt8(ascii: "\"")
        if byte(at: 1) == quote && byte(at: 2) == quote {
            index += 3
            while let c = current {
                if isBasic && c == UInt8(ascii: "\\") {
                    index += 1
                    if current == UInt8(ascii: "\n") { line += 1 }
                    index += 1
                } else if c == quote && byte(at: 1) == quote && byte(at: 2) == quote {
                    index += 3
                    // Up to two more quotes belong to the content: `""""a"""""`.
                    var extra = 0
                    while current == quote && extra < 2 {
                        index += 1
                        extra += 1
                    }
                    return
                } else {
                    if c == UInt8(ascii: "\n") { line += 1 }
                    index += 1
                }
            }
        } else {
            index += 1
            while let c = current, c != quote, c != UInt8(ascii: "\n") {
                index += isBasic && c == UInt8(ascii: "\\") ? 2 : 1
            }
            if current == quote { index += 1 }
        }
    }

    /// Reads a bare or quoted key segment and returns it as toml++ reports
    /// it: unquoted, with escapes resolved.
    private mutating func readKeySegment() -> String {
        guard let c = current else { return "" }
        if c == UInt8(ascii: "'") {
            index += 1
            let start = index
            while let c = current, c != UInt8(ascii: "'"), c != UInt8(ascii: "\n") { index += 1 }
            defer { if current == UInt8(ascii: "'") { index += 1 } }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }
        if c == UInt8(ascii: "\"") {
            index += 1
            var scalars = String.UnicodeScalarView()
            var raw: [UInt8] = []
            func flush() {
                scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
                raw.removeAll()
            }
            while let c = current, c != UInt8(ascii: "\""), c != UInt8(ascii: "\n") {
                guard c == UInt8(ascii: "\\"), let escaped = byte(at: 1) else {
                    raw.append(c)
                    index += 1
                    continue
                }
                flush()
                index += 2
                switch escaped {
                case UInt8(ascii: "b"): scalars.append("\u{8}")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "f"): scalars.append("\u{C}")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "e"): scalars.append("\u{1B}")
                case UInt8(ascii: "u"), UInt8(ascii: "U"):
                    let count = escaped == UInt8(ascii: "u") ? 4 : 8
                    let end = min(index + count, bytes.count)
                    let hex = String(decoding: bytes[index..<end], as: UTF8.self)
                    index = end
                    if let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) {
                        scalars.append(scalar)
                    }
                default: scalars.append(Unicode.Scalar(escaped))
                }
            }
            flush()
            if current == UInt8(ascii: "\"") { index += 1 }
            return String(scalars)
        }
        let start = index
        while let c = current, isBareKeyByte(c) { index += 1 }
        if index == start {
            // Not a key: step over it so that scanning always makes progress.
            index += 1
            return ""
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private func isBareKeyByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}
