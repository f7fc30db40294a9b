/// Every strategy on the same workload: the baselines, the oracle, and ours last.
public enum Benchmark {
    /// `timed` hears how long each strategy took (wall clock: for the operator, never part of the results).
    public static func run(
        _ workload: Workload, policy: PolicyDriven.Settings, timed: (String, Duration) -> Void = { _, _ in }
    ) -> [StrategyResult] {
        func measure(_ strategy: inout some ReplicationStrategy) -> SimulationMetrics {
            var metrics = SimulationMetrics()
            let elapsed = ContinuousClock().measure { metrics = Simulation.run(workload, strategy: &strategy) }
            timed(strategy.name, elapsed)
            return metrics
        }
        var results: [StrategyResult] = []
        var none = NoReplication()
        results.append(StrategyResult(name: none.name, metrics: measure(&none), isBaseline: true, isOracle: false))
        for rule in EvictionRule.allCases {
            var cache = CacheOnPlay(rule: rule)
            results.append(
                StrategyResult(name: cache.name, metrics: measure(&cache), isBaseline: true, isOracle: false))
        }
        var oracle = SquareRootOracle()
        results.append(StrategyResult(name: oracle.name, metrics: measure(&oracle), isBaseline: false, isOracle: true))
        var ours = PolicyDriven(settings: policy)
        let metrics = measure(&ours)
        results.append(
            StrategyResult(
                name: ours.name, metrics: metrics, isBaseline: false, isOracle: false, footnote: ours.footnote))
        return results
    }
}
