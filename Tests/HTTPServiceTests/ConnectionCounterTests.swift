import Testing

@testable import HTTPService

/// Counting connections against the limits, and how often a refusal is logged.
struct ConnectionCounterTests {
    // Through functions: `#expect` cannot call a mutating method itself.
    private static func open(_ counter: inout ConnectionCounter, _ address: String?) -> ConnectionCounter.Refusal? {
        counter.open(from: address)
    }

    private static func warn(_ throttle: inout WarningThrottle, _ key: String, _ now: ContinuousClock.Instant) -> Bool {
        throttle.shouldWarn(about: key, now: now)
    }

    @Test func anAddressAtItsLimitIsRefusedAndOthersAreNot() {
        var counter = ConnectionCounter(limits: HTTPServiceLimits(maxConnections: 10, maxConnectionsPerAddress: 2))
        #expect(Self.open(&counter, "10.0.0.1") == nil)
        #expect(Self.open(&counter, "10.0.0.1") == nil)
        #expect(Self.open(&counter, "10.0.0.1") == .perAddress(2))
        #expect(Self.open(&counter, "10.0.0.2") == nil)
        #expect(counter.total == 3)
    }

    @Test func theTotalLimitRefusesEveryAddress() {
        var counter = ConnectionCounter(limits: HTTPServiceLimits(maxConnections: 2, maxConnectionsPerAddress: 2))
        #expect(Self.open(&counter, "10.0.0.1") == nil)
        #expect(Self.open(&counter, "10.0.0.2") == nil)
        #expect(Self.open(&counter, "10.0.0.3") == .total(2))
        #expect(Self.open(&counter, nil) == .total(2))
    }

    @Test func aClosedConnectionFreesItsPlace() {
        var counter = ConnectionCounter(limits: HTTPServiceLimits(maxConnections: 2, maxConnectionsPerAddress: 1))
        #expect(Self.open(&counter, "10.0.0.1") == nil)
        counter.close(from: "10.0.0.1")
        #expect(counter.connections(from: "10.0.0.1") == 0)
        #expect(counter.total == 0)
        #expect(Self.open(&counter, "10.0.0.1") == nil)
    }

    @Test func localClientsCountOnlyTowardsTheTotal() {
        var counter = ConnectionCounter(limits: HTTPServiceLimits(maxConnections: 3, maxConnectionsPerAddress: 1))
        #expect(Self.open(&counter, nil) == nil)
        #expect(Self.open(&counter, nil) == nil)
        #expect(Self.open(&counter, nil) == nil)
        #expect(Self.open(&counter, nil) == .total(3))
    }

    @Test func aRefusalIsLoggedAtMostOnceAMinutePerAddress() {
        var throttle = WarningThrottle()
        let start = ContinuousClock.now
        #expect(Self.warn(&throttle, "a", start))
        #expect(!Self.warn(&throttle, "a", start + .seconds(30)))
        #expect(Self.warn(&throttle, "b", start + .seconds(30)))
        #expect(!Self.warn(&throttle, "a", start + .seconds(61)))
        #expect(!Self.warn(&throttle, "b", start + .seconds(89)))
        #expect(Self.warn(&throttle, "a", start + .seconds(121)))
    }

    @Test func theThrottleRemembersABoundedNumberOfAddresses() {
        var throttle = WarningThrottle()
        let now = ContinuousClock.now
        for index in 0..<WarningThrottle.capacity {
            #expect(Self.warn(&throttle, "10.0.\(index / 256).\(index % 256)", now))
        }
        #expect(!Self.warn(&throttle, "192.168.1.1", now))
        #expect(Self.warn(&throttle, "192.168.1.1", now + .seconds(121)))
    }
}
