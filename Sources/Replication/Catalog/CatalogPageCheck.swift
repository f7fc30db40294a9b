import ContentID
import PeerWire
import WireVocabulary

/// Where a catalog sync stands: every entry up to (`generation`, `after`) is received; with `after` nil, every
/// entry of `generation` and before.
struct CatalogCursor: Sendable, Equatable {
    var generation: Int64
    var after: ContentID?

    static let start = CatalogCursor(generation: 0, after: nil)

    /// Whether an entry at (`generation`, `id`) comes strictly after this position, in the (generation, id) order
    /// of the catalog (ids compared byte by byte, as SQLite compares the blobs the server orders them by).
    func precedes(generation other: Int64, id: ContentID) -> Bool {
        if other != generation { return other > generation }
        guard let after else { return false }
        return after.bytes.lexicographicallyPrecedes(id.bytes)
    }
}

/// Why a page of a neighbour's catalog was refused as a whole: a sync that met one stops.
enum CatalogPageProblem: Error, Equatable, CustomStringConvertible {
    /// A generation below zero, which no catalog counts.
    case negativeGeneration
    /// The page says more entries follow but brings none past the position asked for (an empty page, or the last
    /// entry again): asking again would never end.
    case cursorDidNotAdvance
    /// The entry at this position of the page is not after the one before it.
    case outOfOrder(position: Int)

    var description: String {
        switch self {
        case .negativeGeneration: "the page has a negative generation"
        case .cursorDidNotAdvance: "the page brings nothing past the position asked for"
        case .outOfOrder(let position): "entry \(position) of the page is out of (generation, id) order"
        }
    }
}

/// A page of a neighbour's catalog as it may be stored: in order, past the cursor, each entry within the bounds
/// of ``PeerLimits``.
struct CheckedCatalogPage: Sendable, Equatable {
    /// The entries kept, bounded, in the page's order.
    var entries: [CatalogEntry]
    /// Entries left out for a control character in one of their strings.
    var rejected: Int
    /// The position after the page's last entry (kept or not).
    var end: CatalogCursor
}

/// The checks a page of a neighbour's catalog passes before anything of it is stored. Pure, so that every rule is
/// tested without a database or a network.
enum CatalogPageCheck {
    /// Checks `page`, asked for after `cursor`, and bounds its entries.
    static func check(_ page: CatalogDelta, after cursor: CatalogCursor) throws(CatalogPageProblem)
        -> CheckedCatalogPage
    {
        guard page.generation >= 0, page.entries.allSatisfy({ $0.generation >= 0 }) else {
            throw .negativeGeneration
        }
        var position = cursor
        var kept: [CatalogEntry] = []
        kept.reserveCapacity(page.entries.count)
        var rejected = 0
        for (index, entry) in page.entries.enumerated() {
            guard position.precedes(generation: entry.generation, id: entry.id) else {
                throw index == 0 ? .cursorDidNotAdvance : .outOfOrder(position: index)
            }
            position = CatalogCursor(generation: entry.generation, after: entry.id)
            if let bounded = bounded(entry) {
                kept.append(bounded)
            } else {
                rejected += 1
            }
        }
        if page.more, page.entries.isEmpty { throw .cursorDidNotAdvance }
        return CheckedCatalogPage(entries: kept, rejected: rejected, end: position)
    }

    /// The entry with its strings cut to their byte bounds, an odd mime type replaced and its numbers clamped; nil
    /// when its mime type or a tag holds a control character. A path's control characters are replaced instead: a
    /// file name may hold any byte but `/` and NUL (a newline, an escape), and such a file is the household's like
    /// any other, so its entry is kept and only ever shown (``FileSystemName/displayText(_:)``).
    static func bounded(_ entry: CatalogEntry) -> CatalogEntry? {
        guard !entry.removed else {
            // A removal carries nothing to store.
            return CatalogEntry(id: entry.id, generation: entry.generation, removed: true, complete: false)
        }
        let strings = [entry.mimeType, entry.title, entry.artist, entry.album]
        guard !strings.contains(where: { $0.map(PeerLimits.containsControlCharacter) ?? false }) else { return nil }
        var bounded = entry
        bounded.mimeType =
            entry.mimeType.flatMap { PeerLimits.isValidMimeType($0) ? $0 : nil }
            ?? "application/octet-stream"
        bounded.path = entry.path.map {
            DisplayText.prefix(DisplayText.replacingControls($0), utf8Bytes: PeerLimits.maxCatalogPathBytes)
        }
        bounded.title = entry.title.map { DisplayText.prefix($0, utf8Bytes: PeerLimits.maxCatalogTextBytes) }
        bounded.artist = entry.artist.map { DisplayText.prefix($0, utf8Bytes: PeerLimits.maxCatalogTextBytes) }
        bounded.album = entry.album.map { DisplayText.prefix($0, utf8Bytes: PeerLimits.maxCatalogTextBytes) }
        bounded.size = min(max(entry.size, 0), ChunkManifest.maximumFileSize)
        bounded.durationMilliseconds = entry.durationMilliseconds.map {
            min(max($0, 0), PeerLimits.maxCatalogDurationMilliseconds)
        }
        bounded.width = entry.width.map { min(max($0, 0), PeerLimits.maxCatalogDimension) }
        bounded.height = entry.height.map { min(max($0, 0), PeerLimits.maxCatalogDimension) }
        // Photos only; a date in another form is dropped (the photo is then undated), not the entry.
        let isPhoto = entry.kind == .image
        bounded.dateTaken = entry.dateTaken.flatMap { isPhoto && PeerLimits.isValidDateTaken($0) ? $0 : nil }
        bounded.hasThumbnail = isPhoto && entry.hasThumbnail == true ? true : nil
        return bounded
    }

    /// A peer's name as it is stored: cut to ``PeerLimits/maxPeerNameBytes`` with control characters replaced, so
    /// that a name alone never keeps a neighbour's catalog out.
    static func peerName(_ name: String) -> String {
        DisplayText.prefix(DisplayText.replacingControls(name), utf8Bytes: PeerLimits.maxPeerNameBytes)
    }
}
