/// A way of deciding which replicas the boxes keep. The simulation tells it about every play and every hour; it acts
/// through the household's `replicate`, `storeStreamed` and `evict`.
public protocol ReplicationStrategy {
    /// The row's name in the table.
    var name: String { get }
    /// After a play was served (or failed).
    mutating func played(_ play: SimulatedPlay, outcome: PlayOutcome, in household: inout Household)
    /// At the start of every hour, after the boxes switched on or off.
    mutating func hourStarted(in household: inout Household)
}

extension ReplicationStrategy {
    public mutating func hourStarted(in household: inout Household) {}
}

/// Replays a workload's plays on virtual time against one strategy.
public enum Simulation {
    public static func run(_ workload: Workload, strategy: inout some ReplicationStrategy) -> SimulationMetrics {
        replay(workload, strategy: &strategy).metrics
    }

    /// The household as the run left it (who holds what), its metrics included.
    public static func replay(_ workload: Workload, strategy: inout some ReplicationStrategy) -> Household {
        var household = Household(workload: workload)
        strategy.hourStarted(in: &household)
        var nextHour = 1
        for play in workload.plays {
            while Double(nextHour) * Workload.secondsPerHour <= play.time {
                household.advance(to: Double(nextHour) * Workload.secondsPerHour)
                strategy.hourStarted(in: &household)
                nextHour += 1
            }
            household.advance(to: play.time)
            let outcome = household.serve(play)
            strategy.played(play, outcome: outcome, in: &household)
        }
        return household
    }
}

/// Plays stream from wherever the title is; nothing is ever copied.
public struct NoReplication: ReplicationStrategy {
    public let name = "no replication"
    public init() {}
    public mutating func played(_ play: SimulatedPlay, outcome: PlayOutcome, in household: inout Household) {}
}
