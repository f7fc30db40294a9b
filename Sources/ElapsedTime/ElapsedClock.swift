/// A moment as the time elapsed since a clock's origin. The pure cores (the fetch scheduler, the peer table's rules)
/// reason in these, so they never read a clock themselves and tests can hand them any moment they like.
public struct ElapsedInstant: InstantProtocol, CustomStringConvertible {
    public var sinceOrigin: Duration

    public init(_ sinceOrigin: Duration) {
        self.sinceOrigin = sinceOrigin
    }

    public func advanced(by duration: Duration) -> ElapsedInstant { ElapsedInstant(sinceOrigin + duration) }
    public func duration(to other: ElapsedInstant) -> Duration { other.sinceOrigin - sinceOrigin }
    public static func < (lhs: ElapsedInstant, rhs: ElapsedInstant) -> Bool { lhs.sinceOrigin < rhs.sinceOrigin }
    public static func + (lhs: ElapsedInstant, rhs: Duration) -> ElapsedInstant { lhs.advanced(by: rhs) }

    public var description: String { "\(sinceOrigin)" }
}

/// Any `Clock<Duration>` (the daemon's `ContinuousClock`, a test's virtual clock) read as the time elapsed since it
/// was wrapped, with its instants made concrete as ``ElapsedInstant``s so that the drivers and their cores need no
/// generic clock parameter.
public struct ElapsedClock: Clock {
    private let elapsed: @Sendable () -> Duration
    private let sleeper: @Sendable (Duration, Duration?) async throws -> Void
    public let minimumResolution: Duration

    /// Starts counting from `clock`'s present moment.
    public init(_ clock: some Clock<Duration>) {
        let origin = clock.now
        elapsed = { origin.duration(to: clock.now) }
        sleeper = { try await clock.sleep(until: origin.advanced(by: $0), tolerance: $1) }
        minimumResolution = clock.minimumResolution
    }

    public var now: ElapsedInstant { ElapsedInstant(elapsed()) }

    public func sleep(until deadline: ElapsedInstant, tolerance: Duration?) async throws {
        try await sleeper(deadline.sinceOrigin, tolerance)
    }
}
