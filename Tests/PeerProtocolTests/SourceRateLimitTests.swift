import Clocks
import Foundation
import HTTPTypes
import HummingbirdTesting
import PeerWire
import Testing

@testable import PeerProtocol

/// Locates per source address: the token buckets on hand-built instants, and the route's 429.
@Suite struct SourceRateLimitTests {
    @Test func aSourceMaySpendItsBurstAtOnceAndNoMore() {
        var limit = SourceRateLimit()
        let admitted = (0..<(PeerLimits.locateBurst + 5)).filter { _ in limit.admit("10.0.0.5", at: .zero) }
        #expect(admitted.count == PeerLimits.locateBurst)
    }

    @Test func tokensComeBackAtTheRate() {
        var limit = SourceRateLimit(perSecond: 10, burst: 50, sources: 8)
        for _ in 0..<50 { _ = limit.admit("a", at: .zero) }
        let tooSoon = limit.admit("a", at: .milliseconds(50))
        let oneBack = limit.admit("a", at: .milliseconds(160))
        let onlyOne = limit.admit("a", at: .milliseconds(160))
        #expect(!tooSoon && oneBack && !onlyOne)
        let afterASecond = (0..<20).filter { _ in limit.admit("a", at: .milliseconds(1160)) }
        #expect(afterASecond.count == 10)
    }

    @Test func eachSourceHasItsOwnBucket() {
        var limit = SourceRateLimit(perSecond: 1, burst: 1, sources: 8)
        let first = limit.admit("a", at: .zero)
        let second = limit.admit("a", at: .zero)
        let other = limit.admit("b", at: .zero)
        #expect(first && !second && other)
    }

    @Test func theTableForgetsTheLeastRecentlySeenSourceBeyondItsSize() {
        var limit = SourceRateLimit(perSecond: 1, burst: 1, sources: 2)
        _ = limit.admit("a", at: .zero)
        _ = limit.admit("b", at: .milliseconds(1))
        _ = limit.admit("c", at: .milliseconds(2))
        #expect(limit.trackedSources == 2)
        // b is still remembered (its bucket empty); a was forgotten (full again).
        let b = limit.admit("b", at: .milliseconds(3))
        let a = limit.admit("a", at: .milliseconds(3))
        #expect(!b && a)
    }

    @Test func locatesBeyondTheBurstAreRefusedWith429AndRetryAfter() async throws {
        let clock = TestClock()
        let limiter = SourceRateLimiter(clock: clock)
        let uri = "/v1/locate/\(String(repeating: "ab", count: 32))?ttl=0"
        let statuses = try await withPeerRouter(FakePeerHandler(), locateLimiter: limiter) { client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<PeerLimits.locateBurst {
                statuses.append(try await client.execute(uri: uri, method: .get).status)
            }
            let refused = try await client.execute(uri: uri, method: .get)
            #expect(refused.headers[.retryAfter] == "1")
            statuses.append(refused.status)
            await clock.advance(by: .seconds(1))
            statuses.append(try await client.execute(uri: uri, method: .get).status)
            return statuses
        }
        #expect(statuses.prefix(PeerLimits.locateBurst).allSatisfy { $0 == .ok })
        #expect(statuses.suffix(2) == [.tooManyRequests, .ok])
    }
}
