import Testing
import WireVocabulary

@testable import Replication

/// Which running fetch gives its links to which: plays first, then what a user asked for, replications last.
@Suite struct FetchPrecedenceTests {
    private let film = Self.id(1)
    private let song = Self.id(2)
    private let series = Self.id(3)

    @Test func aLoneFetchDoesNotYield() {
        let precedence = FetchPrecedence(running: [film], played: [], inBackground: [])
        #expect(!precedence.yields(film))
    }

    @Test func everyFetchNobodyPlaysYieldsToAPlayedOne() {
        let precedence = FetchPrecedence(running: [film, song, series], played: [film], inBackground: [series])
        #expect(!precedence.yields(film))
        #expect(precedence.yields(song))
        #expect(precedence.yields(series))
    }

    @Test func aReplicationYieldsToAUsersFetch() {
        let precedence = FetchPrecedence(running: [film, series], played: [], inBackground: [series])
        #expect(!precedence.yields(film))
        #expect(precedence.yields(series))
    }

    @Test func replicationsAloneDoNotYieldToEachOther() {
        let precedence = FetchPrecedence(running: [song, series], played: [], inBackground: [song, series])
        #expect(!precedence.yields(song))
        #expect(!precedence.yields(series))
    }

    @Test func aPlayedReplicationGoesFirst() {
        let precedence = FetchPrecedence(running: [film, series], played: [series], inBackground: [series])
        #expect(!precedence.yields(series))
        #expect(precedence.yields(film))
    }

    private static func id(_ byte: UInt8) -> ContentID {
        ContentID(bytes: [UInt8](repeating: byte, count: 32))!
    }
}
