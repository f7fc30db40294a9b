/// How much disk space the cache may use.
///
/// In the configuration file, `cache_max` is either an integer number of
/// bytes, a percentage of the file system that holds `cache_dir`, or a size
/// with a unit:
///
/// ```toml
/// cache_max = 10737418240
/// cache_max = "20%"
/// cache_max = "500MB"    # decimal: kB, MB, GB, TB are powers of 1000
/// cache_max = "2 GiB"    # binary: KiB, MiB, GiB, TiB are powers of 1024...
/// cache_max = "1.5G"     # ...and so are the bare K, M, G, T
/// ```
///
/// Units are case-insensitive, and `B` means bytes. The description of a
/// limit is a string that `cache_max` accepts, so `CacheLimit(limit.description)`
/// gives back the same limit.
public enum CacheLimit: Sendable, Hashable, LosslessStringConvertible {
    /// A fixed number of bytes, more than zero.
    case bytes(Int64)
    /// A percentage of the size of the file system that holds the cache, from 1 to 100.
    case percentOfFilesystem(Int)

    /// Returns the limit in bytes for a cache on a file system of the given size.
    ///
    /// ```swift
    /// let limit = CacheLimit.percentOfFilesystem(20)
    /// limit.resolved(filesystemSize: 1_000_000_000)  // 200_000_000
    /// ```
    ///
    /// - parameter filesystemSize: The total size, in bytes, of the file
    ///   system that holds `cache_dir` (`f_blocks * f_frsize` from `statvfs`).
    /// - returns: The number of bytes the cache may use. A fixed limit is
    ///   returned as is, even if it is larger than the file system.
    public func resolved(filesystemSize: Int64) -> Int64 {
        switch self {
        case .bytes(let bytes):
            return bytes
        case .percentOfFilesystem(let percent):
            let size = max(filesystemSize, 0)
            // Split the multiplication so that it cannot overflow, even for exabyte sizes.
            return size / 100 * Int64(percent) + size % 100 * Int64(percent) / 100
        }
    }

    /// Parses the string form of `cache_max`, such as `"20%"` or `"2 GiB"`.
    ///
    /// Returns nil when the text is not a valid limit; the configuration
    /// loader explains why in its error.
    public init?(_ description: String) {
        guard let limit = try? Self.parse(description) else { return nil }
        self = limit
    }

    /// The limit as `cache_max` would spell it: `"20%"`, or a size with the
    /// unit that gives the smallest whole number, such as `"2GiB"` or `"500MB"`.
    public var description: String {
        switch self {
        case .percentOfFilesystem(let percent):
            return "\(percent)%"
        case .bytes(let bytes):
            var best = (count: bytes, unit: "B")
            for (unit, multiplier) in Self.renderingUnits
            where bytes % multiplier == 0 && bytes / multiplier < best.count {
                best = (bytes / multiplier, unit)
            }
            return "\(best.count)\(best.unit)"
        }
    }

    private static let renderingUnits: [(String, Int64)] = [
        ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40),
        ("kB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000),
    ]

    static let formsHint =
        #"write a size such as "500MB" or "2GiB", a percentage such as "20%", or an integer number of bytes"#

    static func parse(_ text: String) throws(InvalidValue) -> CacheLimit {
        let trimmed = text.trimmingBlanks()
        if trimmed.isEmpty {
            throw InvalidValue("is empty; \(formsHint)")
        }
        if trimmed.hasPrefix("-") {
            throw InvalidValue("\(quoted(text)) is negative; the cache needs room, so \(formsHint)")
        }
        if trimmed.hasSuffix("%") {
            return try parsePercentage(String(trimmed.dropLast()).trimmingBlanks(), text: text)
        }
        return .bytes(
            try ByteSize.parse(trimmed: trimmed, text: text, formsHint: formsHint, what: "the cache", percentForm: true)
        )
    }

    private static func parsePercentage(_ number: String, text: String) throws(InvalidValue) -> CacheLimit {
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            if number.contains(".") {
                throw InvalidValue(
                    #"\#(quoted(text)) is not a whole percentage; write a whole number from 1 to 100, such as "20%""#)
            }
            throw InvalidValue(
                #"\#(quoted(text)) is not a percentage; write a whole number from 1 to 100, such as "20%""#)
        }
        guard let percent = Int(number), (1...100).contains(percent) else {
            throw InvalidValue(
                #"\#(quoted(text)) is out of range; a percentage of the file system must be from 1% to 100%"#)
        }
        return .percentOfFilesystem(percent)
    }
}
