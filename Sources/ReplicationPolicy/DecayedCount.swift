#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A count whose every event weighs less as it ages, halving each half-life: how much a title is wanted lately.
///
/// It is two plain numbers, the value as of the last update and that instant (seconds since whatever epoch the caller
/// uses: Unix time in the daemon, simulated time in the simulator), so it is stored in a table as two columns. The
/// decay is exact, `value × 2^(−elapsed / halfLife)`, and applied only when the count is read or added to, so an idle
/// count costs nothing.
///
/// Safe over any span and any order of instants: a decay over years underflows to zero instead of overflowing; an
/// event older than the last update is added with its own decay instead of moving the count back in time; a count
/// read at an instant before its last update is not run backwards (which would inflate it) but read as it is.
/// Non-finite or negative weights and non-finite instants are ignored, so bad input from a peer cannot poison it.
public struct DecayedCount: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The count as of ``updatedAt``.
    public private(set) var value: Double
    /// When ``value`` was last brought up to date, in seconds since the caller's epoch.
    public private(set) var updatedAt: Double

    /// A count stored earlier; a non-finite or negative value reads as zero, a non-finite instant as the epoch.
    public init(value: Double = 0, updatedAt: Double = 0) {
        self.value = value.isFinite && value > 0 ? value : 0
        self.updatedAt = updatedAt.isFinite ? updatedAt : 0
    }

    /// Decodes through ``init(value:updatedAt:)``, so a stored or received count is as safe as a computed one.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            value: try container.decode(Double.self, forKey: .value),
            updatedAt: try container.decode(Double.self, forKey: .updatedAt))
    }

    /// Nothing counted yet.
    public static let zero = DecayedCount()

    /// The count as it stands at `instant`.
    public func value(at instant: Double, halfLife: Duration) -> Double {
        guard instant.isFinite, instant > updatedAt else { return value }
        return value * Self.decayFactor(elapsed: instant - updatedAt, halfLife: halfLife)
    }

    /// This count with an event of `weight` (1 for a play) at `instant` added.
    public func adding(_ weight: Double, at instant: Double, halfLife: Duration) -> DecayedCount {
        guard weight.isFinite, weight > 0, instant.isFinite else { return self }
        if instant >= updatedAt {
            return DecayedCount(
                value: Self.saturating(value(at: instant, halfLife: halfLife) + weight), updatedAt: instant)
        }
        let agedWeight = weight * Self.decayFactor(elapsed: updatedAt - instant, halfLife: halfLife)
        return DecayedCount(value: Self.saturating(value + agedWeight), updatedAt: updatedAt)
    }

    /// The sum of two counts (a box's own and a neighbour's, say), as of the later of their instants.
    public func adding(_ other: DecayedCount, halfLife: Duration) -> DecayedCount {
        let later = max(updatedAt, other.updatedAt)
        let sum = value(at: later, halfLife: halfLife) + other.value(at: later, halfLife: halfLife)
        return DecayedCount(value: Self.saturating(sum), updatedAt: later)
    }

    public var description: String { "\(value) at \(updatedAt)" }

    /// `2^(−elapsed / halfLife)`; a half-life that is not positive forgets at once.
    static func decayFactor(elapsed: Double, halfLife: Duration) -> Double {
        guard elapsed > 0 else { return 1 }
        let halfLifeSeconds = halfLife.seconds
        guard halfLifeSeconds > 0 else { return 0 }
        let halvings = elapsed / halfLifeSeconds
        // Past about 1075 halvings a Double is zero anyway; stopping early keeps the result exactly zero.
        guard halvings < 1100 else { return 0 }
        return exp2(-halvings)
    }

    private static func saturating(_ value: Double) -> Double {
        value.isFinite ? value : Double.greatestFiniteMagnitude
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}
