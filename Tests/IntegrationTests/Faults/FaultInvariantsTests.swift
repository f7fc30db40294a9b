import Foundation
import Testing

/// The fault suite's checker over made-up facts: each invariant is reported when broken, and only then.
@Suite struct FaultInvariantsTests {
    private static let replica = String(repeating: "ab", count: 32)
    private static let film = String(repeating: "cd", count: 32)

    /// A box at rest that keeps every promise: one film in its media, one complete replica in its cache.
    private static func healthy() -> BoxFacts {
        BoxFacts(
            box: 1, peerID: "peer-1", mediaBefore: ["film.mkv": "f1"], mediaAfter: ["film.mkv": "f1"],
            integrityCheck: "ok\n", indexedPaths: ["film.mkv"], mediaContentIDs: [film],
            replicaRecords: [replica: true],
            cacheFiles: [.init(name: replica, size: 100, contentIDOfBytes: replica)], cacheMaxBytes: 1000,
            statusAnsweredAfter: .seconds(1), daemonRunning: true)
    }

    private static func invariants(_ facts: BoxFacts, views: [CatalogView] = []) -> [InvariantViolation.Invariant] {
        FaultInvariants.violations([facts], views: views, statusBound: .seconds(10)).map(\.invariant)
    }

    @Test func aHealthyBoxKeepsEveryPromise() {
        let views = [CatalogView(observer: 2, subject: 1, entries: [Self.replica: true, Self.film: true])]
        #expect(Self.invariants(Self.healthy(), views: views).isEmpty)
    }

    @Test func aChangedMediaFileIsReported() {
        var facts = Self.healthy()
        facts.mediaAfter["film.mkv"] = "f2"
        #expect(Self.invariants(facts) == [.mediaUnchanged])
    }

    @Test func aVanishedMediaFileIsReportedAndSoIsItsIndexRow() {
        var facts = Self.healthy()
        facts.mediaAfter = [:]
        #expect(Self.invariants(facts) == [.mediaUnchanged, .indexMatchesMedia])
    }

    @Test func aFileWrittenIntoTheMediaFolderIsReported() {
        var facts = Self.healthy()
        facts.mediaAfter[".mediapeer-tmp"] = "00"
        facts.indexedPaths.insert(".mediapeer-tmp")
        #expect(Self.invariants(facts) == [.nothingWrittenInMedia])
    }

    @Test func aDamagedIndexIsReported() {
        var facts = Self.healthy()
        facts.integrityCheck = "*** in database main ***\nPage 7: btreeInitPage() returns error code 11"
        #expect(Self.invariants(facts) == [.indexIntact])
    }

    @Test func anIndexMissingAPresentFileIsReported() {
        var facts = Self.healthy()
        facts.indexedPaths = []
        #expect(Self.invariants(facts) == [.indexMatchesMedia])
    }

    @Test func anUnplayableFileIsNotMissedButIsReportedWhenListed() {
        var facts = Self.healthy()
        facts.mediaBefore["empty.mp4"] = "e0"
        facts.mediaAfter["empty.mp4"] = "e0"
        facts.unplayable = ["empty.mp4"]
        #expect(Self.invariants(facts).isEmpty)
        facts.indexedPaths.insert("empty.mp4")
        #expect(Self.invariants(facts) == [.indexMatchesMedia])
    }

    @Test func aReplicaWhoseBytesHashElsewhereIsReported() {
        var facts = Self.healthy()
        facts.cacheFiles[0].contentIDOfBytes = Self.film
        #expect(Self.invariants(facts) == [.replicaMatchesID])
    }

    @Test func aCompleteRecordWithoutItsFileIsReported() {
        var facts = Self.healthy()
        facts.cacheFiles = []
        #expect(Self.invariants(facts) == [.replicaMatchesID])
    }

    @Test func aPartialFileWithoutARecordIsReported() {
        var facts = Self.healthy()
        facts.cacheFiles.append(.init(name: Self.film + ".partial", size: 10, contentIDOfBytes: nil))
        #expect(Self.invariants(facts) == [.partialHasRecord])
    }

    @Test func aPartialFileWithItsRecordIsFine() {
        var facts = Self.healthy()
        facts.replicaRecords[Self.film] = false
        facts.cacheFiles.append(.init(name: Self.film + ".partial", size: 10, contentIDOfBytes: nil))
        #expect(Self.invariants(facts).isEmpty)
    }

    @Test func aCacheAboveItsQuotaIsReported() {
        var facts = Self.healthy()
        facts.cacheMaxBytes = 99
        #expect(Self.invariants(facts) == [.cacheWithinQuota])
    }

    @Test func aNeighbourListingAnObjectTheBoxDoesNotHoldIsReported() {
        let gone = String(repeating: "ef", count: 32)
        let views = [CatalogView(observer: 2, subject: 1, entries: [gone: true])]
        #expect(Self.invariants(Self.healthy(), views: views) == [.catalogTruthful])
    }

    @Test func aNeighbourListingAPartialReplicaAsCompleteIsReported() {
        var facts = Self.healthy()
        facts.replicaRecords[Self.replica] = false
        facts.cacheFiles = [.init(name: Self.replica + ".partial", size: 100, contentIDOfBytes: nil)]
        let views = [CatalogView(observer: 2, subject: 1, entries: [Self.replica: true])]
        #expect(Self.invariants(facts, views: views) == [.catalogTruthful])
        let partial = [CatalogView(observer: 2, subject: 1, entries: [Self.replica: false])]
        #expect(Self.invariants(facts, views: partial).isEmpty)
    }

    @Test func aSlowOrSilentStatusIsReported() {
        var facts = Self.healthy()
        facts.statusAnsweredAfter = .seconds(11)
        #expect(Self.invariants(facts) == [.statusAnswers])
        facts.statusAnsweredAfter = nil
        #expect(Self.invariants(facts) == [.statusAnswers])
    }

    @Test func aDaemonThatDiedByItselfIsACrash() {
        var facts = Self.healthy()
        facts.daemonRunning = false
        #expect(Self.invariants(facts) == [.noCrash])
    }

    @Test func theSameSeedGivesTheSameMomentsAndAnotherRunOthers() {
        var first = SeededRandom(seed: 7, scenario: "fetch", run: 3)
        var again = SeededRandom(seed: 7, scenario: "fetch", run: 3)
        var other = SeededRandom(seed: 7, scenario: "fetch", run: 4)
        let moments = (0..<8).map { _ in first.next() }
        #expect(moments == (0..<8).map { _ in again.next() })
        #expect(moments != (0..<8).map { _ in other.next() })
    }
}
