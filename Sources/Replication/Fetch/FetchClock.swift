/// A moment in a fetch: how long after its clock's origin. The scheduler reasons in these, so it never reads a
/// clock itself and tests can hand it any moment they like.
struct FetchInstant: InstantProtocol, CustomStringConvertible {
    var sinceOrigin: Duration

    init(_ sinceOrigin: Duration) {
        self.sinceOrigin = sinceOrigin
    }

    func advanced(by duration: Duration) -> FetchInstant { FetchInstant(sinceOrigin + duration) }
    func duration(to other: FetchInstant) -> Duration { other.sinceOrigin - sinceOrigin }
    static func < (lhs: FetchInstant, rhs: FetchInstant) -> Bool { lhs.sinceOrigin < rhs.sinceOrigin }
    static func + (lhs: FetchInstant, rhs: Duration) -> FetchInstant { lhs.advanced(by: rhs) }

    var description: String { "\(sinceOrigin)" }
}

/// The clock a fetch runs on, over any `Clock<Duration>` (the daemon's `ContinuousClock`, a test's virtual clock),
/// with its instants made concrete as ``FetchInstant``s so the scheduler needs no generic parameter.
struct FetchClock: Clock {
    private let elapsed: @Sendable () -> Duration
    private let sleeper: @Sendable (Duration, Duration?) async throws -> Void
    let minimumResolution: Duration

    init(_ clock: some Clock<Duration>) {
        let origin = clock.now
        elapsed = { origin.duration(to: clock.now) }
        sleeper = { try await clock.sleep(until: origin.advanced(by: $0), tolerance: $1) }
        minimumResolution = clock.minimumResolution
    }

    var now: FetchInstant { FetchInstant(elapsed()) }

    func sleep(until deadline: FetchInstant, tolerance: Duration?) async throws {
        try await sleeper(deadline.sinceOrigin, tolerance)
    }
}
