/// A file or folder name, or a path of them, exactly as the kernel holds it (any bytes but NUL), carried in a
/// `String` without loss, and the readable text shown for it.
///
/// Linux names are bytes, not text: an old USB drive or a Samba share gives `café.jpg` as `caf\xE9.jpg` (Latin-1),
/// which is not valid UTF-8. The index, the peer catalog's JSON and the control API carry such a name in this
/// encoding (OPTU-8, as MirBSD's mksh does): every byte that is not part of valid UTF-8 becomes one scalar of the
/// private-use range U+EF80...U+EFFF (byte 0x80 + n is U+EF80 + n). A valid UTF-8 name is its own encoding, so
/// databases and catalogs written before stay valid; the one exception, a valid name that itself holds a scalar
/// of that range, has the bytes of that scalar escaped too, so that no two byte strings share an encoding.
///
/// Identity and display split here: ``bytes(of:)`` and ``withFileSystemPath(_:_:)`` give back the exact bytes to
/// open the file again; ``displayText(_:)`` shows each component as UTF-8 when it is valid, otherwise as
/// Windows-1252 (what such drives hold), with control characters replaced.
///
/// ```swift
/// FileSystemName.string(fromBytes: Array("caf".utf8) + [0xE9])   // "caf\u{EFE9}"
/// FileSystemName.displayText("caf\u{EFE9}.jpg")                  // "café.jpg"
/// FileSystemName.bytes(of: "caf\u{EFE9}")                        // [0x63, 0x61, 0x66, 0xE9]
/// ```
public enum FileSystemName {
    /// The scalar standing for the byte 0x00 (never used: bytes below 0x80 are always valid UTF-8); byte b is
    /// `escapeBase + b`, so U+EF80...U+EFFF stand for 0x80...0xFF.
    private static let escapeBase: UInt32 = 0xEF00

    private static func isEscape(_ scalar: Unicode.Scalar) -> Bool {
        (escapeBase + 0x80...escapeBase + 0xFF).contains(scalar.value)
    }

    /// The encoding of `bytes` (a name or a path read from the kernel).
    public static func string(fromBytes bytes: some Collection<UInt8>) -> String {
        if let text = String(validating: bytes, as: UTF8.self), !text.unicodeScalars.contains(where: isEscape) {
            return text
        }
        var scalars = String.UnicodeScalarView()
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var consumed = bytes.startIndex
        func escape(_ count: Int) {
            let end = bytes.index(consumed, offsetBy: count)
            for byte in bytes[consumed..<end] {
                // Only bytes >= 0x80 are ever escaped: an ASCII byte always decodes as itself.
                scalars.append(Unicode.Scalar(escapeBase + UInt32(byte))!)
            }
            consumed = end
        }
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                let scalar = UTF8.decode(encoded)
                if isEscape(scalar) {
                    escape(encoded.count)
                } else {
                    scalars.append(scalar)
                    consumed = bytes.index(consumed, offsetBy: encoded.count)
                }
            case .error(let length):
                escape(length)
            case .emptyInput:
                return String(scalars)
            }
        }
    }

    /// The encoding of a NUL-terminated name from the kernel (`readdir`, inotify, `realpath`).
    public static func string(fromCString name: UnsafePointer<CChar>) -> String {
        var length = 0
        while name[length] != 0 { length += 1 }
        return name.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
            string(fromBytes: UnsafeBufferPointer(start: bytes, count: length))
        }
    }

    /// The bytes `name` stands for: each escape scalar as its byte, every other scalar as its UTF-8.
    public static func bytes(of name: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(name.utf8.count)
        for scalar in name.unicodeScalars {
            if isEscape(scalar) {
                bytes.append(UInt8(scalar.value - escapeBase))
            } else {
                bytes.append(contentsOf: UTF8.encode(scalar)!)
            }
        }
        return bytes
    }

    /// Calls `body` with the NUL-terminated bytes of `path`, to hand to `open`, `stat`, `opendir` and the like.
    public static func withFileSystemPath<Result>(
        _ path: String, _ body: (UnsafePointer<CChar>) throws -> Result
    ) rethrows -> Result {
        guard path.unicodeScalars.contains(where: isEscape) else { return try path.withCString(body) }
        return try (bytes(of: path) + [0]).withUnsafeBytes { bytes in
            try body(bytes.baseAddress!.assumingMemoryBound(to: CChar.self))
        }
    }

    /// What to show for `name` (a name or a path in this encoding): each `/`-separated component that is valid
    /// UTF-8 as it is, any other as Windows-1252, then every control character (``DisplayText/isControl(_:)``)
    /// replaced by U+FFFD, so a newline or an escape in a name can break no line, table or terminal.
    public static func displayText(_ name: String) -> String {
        guard name.unicodeScalars.contains(where: isEscape) else { return DisplayText.replacingControls(name) }
        let components = bytes(of: name).split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        let shown = components.map { component -> String in
            if let text = String(validating: component, as: UTF8.self) { return text }
            return String(String.UnicodeScalarView(component.map(windows1252)))
        }
        return DisplayText.replacingControls(shown.joined(separator: "/"))
    }

    /// Windows-1252, a superset of Latin-1's printable characters: 0x80...0x9F are typographic marks there (€, ‘,
    /// ’, …) rather than C1 controls; its five unassigned bytes show as U+FFFD.
    private static func windows1252(_ byte: UInt8) -> Unicode.Scalar {
        guard (0x80...0x9F).contains(byte) else { return Unicode.Scalar(byte) }
        let scalar = windows1252High[Int(byte - 0x80)]
        return Unicode.Scalar(scalar) ?? "\u{FFFD}"
    }

    private static let windows1252High: [UInt32] = [
        0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
        0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
    ]
}
