/// Every strategy on the same workload: the baselines, the oracle, and ours last.
public enum Benchmark {
    /// `timed` hears how long each strategy took (wall clock: for the operator, never part of the results).
    public static func run(
        _ workload: Workload, policy: PolicyDriven.Settings, timed: (String, Duration) -> Void = { _, _ in }
    ) -> [StrategyResult] {
        var results: [StrategyResult] = []
        func add(_ strategy: inout some ReplicationStrategy, baseline: Bool, oracle: Bool = false) {
            var metrics = SimulationMetrics()
            let elapsed = ContinuousClock().measure { metrics = Simulation.run(workload, strategy: &strategy) }
            timed(strategy.name, elapsed)
            results.append(
                StrategyResult(name: strategy.name, metrics: metrics, isBaseline: baseline, isOracle: oracle))
        }
        var none = NoReplication()
        add(&none, baseline: true)
        for rule in EvictionRule.allCases {
            var cache = CacheOnPlay(rule: rule)
            add(&cache, baseline: true)
        }
        var oracle = SquareRootOracle()
        add(&oracle, baseline: false, oracle: true)
        var ours = PolicyDriven(settings: policy)
        add(&ours, baseline: false)
        return results
    }
}
