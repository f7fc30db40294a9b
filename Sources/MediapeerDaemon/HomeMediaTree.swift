import ControlWire
import MediaIndex
import MediaServer
import Replication
import WireVocabulary

/// The MediaServer's tree over the whole home: this box's catalog and the online neighbours' catalogs, with the
/// boxes named as the peer network knows them.
/// Videos carry the subtitles beside them on the same box, and photos their EXIF thumbnails (a neighbour's read
/// from its copy by ``PlayerRequests``).
struct HomeMediaTree: MediaTreeSource {
    let library: MediaLibrary
    let peerID: String
    /// This box's name, shown as its box in "By box".
    let name: String
    /// The neighbours whose latest health check succeeded (`PeerNetwork.neighbours`).
    let neighbours: @Sendable () async -> [Neighbour]
    private let orders = HomeShelfOrders()

    init(library: MediaLibrary, peerID: String, name: String, neighbours: @escaping @Sendable () async -> [Neighbour]) {
        self.library = library
        self.peerID = peerID
        self.name = name
        self.neighbours = neighbours
    }

    private var catalog: Catalog { library.catalog }

    func items(in shelf: MediaShelf, offset: Int, limit: Int) async throws -> MediaPage<MediaTreeItem> {
        let online = await neighbours().map(\.peerID)
        let page = try await catalog.browseHome(
            homeShelf(shelf), online: online, limit: limit, offset: offset, orders: orders)
        return MediaPage(
            elements: try await decorated(page.entries.compactMap(Self.treeItem), online), total: page.total)
    }

    func groups(_ grouping: MediaGrouping, offset: Int, limit: Int) async throws -> MediaPage<MediaGroup> {
        let neighbours = await neighbours()
        let online = neighbours.map(\.peerID)
        guard let homeGrouping = Self.homeGrouping(grouping) else {
            let boxes = [(peerID, name)] + neighbours.sorted { $0.name < $1.name }.map { ($0.peerID, $0.name) }
            var groups: [MediaGroup] = []
            for (id, name) in boxes.dropFirst(offset).prefix(limit) {
                let count = try await catalog.countHome(.box(peerID: id == peerID ? nil : id), online: online)
                groups.append(MediaGroup(key: id, title: name, itemCount: count))
            }
            return MediaPage(elements: groups, total: boxes.count)
        }
        let page = try await catalog.homeGroups(homeGrouping, online: online, limit: limit, offset: offset)
        return MediaPage(
            elements: page.groups.map { MediaGroup(key: $0.key, title: $0.key, itemCount: $0.count) }, total: page.total
        )
    }

    func group(_ grouping: MediaGrouping, key: String) async throws -> MediaGroup? {
        let neighbours = await neighbours()
        let online = neighbours.map(\.peerID)
        guard let homeGrouping = Self.homeGrouping(grouping) else {
            let boxName = key == peerID ? name : neighbours.first { $0.peerID == key }?.name
            guard let boxName else { return nil }
            let count = try await catalog.countHome(.box(peerID: key == peerID ? nil : key), online: online)
            return MediaGroup(key: key, title: boxName, itemCount: count)
        }
        return try await catalog.homeGroup(homeGrouping, key: key, online: online).map {
            MediaGroup(key: $0.key, title: $0.key, itemCount: $0.count)
        }
    }

    func item(_ id: ContentID) async throws -> MediaTreeItem? {
        let online = await neighbours().map(\.peerID)
        guard let item = try await catalog.homeEntry(id, online: online).flatMap(Self.treeItem) else { return nil }
        return try await decorated([item], online).first
    }

    func search(_ search: MediaSearch, offset: Int, limit: Int) async throws -> MediaPage<MediaTreeItem> {
        let online = await neighbours().map(\.peerID)
        let page = try await catalog.searchHome(
            search.words.joined(separator: " "), kinds: search.kinds, online: online, limit: limit, offset: offset)
        return MediaPage(
            elements: try await decorated(page.entries.compactMap(Self.treeItem), online), total: page.total)
    }

    /// `items` with the subtitles of their videos and whether their photos have thumbnails: two queries a page.
    private func decorated(_ items: [MediaTreeItem], _ online: [String]) async throws -> [MediaTreeItem] {
        let videos = items.filter { $0.kind == .video }.map(\.id)
        let photos = items.filter { $0.kind == .image }.map(\.id)
        let subtitles = videos.isEmpty ? [:] : try await catalog.subtitles(forVideos: videos, online: online)
        let thumbnails = photos.isEmpty ? [] : try await catalog.photosWithThumbnails(among: photos, online: online)
        return items.map { item in
            var item = item
            item.subtitles = (subtitles[item.id] ?? []).map { subtitle in
                MediaSubtitle(
                    id: subtitle.id, mimeType: subtitle.mimeType,
                    fileExtension: PlayerURL.fileExtension(path: subtitle.path, mimeType: subtitle.mimeType) ?? "srt")
            }
            item.hasThumbnail = thumbnails.contains(item.id)
            return item
        }
    }

    /// The ContentDirectory's SystemUpdateID: this box's catalog generation plus those the neighbours announce,
    /// and how many are online, so it moves when any box's catalog changes or a box comes or goes.
    func systemUpdateID() async -> UInt32 {
        let own = (try? await library.generation()) ?? 0
        let neighbours = await neighbours()
        let sum = neighbours.reduce(own &+ Int64(neighbours.count)) { $0 &+ ($1.generation ?? 0) }
        return UInt32(truncatingIfNeeded: sum)
    }

    // MARK: Mapping

    private func homeShelf(_ shelf: MediaShelf) -> HomeShelf {
        switch shelf {
        case .all(let kind): .kind(kind)
        case .artist(let name): .artist(name)
        case .album(let name): .album(name)
        case .month(let month): .month(month)
        case .box(let id): .box(peerID: id == peerID ? nil : id)
        }
    }

    private static func homeGrouping(_ grouping: MediaGrouping) -> HomeGrouping? {
        switch grouping {
        case .artists: .artists
        case .albums: .albums
        case .months: .months
        case .boxes: nil
        }
    }

    /// Nil for an object without a content id (the catalog's browse queries list none).
    static func treeItem(_ entry: HomeEntry) -> MediaTreeItem? {
        let item = entry.item
        guard let id = item.id else { return nil }
        return MediaTreeItem(
            id: id, kind: item.kind, title: DisplayTitle.of(title: item.title, path: item.path) ?? id.hex,
            mimeType: item.mimeType, size: item.size,
            fileExtension: PlayerURL.fileExtension(path: item.path, mimeType: item.mimeType), artist: item.artist,
            album: item.album, date: entry.dateTaken, durationMilliseconds: item.durationMilliseconds,
            width: item.width, height: item.height)
    }
}
