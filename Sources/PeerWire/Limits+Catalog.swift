/// Bounds on what a neighbour's catalog can make this box store (issue 12, "catalog").
extension PeerLimits {
    /// The most UTF-8 bytes kept of a catalog entry's title, artist or album.
    public static let maxCatalogTextBytes = 1024
    /// The most UTF-8 bytes kept of a catalog entry's path.
    public static let maxCatalogPathBytes = 4096
    /// The longest mime type accepted, in bytes; a longer one is replaced like a malformed one.
    public static let maxMimeTypeBytes = 255
    /// The most UTF-8 bytes kept of a peer's name.
    public static let maxPeerNameBytes = 255
    /// Durations are clamped to 1000 days: longer is not a media file, and the bound keeps sums far from overflow.
    public static let maxCatalogDurationMilliseconds: Int64 = 1000 * 86_400_000
    /// Widths and heights are clamped to what every container can express.
    public static let maxCatalogDimension = 65535
    /// What a stored catalog row costs besides its strings, in the per-peer byte budget (ids, numbers, indexes).
    public static let catalogRowOverheadBytes: Int64 = 64
    /// How long a neighbour whose catalog sync failed or was cut waits before its next sync, whatever it announces.
    public static let catalogRetryDelay: Duration = .seconds(60)
    /// The same when the neighbour could not be reached or was busy: a box restarting is soon back, and its
    /// catalog is then wanted at once; a refused connection costs the peer nothing to make, so still a delay.
    public static let catalogUnreachableRetryDelay: Duration = .seconds(5)

    /// Whether `text` holds a C0 control (U+0000-001F), DEL (U+007F) or a C1 control (U+0080-009F): characters that
    /// move a terminal's cursor or rewrite its title, which nothing in a catalog needs.
    public static func containsControlCharacter(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
    }

    /// Whether `text` looks like a mime type, `type/subtype`, each 1 to 127 characters of RFC 6838's
    /// restricted-name (a letter or digit, then letters, digits and `!#$&-^_.+`), no parameters.
    public static func isValidMimeType(_ text: String) -> Bool {
        guard text.utf8.count <= maxMimeTypeBytes else { return false }
        let parts = text.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        return parts.allSatisfy { part in
            guard let first = part.first, (1...127).contains(part.count), isAlphanumeric(first) else { return false }
            return part.allSatisfy { isAlphanumeric($0) || "!#$&-^_.+".utf8.contains($0) }
        }
    }

    /// Whether `text` is a date taken as the EXIF reader writes one, `YYYY-MM-DDTHH:MM:SS` (month 01-12, day
    /// 01-31, hour 00-23, minute 00-59, second 00-60): the month a photo is browsed under is its first 7 bytes.
    public static func isValidDateTaken(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 19 else { return false }
        var fields: [Int] = []
        for (index, byte) in bytes.enumerated() {
            switch index {
            case 4, 7: guard byte == UInt8(ascii: "-") else { return false }
            case 10: guard byte == UInt8(ascii: "T") else { return false }
            case 13, 16: guard byte == UInt8(ascii: ":") else { return false }
            default:
                guard (0x30...0x39).contains(byte) else { return false }
                if [0, 5, 8, 11, 14, 17].contains(index) { fields.append(0) }
                fields[fields.count - 1] = fields[fields.count - 1] * 10 + Int(byte - 0x30)
            }
        }
        return (1...12).contains(fields[1]) && (1...31).contains(fields[2]) && fields[3] <= 23 && fields[4] <= 59
            && fields[5] <= 60
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }
}
