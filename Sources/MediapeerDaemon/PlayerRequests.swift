import ControlWire
import Logging
import MediaIndex
import NIOCore
import PeerProtocol
import PeerWire
import PlayerEndpoint
import Replication
import WireVocabulary

/// Answers the player endpoint from the index: titles from this box's files and replicas, else from the online
/// neighbours' catalogs. A title held whole here is sent from its file; any other is fetched while it plays
/// (`Fetcher.play`), and the fetch goes on in the background once the player leaves.
final class PlayerRequests: PlayerRequestHandler {
    private let catalog: Catalog
    private let objects: any ObjectServing
    private let neighbourhood: any Neighbourhood
    private let fetcher: Fetcher
    private let logger: Logger
    private let demand: DemandLedger
    private let remoteThumbnails: RemoteThumbnails

    /// Holders tried for a neighbour's photo's thumbnail, each within ``RemoteThumbnails/timeout``.
    static let thumbnailHoldersTried = 2

    /// - parameter client: reads the thumbnails of neighbours' photos from their holders.
    init(
        catalog: Catalog, objects: any ObjectServing, neighbourhood: any Neighbourhood, fetcher: Fetcher,
        demand: DemandLedger, client: PeerClient = PeerClient(), logger: Logger
    ) {
        self.demand = demand
        self.catalog = catalog
        self.objects = objects
        self.neighbourhood = neighbourhood
        self.fetcher = fetcher
        self.logger = logger
        remoteThumbnails = RemoteThumbnails(client: client, logger: logger)
    }

    func title(_ id: ContentID) async throws -> PlayableTitle? {
        let online = await neighbourhood.neighbours().map(\.peerID)
        // A partial replica counts too: the play waits (bounded) for a holder and says why it cannot go on, rather
        // than denying a title this box was just playing.
        guard let found = try await catalog.playbackDescription(of: id, online: online),
            var title = Self.playable(found.entry)
        else { return nil }
        // CaptionInfo.sec names an `.srt`: SubRip subtitles only.
        title.subtitleIDs = found.subtitles.filter { $0.mimeType == "text/srt" }.map(\.id)
        return title
    }

    func open(_ title: PlayableTitle) async throws -> PlayerSource {
        // ServableObjects checks that a media file still matches what was hashed (size, mtime, inode).
        if let object = try await objects.servableObject(title.id), object.available.isComplete,
            object.size == title.size
        {
            return .file(path: object.path)
        }
        do {
            let stream = try await fetcher.play(
                title.id, title: title.title, size: title.size, durationMilliseconds: title.durationMilliseconds)
            return .stream(FetchingStream(stream: stream))
        } catch {
            throw PlaybackUnavailable(reason: "\"\(DisplayText.escaped(title.title))\" cannot be fetched: \(error)")
        }
    }

    func playlist(kind: MediaKind?, words: String?, limit: Int) async throws -> [PlayableTitle] {
        let online = await neighbourhood.neighbours().map(\.peerID)
        let items =
            if let words {
                try await catalog.searchHome(words, kind: kind, limit: limit, online: online)
            } else {
                try await catalog.listHome(kind: kind, limit: limit, offset: 0, online: online).items
            }
        // Only what some box can send whole: a file here, or a neighbour holding it complete.
        return items.compactMap { item in
            guard let id = item.id, item.local || !item.holders.isEmpty else { return nil }
            return PlayableTitle(
                id: id, kind: item.kind, mimeType: item.mimeType, size: item.size, title: item.displayTitle,
                durationMilliseconds: item.durationMilliseconds,
                fileExtension: PlayerURL.fileExtension(path: item.path, mimeType: item.mimeType))
        }
    }

    func playStarted(_ title: PlayableTitle, client: String) async {
        await demand.record(.play, of: title.id)
        logger.info(
            "play started",
            metadata: [
                "id": "\(title.id.hex)", "title": "\(DisplayText.escaped(title.title))", "client": "\(client)",
            ])
    }

    /// The thumbnail of a photo file of this box, else of a neighbour's photo, read from a box that holds it whole
    /// (a TV loads it from this box, the one it browses, whichever box holds the photo).
    func thumbnail(_ id: ContentID) async throws -> [UInt8]? {
        if let own = try await catalog.thumbnail(of: id) { return own }
        let neighbours = await neighbourhood.neighbours()
        let holders = try await catalog.thumbnailHolders(of: id, online: neighbours.map(\.peerID))
        for holder in holders.prefix(Self.thumbnailHoldersTried) {
            guard let endpoint = neighbours.first(where: { $0.peerID == holder.peerID })?.endpoint else { continue }
            if let thumbnail = await remoteThumbnails.thumbnail(of: id, size: holder.size, from: endpoint) {
                return thumbnail
            }
        }
        return nil
    }

    private static func playable(_ entry: CatalogEntry) -> PlayableTitle? {
        guard let kind = entry.kind else { return nil }
        return PlayableTitle(
            id: entry.id, kind: kind, mimeType: entry.mimeType ?? "application/octet-stream", size: entry.size,
            title: entry.displayTitle, durationMilliseconds: entry.durationMilliseconds,
            fileExtension: entry.path.flatMap { PlayerURL.fileExtension(path: $0, mimeType: entry.mimeType) })
    }
}

/// A title fetched while it plays, as the player endpoint reads it.
struct FetchingStream: PlayerByteStream {
    let stream: PlaybackStream

    func want(_ range: ClosedRange<Int64>) async {
        await stream.want(range)
    }

    func read(from offset: Int64, maxLength: Int) async throws -> ByteBuffer {
        do {
            return try await stream.read(from: offset, maxLength: maxLength)
        } catch .unavailable(let reason) {
            throw PlaybackUnavailable(reason: reason)
        } catch .cancelled {
            throw CancellationError()
        }
    }

    func close() async {
        await stream.close()
    }
}
