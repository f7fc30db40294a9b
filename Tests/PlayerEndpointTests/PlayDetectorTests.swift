import Clocks
import Testing
import WireVocabulary

@testable import PlayerEndpoint

/// Which requests start a play: the rule on hand-built instants, and the driver on a test clock.
@Suite struct PlayDetectorTests {
    let film = ContentID(bytes: [UInt8](repeating: 1, count: 32))!
    let song = ContentID(bytes: [UInt8](repeating: 2, count: 32))!

    @Test func theFirstRequestForATitleStartsAPlay() {
        var detector = PlayDetector(quietPeriod: .seconds(300))
        let first = detector.request(from: "10.0.0.5", for: film, at: .zero)
        #expect(first)
    }

    @Test func moreRangesOfTheSamePlayDoNotCount() {
        var detector = PlayDetector(quietPeriod: .seconds(300))
        _ = detector.request(from: "10.0.0.5", for: film, at: .zero)
        let seek = detector.request(from: "10.0.0.5", for: film, at: .seconds(20))
        let later = detector.request(from: "10.0.0.5", for: film, at: .seconds(310))
        // Each request restarts the quiet period: a long play is one play.
        #expect(!seek && !later)
    }

    @Test func aRequestAfterTheQuietPeriodStartsANewPlay() {
        var detector = PlayDetector(quietPeriod: .seconds(300))
        _ = detector.request(from: "10.0.0.5", for: film, at: .zero)
        let again = detector.request(from: "10.0.0.5", for: film, at: .seconds(300))
        #expect(again)
    }

    @Test func eachClientAndTitleIsItsOwnPlay() {
        var detector = PlayDetector(quietPeriod: .seconds(300))
        _ = detector.request(from: "10.0.0.5", for: film, at: .zero)
        let otherClient = detector.request(from: "10.0.0.6", for: film, at: .seconds(1))
        let otherTitle = detector.request(from: "10.0.0.5", for: song, at: .seconds(1))
        #expect(otherClient && otherTitle)
    }

    @Test func memoryIsBoundedByTheCapacity() {
        var detector = PlayDetector(quietPeriod: .seconds(300), capacity: 4)
        for client in 0..<100 {
            _ = detector.request(from: "10.0.0.\(client)", for: film, at: .seconds(Int64(client)))
        }
        #expect(detector.rememberedPairs == 4)
        // The most recent pairs are kept: their requests are still the same plays.
        let recent = detector.request(from: "10.0.0.99", for: film, at: .seconds(100))
        #expect(!recent)
    }

    @Test func theDriverMeasuresTheQuietPeriodOnItsClock() async {
        let clock = TestClock()
        let plays = PlayDetection(PlayDetector(quietPeriod: .seconds(60)), clock: clock)
        let first = plays.isNewPlay(from: "a", for: film)
        await clock.advance(by: .seconds(59))
        let same = plays.isNewPlay(from: "a", for: film)
        await clock.advance(by: .seconds(60))
        let again = plays.isNewPlay(from: "a", for: film)
        #expect(first && !same && again)
    }
}
