import Foundation
import GRDB
import Testing
import WireVocabulary

@testable import MediaIndex

/// The demand rows: written without moving the catalog generation, and a neighbour's figures forgotten with it.
extension CatalogTests {
    private var title: ContentID { ContentID(bytes: [UInt8](repeating: 0xDE, count: 32))! }

    @Test func demandWritesDoNotMoveTheCatalogGeneration() async throws {
        let before = try await library.generation()
        try await catalog.updateLocalDemand([title]) { id, _ in
            LocalDemandRecord(id: id, plays: 1, fetches: 0, served: 0, at: 100)
        }
        try await catalog.replaceRemoteDemand(
            peerID: "p1", name: "One", generation: 3,
            entries: [RemoteDemandRecord(peerID: "p1", id: title, value: 2, at: 100)])
        try await catalog.updatePresence(peerID: "p1", name: "One") { record in
            var record = record
            record.at = 100
            record.present = true
            return record
        }
        #expect(try await library.generation() == before)
        #expect(try await catalog.localDemand().map(\.plays) == [1])
        #expect(try await catalog.remoteDemandGeneration(peerID: "p1") == 3)
    }

    @Test func forgettingANeighbourForgetsItsDemandAndPresence() async throws {
        try await catalog.replaceRemoteDemand(
            peerID: "p1", name: "One", generation: 3,
            entries: [RemoteDemandRecord(peerID: "p1", id: title, value: 2, at: 100)])
        try await catalog.forgetRemotePeer(peerID: "p1")
        #expect(try await catalog.remoteDemand().isEmpty)
        #expect(try await catalog.presences().isEmpty)
        #expect(try await catalog.remoteDemandGeneration(peerID: "p1") == nil)
    }

    @Test func aMergeReturningNilDeletesTheRow() async throws {
        try await catalog.updateLocalDemand([title]) { id, _ in
            LocalDemandRecord(id: id, plays: 1, fetches: 0, served: 0, at: 100)
        }
        try await catalog.updateLocalDemand([title]) { _, stored in
            #expect(stored?.plays == 1)
            return nil
        }
        #expect(try await catalog.localDemand().isEmpty)
    }
}
