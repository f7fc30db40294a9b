import Foundation
import GRDB
import Logging
import PeerWire
import Testing
import WireVocabulary

@testable import MediaIndex

/// The DLNA tree's queries on a real index: this box's rows are written directly (as the scanner and hasher would
/// leave them), the neighbours' through `applyRemoteDelta`.
@Suite final class CatalogBrowseTests {
    let base = NSTemporaryDirectory() + "browse-" + UUID().uuidString
    var library: MediaLibrary
    var catalog: Catalog { library.catalog }

    init() throws {
        try FileManager.default.createDirectory(atPath: base + "/media", withIntermediateDirectories: true)
        library = try MediaLibrary(
            configuration: LibraryConfiguration(mediaFolders: [base + "/media"], stateDirectory: base + "/state"),
            logger: Logger(label: "browse-test"))
    }

    deinit {
        library.shutdown()
        try? FileManager.default.removeItem(atPath: base)
    }

    // MARK: Helpers

    private func id(_ number: Int) -> ContentID {
        ContentID(bytes: (0..<32).map { $0 < 4 ? UInt8(truncatingIfNeeded: number >> (8 * $0)) : 0x5A })!
    }

    private struct LocalFile {
        var id: ContentID
        var kind: MediaKind
        var title: String?
        var artist: String? = nil
        var album: String? = nil
        var date: String? = nil
        var path: String? = nil
    }

    /// Hashed files of this box.
    private func addLocal(_ files: [LocalFile]) throws {
        try catalog.pool.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO root(id, path) VALUES (1, ?)", arguments: [base + "/media"])
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO media(root_id, rel_path, kind, mime, size, mtime_ns, inode, metadata_state, title, artist,
                        album, date_taken, content_id, generation)
                    VALUES (1, ?, ?, ?, 100, 0, 0, 1, ?, ?, ?, ?, ?, 1)
                    """)
            for file in files {
                let mime = file.kind == .video ? "video/mp4" : file.kind == .audio ? "audio/mpeg" : "image/jpeg"
                try insert.execute(arguments: [
                    file.path ?? file.id.hex, file.kind.rawValue, mime, file.title, file.artist, file.album, file.date,
                    Data(file.id.bytes),
                ])
            }
        }
    }

    private func addRemote(_ peerID: String, _ entries: [CatalogEntry]) async throws {
        try await catalog.applyRemoteDelta(
            peerID: peerID, name: peerID.uppercased(),
            delta: CatalogDelta(epoch: "e", generation: 1, entries: entries, more: false), restart: false)
    }

    private func remote(
        _ id: ContentID, _ kind: MediaKind, _ title: String, artist: String? = nil, complete: Bool = true
    ) -> CatalogEntry {
        CatalogEntry(
            id: id, generation: 1, complete: complete, size: 100, kind: kind, mimeType: "video/x-matroska",
            path: "dir/\(title).mkv", title: title, artist: artist)
    }

    // MARK: Shelves

    @Test func aKindShelfMergesTheSameContentAndLeavesOfflinePeersOut() async throws {
        try addLocal([LocalFile(id: id(1), kind: .video, title: "Alpha")])
        try await addRemote("p1", [remote(id(1), .video, "Alpha"), remote(id(2), .video, "Beta")])
        try await addRemote("p2", [remote(id(3), .video, "Gamma"), remote(id(4), .audio, "Song")])
        let (entries, total) = try await catalog.browseHome(.kind(.video), online: ["p1"], limit: 10, offset: 0)
        #expect(total == 2)
        #expect(entries.map(\.item.title) == ["Alpha", "Beta"])
        #expect(entries[0].item.local && entries[0].item.holders == ["p1"])
        #expect(!entries[1].item.local)
        #expect(try await catalog.countHome(.kind(.video), online: ["p1", "p2"]) == 3)
    }

    @Test func pagesOfAShelfSeeEveryObjectOnceInTitleOrder() async throws {
        try addLocal((0..<150).map { LocalFile(id: id($0), kind: .audio, title: String(format: "Track %03d", $0)) })
        try await addRemote("p1", (150..<250).map { remote(id($0), .audio, String(format: "Track %03d", $0)) })
        var titles: [String] = []
        for offset in stride(from: 0, to: 300, by: 60) {
            let (entries, total) = try await catalog.browseHome(
                .kind(.audio), online: ["p1"], limit: 60, offset: offset)
            #expect(total == 250)
            titles += entries.compactMap(\.item.title)
        }
        #expect(titles == (0..<250).map { String(format: "Track %03d", $0) })
    }

    @Test func untitledObjectsSortByTheirPath() async throws {
        try addLocal([
            LocalFile(id: id(1), kind: .video, title: nil, path: "zebra.mkv"),
            LocalFile(id: id(2), kind: .video, title: "Mango"),
        ])
        let (entries, _) = try await catalog.browseHome(.kind(.video), online: [], limit: 10, offset: 0)
        #expect(entries.map(\.item.path) == [id(2).hex, "zebra.mkv"])
    }

    // MARK: Groups

    @Test func artistsAreGroupedAcrossTheHomeWithTheUnknownLast() async throws {
        try addLocal([
            LocalFile(id: id(1), kind: .audio, title: "A1", artist: "Ann"),
            LocalFile(id: id(2), kind: .audio, title: "A2", artist: "Ann"),
            LocalFile(id: id(3), kind: .audio, title: "N1"),
        ])
        try await addRemote(
            "p1", [remote(id(4), .audio, "B1", artist: "bob"), remote(id(1), .audio, "A1", artist: "Ann")])
        let (groups, total) = try await catalog.homeGroups(.artists, online: ["p1"], limit: 10, offset: 0)
        #expect(total == 3)
        #expect(
            groups == [HomeGroup(key: "Ann", count: 2), HomeGroup(key: "bob", count: 1), HomeGroup(key: "", count: 1)])
        let (ann, annTotal) = try await catalog.browseHome(.artist("Ann"), online: ["p1"], limit: 10, offset: 0)
        #expect(annTotal == 2)
        #expect(ann.map(\.item.title) == ["A1", "A2"])
        #expect(try await catalog.homeGroup(.artists, key: "Nobody", online: ["p1"]) == nil)
        #expect(try await catalog.homeGroup(.artists, key: "bob", online: []) == nil)
    }

    @Test func albumsAreGroupedByName() async throws {
        try addLocal([
            LocalFile(id: id(1), kind: .audio, title: "T1", album: "First"),
            LocalFile(id: id(2), kind: .audio, title: "T2", album: "Second"),
            LocalFile(id: id(3), kind: .audio, title: "T3", album: "First"),
        ])
        let (groups, _) = try await catalog.homeGroups(.albums, online: [], limit: 10, offset: 0)
        #expect(groups == [HomeGroup(key: "First", count: 2), HomeGroup(key: "Second", count: 1)])
        #expect(try await catalog.countHome(.album("First"), online: []) == 2)
    }

    @Test func photosAreGroupedByMonthNewestFirstWithTheUndatedLast() async throws {
        try addLocal([
            LocalFile(id: id(1), kind: .image, title: "P1", date: "2023-01-05T10:00:00"),
            LocalFile(id: id(2), kind: .image, title: "P2", date: "2024-06-01T09:00:00"),
            LocalFile(id: id(3), kind: .image, title: "P3", date: "2024-06-30T18:00:00"),
        ])
        try await addRemote("p1", [remote(id(4), .image, "Remote photo")])
        let (groups, total) = try await catalog.homeGroups(.months, online: ["p1"], limit: 10, offset: 0)
        #expect(total == 3)
        #expect(groups.map(\.key) == ["2024-06", "2023-01", ""])
        #expect(groups.map(\.count) == [2, 1, 1])
        let (june, _) = try await catalog.browseHome(.month("2024-06"), online: ["p1"], limit: 10, offset: 0)
        #expect(june.map(\.dateTaken) == ["2024-06-01T09:00:00", "2024-06-30T18:00:00"])
        let (page, pagedTotal) = try await catalog.homeGroups(.months, online: ["p1"], limit: 1, offset: 1)
        #expect(pagedTotal == 3 && page.map(\.key) == ["2023-01"])
    }

    @Test func aNeighboursPhotoIsUnderTheMonthItsCatalogSaysItWasTaken() async throws {
        var dated = remote(id(1), .image, "Dated")
        dated.dateTaken = "2024-06-01T10:00:00"
        var malformed = remote(id(2), .image, "Malformed")
        malformed.dateTaken = "June 2024"
        try await addRemote("p1", [dated, malformed, remote(id(3), .image, "Old box")])
        let (groups, _) = try await catalog.homeGroups(.months, online: ["p1"], limit: 10, offset: 0)
        #expect(groups.map(\.key) == ["2024-06", ""])
        #expect(groups.map(\.count) == [1, 2])
        let (june, _) = try await catalog.browseHome(.month("2024-06"), online: ["p1"], limit: 10, offset: 0)
        #expect(june.map(\.item.id) == [id(1)])
        #expect(june.map(\.dateTaken) == ["2024-06-01T10:00:00"])
        #expect(try await catalog.remoteDescription(of: id(1))?.dateTaken == "2024-06-01T10:00:00")
        // Offline, its month is empty.
        #expect(try await catalog.homeGroups(.months, online: [], limit: 10, offset: 0).total == 0)
    }

    @Test func aNeighboursPhotoWithAThumbnailIsListedWhileItsCompleteHolderIsOnline() async throws {
        var whole = remote(id(1), .image, "Whole")
        whole.hasThumbnail = true
        var partial = remote(id(2), .image, "Partial", complete: false)
        partial.hasThumbnail = true
        try await addRemote("p1", [whole, partial, remote(id(3), .image, "None")])
        let all = [id(1), id(2), id(3)]
        #expect(try await catalog.photosWithThumbnails(among: all, online: ["p1"]) == [id(1)])
        #expect(try await catalog.photosWithThumbnails(among: all, online: []).isEmpty)
        let holders = try await catalog.thumbnailHolders(of: id(1), online: ["p1"])
        #expect(holders.map(\.peerID) == ["p1"] && holders.map(\.size) == [100])
        #expect(try await catalog.thumbnailHolders(of: id(2), online: ["p1"]).isEmpty)
        #expect(try await catalog.thumbnailHolders(of: id(1), online: ["p2"]).isEmpty)
    }

    @Test func thisBoxsCatalogGivesItsPhotosDatesAndThumbnails() async throws {
        try addLocal([
            LocalFile(id: id(1), kind: .image, title: "P1", date: "2024-06-01T10:00:00"),
            LocalFile(id: id(2), kind: .video, title: "V"),
        ])
        try await catalog.pool.write { db in
            try db.execute(sql: "UPDATE media SET has_thumbnail = 1 WHERE kind = 'image'")
        }
        let entries = try await catalog.delta(since: 0, after: nil, limit: 10).entries
        let photo = try #require(entries.first { $0.id == id(1) })
        #expect(photo.dateTaken == "2024-06-01T10:00:00" && photo.hasThumbnail == true)
        let video = try #require(entries.first { $0.id == id(2) })
        #expect(video.dateTaken == nil && video.hasThumbnail == nil)
    }

    // MARK: Boxes, single objects, search

    @Test func aBoxShelfIsWhatThatBoxHoldsCompletely() async throws {
        try addLocal([LocalFile(id: id(1), kind: .video, title: "Mine")])
        try await addRemote(
            "p1",
            [
                remote(id(1), .video, "Mine"), remote(id(2), .video, "Theirs"),
                remote(id(3), .video, "Half", complete: false),
            ])
        #expect(
            try await catalog.browseHome(.box(peerID: nil), online: ["p1"], limit: 10, offset: 0).entries.map(
                \.item.title) == ["Mine"])
        let (theirs, total) = try await catalog.browseHome(.box(peerID: "p1"), online: ["p1"], limit: 10, offset: 0)
        #expect(total == 2)
        #expect(theirs.map(\.item.title) == ["Mine", "Theirs"])
        #expect(try await catalog.countHome(.box(peerID: "p1"), online: []) == 0)
    }

    @Test func anEntryIsFoundHereOrAtAnOnlineNeighbour() async throws {
        try addLocal([LocalFile(id: id(1), kind: .image, title: "Here", date: "2024-01-01T00:00:00")])
        try await addRemote("p1", [remote(id(2), .video, "There")])
        let here = try #require(try await catalog.homeEntry(id(1), online: []))
        #expect(here.item.local && here.dateTaken == "2024-01-01T00:00:00")
        #expect(try await catalog.homeEntry(id(2), online: ["p1"])?.item.holders == ["p1"])
        #expect(try await catalog.homeEntry(id(2), online: []) == nil)
        #expect(try await catalog.homeEntry(id(3), online: ["p1"]) == nil)
    }

    @Test func searchFindsWordsAmongKindsWithATotal() async throws {
        try addLocal([
            LocalFile(id: id(1), kind: .video, title: "Blue Planet"),
            LocalFile(id: id(2), kind: .audio, title: "Blue Song"),
        ])
        try await addRemote("p1", [remote(id(3), .video, "Blue Lagoon"), remote(id(4), .video, "Red Planet")])
        let (videos, total) = try await catalog.searchHome("blue", kinds: [.video], online: ["p1"], limit: 1, offset: 1)
        #expect(total == 2)
        #expect(videos.map(\.item.title) == ["Blue Planet"])
        #expect(
            try await catalog.searchHome("", kinds: [.video, .audio], online: ["p1"], limit: 0, offset: 0).total == 4)
        #expect(
            try await catalog.searchHome("planet", kinds: Set(MediaKind.allCases), online: [], limit: 10, offset: 0)
                .total == 1)
    }

    // MARK: Orders for paging

    @Test func anOrderListsTheShelfAsItsPagesDoAndEntriesFollowIt() async throws {
        try addLocal((0..<30).map { LocalFile(id: id($0), kind: .audio, title: "Song \(($0 * 7) % 30)") })
        try await addRemote("p1", (30..<40).map { remote(id($0), .audio, "Remote \($0)") })
        let order = try await catalog.homeOrder(.kind(.audio), online: ["p1"])
        let paged = try await catalog.browseHome(.kind(.audio), online: ["p1"], limit: 100, offset: 0).entries
        #expect(order == paged.compactMap(\.item.id))
        let slice = Array(order[5..<9])
        #expect(try await catalog.homeEntries(slice, online: ["p1"]).compactMap(\.item.id) == slice)
        #expect(try await catalog.homeEntries([id(35), id(99)], online: []).isEmpty)
    }

    @Test func pagesThroughKeptOrdersAreThePagesOfTheShelf() async throws {
        try addLocal((0..<40).map { LocalFile(id: id($0), kind: .video, title: "Film \(($0 * 13) % 40)") })
        let orders = HomeShelfOrders()
        for offset in stride(from: 0, to: 50, by: 15) {
            let kept = try await catalog.browseHome(
                .kind(.video), online: [], limit: 15, offset: offset, orders: orders)
            let plain = try await catalog.browseHome(.kind(.video), online: [], limit: 15, offset: offset)
            #expect(kept.total == 40)
            #expect(kept.entries == plain.entries)
        }
    }

    @Test func aKeptOrderIsDroppedWhenTheCatalogChanges() async throws {
        try addLocal([LocalFile(id: id(1), kind: .video, title: "Local")])
        let orders = HomeShelfOrders()
        let before = try await catalog.browseHome(.kind(.video), online: ["p1"], limit: 10, offset: 0, orders: orders)
        #expect(before.total == 1)
        try await addRemote("p1", [remote(id(2), .video, "Arrived")])
        let after = try await catalog.browseHome(.kind(.video), online: ["p1"], limit: 10, offset: 0, orders: orders)
        #expect(after.total == 2)
        #expect(after.entries.map(\.item.title) == ["Arrived", "Local"])
    }

    @Test func aCountAloneKeepsNoOrder() async throws {
        try addLocal([LocalFile(id: id(1), kind: .audio, title: "Song")])
        let orders = HomeShelfOrders()
        #expect(try await catalog.browseHome(.kind(.audio), online: [], limit: 0, offset: 0, orders: orders).total == 1)
        let key = HomeShelfOrders.Key(shelf: .kind(.audio), online: [], version: try await catalog.homeVersion())
        #expect(orders.order(for: key) == nil)
    }

    @Test func onlyTheLastShelvesOrdersAreKept() {
        let orders = HomeShelfOrders()
        let keys = (0..<4).map { HomeShelfOrders.Key(shelf: .artist("A\($0)"), online: [], version: "v") }
        for (index, key) in keys.enumerated() { orders.keep([id(index)], for: key) }
        #expect(orders.order(for: keys[0]) == nil)
        #expect(orders.order(for: keys[3]) == [id(3)])
        orders.keep([id(9)], for: HomeShelfOrders.Key(shelf: .kind(.video), online: [], version: "w"))
        #expect(orders.order(for: keys[3]) == nil)
    }

    @Test func theVersionMovesWhenANeighboursCatalogChanges() async throws {
        let before = try await catalog.homeVersion()
        try await addRemote("p1", [remote(id(1), .video, "New")])
        let after = try await catalog.homeVersion()
        #expect(before != after)
        #expect(try await catalog.homeVersion() == after)
    }

    // MARK: Query plans

    /// A TV paging through Videos in a home of many photos reads the videos' rows by index, here and in each
    /// neighbour's catalog, not every row.
    @Test func aKindShelfReadsItsRowsThroughTheKindIndexes() async throws {
        let query = Catalog.shelfQuery(.kind(.video), online: ["p1"])
        let plan = try await catalog.pool.read { db in
            try Row.fetchAll(
                db, sql: "EXPLAIN QUERY PLAN SELECT * \(query.sql) ORDER BY sort_key, content_id LIMIT 50 OFFSET 100",
                arguments: query.arguments
            ).map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("media USING INDEX media_by_kind") }, "\(plan)")
        #expect(plan.contains { $0.contains("remote_object USING INDEX remote_by_peer_kind") }, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN media") || $0.hasPrefix("SCAN remote_object") }, "\(plan)")
    }

    /// A page of objects (a Browse page, a player's title) reads each neighbour's rows by content id: through the
    /// index on (peer_id, kind), a page of 100 read all of a 20,000-title neighbour's rows (9 ms against 0.4 ms).
    @Test func aPageOfObjectsReadsTheNeighboursRowsByContentID() async throws {
        let query = Catalog.homeQuery(kind: nil, online: ["p1", "p2"], contentIDs: (1...100).map(id))
        let plan = try await catalog.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT * \(query.sql)", arguments: query.arguments).map {
                $0["detail"] as String
            }
        }
        #expect(plan.contains { $0.contains("remote_object USING INDEX remote_by_content") }, "\(plan)")
        #expect(!plan.contains { $0.contains("remote_by_peer_kind") || $0.hasPrefix("SCAN remote_object") }, "\(plan)")
    }
}
