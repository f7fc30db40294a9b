import ContentID
import MediaIndex
import PeerWire
import Testing
import WireVocabulary

@testable import Replication

/// Neighbours that are online, whatever else is known of them.
private struct OnlineNeighbours: Neighbourhood {
    var ids: [String]

    func neighbours() async -> [Neighbour] {
        ids.map { Neighbour(peerID: $0, name: $0, addresses: ["127.0.0.1"], port: 1, generation: nil) }
    }
}

/// What a content id, a prefix or the words of a title name, over a real index holding neighbours' catalogs.
@Suite struct ReferenceResolverTests {
    let fixture: IndexFixture
    let resolver: ReferenceResolver

    init() throws {
        fixture = try IndexFixture()
        resolver = ReferenceResolver(catalog: fixture.catalog, neighbourhood: OnlineNeighbours(ids: ["online"]))
    }

    private func id(_ first: [UInt8], _ rest: UInt8) -> ContentID {
        ContentID(bytes: first + [UInt8](repeating: rest, count: 32 - first.count))!
    }

    /// Lists objects in a neighbour's catalog, by title.
    private func list(_ objects: [(ContentID, String)], at peer: String = "online") async throws {
        let entries = objects.map { id, title in
            CatalogEntry(
                id: id, generation: 1, size: 1000, kind: .video, mimeType: "video/mp4", path: "films/\(title).mkv",
                title: title)
        }
        try await fixture.catalog.applyRemoteDelta(
            peerID: peer, name: peer,
            delta: CatalogDelta(
                epoch: "e", generation: 1, entries: entries, more: false), restart: false)
    }

    @Test func aFullContentIDResolvesToItselfWithItsTitle() async throws {
        let film = id([1], 1)
        try await list([(film, "Holiday")])
        #expect(try await resolver.resolve(film.hex) == ResolvedReference(id: film, title: "Holiday"))
    }

    @Test func aUniquePrefixOfEightHexDigitsResolves() async throws {
        let film = id([0xAB, 0xCD, 0xEF, 0x01], 1)
        try await list([(film, "Holiday"), (id([0xAB, 0xCD, 0xEF, 0x02], 1), "Other")])
        #expect(try await resolver.resolve("abcdef01") == ResolvedReference(id: film, title: "Holiday"))
    }

    @Test func aPrefixSharedByTwoObjectsIsAmbiguous() async throws {
        let first = id([0xAB, 0xCD, 0xEF, 0x01], 1)
        let second = id([0xAB, 0xCD, 0xEF, 0x01], 2)
        try await list([(first, "Holiday"), (second, "Other")])
        let error = await #expect(throws: ResolutionError.self) { try await resolver.resolve("abcdef01") }
        guard case .ambiguousPrefix(let prefix, let candidates)? = error else {
            Issue.record("not an ambiguous prefix: \(String(describing: error))")
            return
        }
        #expect(prefix == "abcdef01" && Set(candidates) == [first, second])
    }

    @Test func wordsOfOneTitleResolveToIt() async throws {
        try await list([(id([1], 1), "Summer Holiday"), (id([2], 2), "Winter Walk")])
        #expect(try await resolver.resolve("summer") == ResolvedReference(id: id([1], 1), title: "Summer Holiday"))
    }

    @Test func anExactTitleWinsOverLongerTitlesContainingIt() async throws {
        try await list([(id([1], 1), "Beach"), (id([2], 2), "Beach Party"), (id([3], 3), "Beach Walk")])
        #expect(try await resolver.resolve("beach") == ResolvedReference(id: id([1], 1), title: "Beach"))
    }

    @Test func wordsMatchingSeveralTitlesAreAmbiguousAndNameThem() async throws {
        try await list([(id([1], 1), "Beach Party"), (id([2], 2), "Garden Party"), (id([3], 3), "Forest")])
        let error = await #expect(throws: ResolutionError.self) { try await resolver.resolve("party") }
        guard case .ambiguousTitle(let reference, let candidates)? = error else {
            Issue.record("not an ambiguous title: \(String(describing: error))")
            return
        }
        #expect(reference == "party")
        #expect(Set(candidates.map(\.title)) == ["Beach Party", "Garden Party"])
    }

    @Test func anObjectListedOnlyByAnOfflineNeighbourIsNotFoundByTitle() async throws {
        try await list([(id([1], 1), "Holiday")], at: "offline")
        await #expect(throws: ResolutionError.noMatch(reference: "holiday")) { try await resolver.resolve("holiday") }
    }

    @Test func wordsMatchingNothingAreNoMatch() async throws {
        try await list([(id([1], 1), "Holiday")])
        await #expect(throws: ResolutionError.noMatch(reference: "zebra")) { try await resolver.resolve("zebra") }
    }

    @Test func aFileOfThisBoxIsFoundByItsName() async throws {
        let (_, manifest) = try fixture.addIndexedPhoto("lighthouse.jpg", seed: 1)
        #expect(
            try await resolver.resolve("lighthouse")
                == ResolvedReference(id: manifest.contentID, title: "lighthouse.jpg"))
    }
}
