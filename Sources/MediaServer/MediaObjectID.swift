import WireVocabulary

/// The ids of the ContentDirectory's objects: short, stable across restarts, and parsed back without a table.
///
/// `0` root › `v` Videos; `m` Music › `m/all`, `m/artist` › `m/artist/NAME`, `m/album` › `m/album/NAME`;
/// `p` Photos › `p/all`, `p/date` › `p/2024-06` (or `p/undated`); `b` By box › `b/PEERID`; items `i/CONTENTID`.
enum MediaObjectID: Hashable, Sendable {
    case root
    case music
    case photos
    /// A container that lists groups: `m/artist`, `m/album`, `p/date`, and `b` (boxes).
    case groups(MediaGrouping)
    /// A container that lists items.
    case shelf(MediaShelf)
    case item(ContentID)

    /// Parses an id; nil for a malformed one (answered with 701, No such object).
    init?(_ text: String) {
        switch text {
        case "0": self = .root
        case "v": self = .shelf(.all(.video))
        case "m": self = .music
        case "p": self = .photos
        case "b": self = .groups(.boxes)
        case "m/all": self = .shelf(.all(.audio))
        case "p/all": self = .shelf(.all(.image))
        case "m/artist": self = .groups(.artists)
        case "m/album": self = .groups(.albums)
        case "p/date": self = .groups(.months)
        case "p/undated": self = .shelf(.month(""))
        default:
            if let name = Self.suffix(of: text, after: "m/artist/") {
                self = .shelf(.artist(name))
            } else if let name = Self.suffix(of: text, after: "m/album/") {
                self = .shelf(.album(name))
            } else if let month = Self.suffix(of: text, after: "p/"), Self.isMonth(month) {
                self = .shelf(.month(month))
            } else if let peer = Self.suffix(of: text, after: "b/"), !peer.isEmpty {
                self = .shelf(.box(peer))
            } else if let hex = Self.suffix(of: text, after: "i/"), let id = ContentID(hex: hex) {
                self = .item(id)
            } else {
                return nil
            }
        }
    }

    var text: String {
        switch self {
        case .root: "0"
        case .music: "m"
        case .photos: "p"
        case .groups(.boxes): "b"
        case .groups(.artists): "m/artist"
        case .groups(.albums): "m/album"
        case .groups(.months): "p/date"
        case .shelf(.all(let kind)):
            switch kind {
            case .audio: "m/all"
            case .image: "p/all"
            default: "v"
            }
        case .shelf(.artist(let name)): "m/artist/" + name
        case .shelf(.album(let name)): "m/album/" + name
        case .shelf(.month(let month)): month.isEmpty ? "p/undated" : "p/" + month
        case .shelf(.box(let peer)): "b/" + peer
        case .item(let id): "i/" + id.hex
        }
    }

    /// The container this one is shown in (`-1` for the root). An item's is given by where it is listed.
    var parentText: String {
        switch self {
        case .root: "-1"
        case .music, .photos, .groups(.boxes): "0"
        case .groups(.artists), .groups(.albums), .shelf(.all(.audio)): "m"
        case .groups(.months), .shelf(.all(.image)): "p"
        case .shelf(.all): "0"
        case .shelf(.artist): "m/artist"
        case .shelf(.album): "m/album"
        case .shelf(.month): "p/date"
        case .shelf(.box): "b"
        case .item: "0"
        }
    }

    /// The shelf a group's items are on.
    static func shelf(of grouping: MediaGrouping, key: String) -> MediaShelf {
        switch grouping {
        case .artists: .artist(key)
        case .albums: .album(key)
        case .months: .month(key)
        case .boxes: .box(key)
        }
    }

    private static func suffix(of text: String, after prefix: String) -> String? {
        text.hasPrefix(prefix) ? String(text.dropFirst(prefix.count)) : nil
    }

    /// `YYYY-MM`.
    private static func isMonth(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 7, bytes[4] == UInt8(ascii: "-") else { return false }
        return bytes.enumerated().allSatisfy { $0.offset == 4 || (0x30...0x39).contains($0.element) }
    }
}
