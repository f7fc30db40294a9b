import WireVocabulary

@testable import MediaServer

/// A tree source over a fixed list of items, grouped the way the catalog groups them.
struct FakeTree: MediaTreeSource {
    var items: [MediaTreeItem]
    /// Box peer id → its name and the ids of the items it holds.
    var boxes: [(id: String, name: String, holds: Set<ContentID>)] = []

    func items(in shelf: MediaShelf, offset: Int, limit: Int) async throws -> MediaPage<MediaTreeItem> {
        page(items.filter { matches($0, shelf) }.sorted { $0.title < $1.title }, offset, limit)
    }

    func groups(_ grouping: MediaGrouping, offset: Int, limit: Int) async throws -> MediaPage<MediaGroup> {
        page(allGroups(grouping), offset, limit)
    }

    func group(_ grouping: MediaGrouping, key: String) async throws -> MediaGroup? {
        allGroups(grouping).first { $0.key == key }
    }

    func item(_ id: ContentID) async throws -> MediaTreeItem? {
        items.first { $0.id == id }
    }

    func search(_ search: MediaSearch, offset: Int, limit: Int) async throws -> MediaPage<MediaTreeItem> {
        let found = items.filter { item in
            search.kinds.contains(item.kind)
                && search.words.allSatisfy { item.title.lowercased().contains($0.lowercased()) }
        }
        return page(found.sorted { $0.title < $1.title }, offset, limit)
    }

    private func matches(_ item: MediaTreeItem, _ shelf: MediaShelf) -> Bool {
        switch shelf {
        case .all(let kind): item.kind == kind
        case .artist(let name): item.kind == .audio && (item.artist ?? "") == name
        case .album(let name): item.kind == .audio && (item.album ?? "") == name
        case .month(let month): item.kind == .image && String((item.date ?? "").prefix(7)) == month
        case .box(let peer): boxes.first { $0.id == peer }?.holds.contains(item.id) ?? false
        }
    }

    private func allGroups(_ grouping: MediaGrouping) -> [MediaGroup] {
        if grouping == .boxes {
            return boxes.map { MediaGroup(key: $0.id, title: $0.name, itemCount: $0.holds.count) }
        }
        let keys: [String] = items.compactMap { item in
            switch grouping {
            case .artists: item.kind == .audio ? item.artist ?? "" : nil
            case .albums: item.kind == .audio ? item.album ?? "" : nil
            case .months: item.kind == .image ? String((item.date ?? "").prefix(7)) : nil
            case .boxes: nil
            }
        }
        var counts: [String: Int] = [:]
        for key in keys { counts[key, default: 0] += 1 }
        return counts.keys.sorted().map { MediaGroup(key: $0, title: $0, itemCount: counts[$0] ?? 0) }
    }

    private func page<T>(_ all: [T], _ offset: Int, _ limit: Int) -> MediaPage<T> {
        MediaPage(elements: Array(all.dropFirst(offset).prefix(limit)), total: all.count)
    }
}

/// A content id made of one repeated byte.
func contentID(_ byte: UInt8) -> ContentID {
    ContentID(bytes: [UInt8](repeating: byte, count: 32))!
}
