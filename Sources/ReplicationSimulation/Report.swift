import Foundation

/// One strategy's row.
public struct StrategyResult: Sendable {
    public let name: String
    public let metrics: SimulationMetrics
    public let isBaseline: Bool
    public let isOracle: Bool
    /// What the strategy says about its run (ours: policy runs and actions by reason).
    public let footnote: String?

    public init(name: String, metrics: SimulationMetrics, isBaseline: Bool, isOracle: Bool, footnote: String? = nil) {
        self.name = name
        self.footnote = footnote
        self.metrics = metrics
        self.isBaseline = isBaseline
        self.isOracle = isOracle
    }
}

/// The issue's goals for ours, checked against the rows of one table.
public struct GoalCheck: Sendable {
    public let lines: [String]
    public let met: Bool

    /// At the same quota: fewer network bytes than every baseline and at least 20% fewer than LRU cache-on-play;
    /// more plays served locally than every baseline; within 10% of the oracle on both; no quota violation; no play
    /// lost to an offline holder when a copy could have been kept.
    public init(ours: StrategyResult, others: [StrategyResult]) {
        var lines: [String] = []
        var met = true
        func check(_ ok: Bool, _ text: String) {
            lines.append("\(ok ? "met" : "MISSED"): \(text)")
            met = met && ok
        }
        let baselines = others.filter(\.isBaseline)
        let mine = ours.metrics
        if let fewest = baselines.min(by: { $0.metrics.networkBytes < $1.metrics.networkBytes }) {
            check(
                mine.networkBytes < fewest.metrics.networkBytes,
                "fewer network bytes than every baseline (ours \(gigabytes(mine.networkBytes)), best baseline "
                    + "\(fewest.name) \(gigabytes(fewest.metrics.networkBytes)))")
        }
        if let lru = baselines.first(where: { $0.name == EvictionRule.leastRecentlyUsed.label }) {
            let lruBytes = Double(max(lru.metrics.networkBytes, 1))
            let saving = 1 - Double(mine.networkBytes) / lruBytes
            // No strategy serving the plays ours served moves less than their floor: the most any could save.
            let reachable = 1 - Double(mine.servedFloorBytes) / lruBytes
            let lruOverItsFloor =
                Double(lru.metrics.networkBytes) / Double(max(lru.metrics.servedFloorBytes, 1)) - 1
            check(
                saving >= 0.2,
                "at least 20% fewer bytes than LRU cache-on-play (\(percent(saving)) fewer; the plays ours served "
                    + "need at least \(gigabytes(mine.servedFloorBytes)) GB, \(percent(reachable)) under LRU's; LRU "
                    + "moves \(percent(lruOverItsFloor)) more than its own plays need)")
        }
        if let most = baselines.max(by: { $0.metrics.localShare < $1.metrics.localShare }) {
            check(
                mine.localShare > most.metrics.localShare,
                "more plays served locally than every baseline (ours \(percent(mine.localShare)), best baseline "
                    + "\(most.name) \(percent(most.metrics.localShare)))")
        }
        if let oracle = others.first(where: \.isOracle) {
            let byteRatio = Double(mine.networkBytes) / Double(max(oracle.metrics.networkBytes, 1))
            check(byteRatio <= 1.1, "network bytes within 10% of the oracle's (ours ×\(ratio(byteRatio)))")
            let localRatio = mine.localShare / max(oracle.metrics.localShare, 1e-9)
            check(localRatio >= 0.9, "local plays within 10% of the oracle's (ours ×\(ratio(localRatio)))")
        }
        check(mine.quotaViolations == 0, "no quota violation (\(mine.quotaViolations))")
        check(
            mine.avoidableFailedPlays == 0,
            "no play lost to an offline holder while a deleted copy's box was online (\(mine.avoidableFailedPlays))")
        self.lines = lines
        self.met = met
    }
}

/// The table the benchmark prints (Markdown, so BENCHMARKS.md takes it as it is).
public func resultTable(_ results: [StrategyResult]) -> String {
    var lines = [
        "| strategy | plays local | network GB (replication) | least GB for the plays served "
            + "| failed: holders offline (avoidable) | replicas made | evicted (within a day) | quota violations |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results {
        let metrics = result.metrics
        lines.append(
            "| \(result.name) | \(percent(metrics.localShare)) (\(metrics.localPlays)) | \(gigabytes(metrics.networkBytes)) "
                + "(\(gigabytes(metrics.replicationBytes))) | \(gigabytes(metrics.servedFloorBytes)) "
                + "| \(metrics.failedPlays) (\(metrics.avoidableFailedPlays)) "
                + "| \(metrics.replicasCreated) | \(metrics.replicasEvicted) (\(metrics.churnedReplicas)) "
                + "| \(metrics.quotaViolations) |")
    }
    return lines.joined(separator: "\n")
}

func gigabytes(_ bytes: Int64) -> String { String(format: "%.1f", Double(bytes) / 1e9) }
func percent(_ share: Double) -> String { String(format: "%.1f%%", share * 100) }
func ratio(_ value: Double) -> String { String(format: "%.2f", value) }

extension Workload {
    /// The figures a table was made from, for the lines above it.
    public var summary: String {
        let initial = titles.filter { $0.arrivalHour == 0 }
        let arrived = titles.count - initial.count
        let onlineShare =
            Double(
                (0..<settings.boxes).reduce(0) { total, box in
                    total + (0..<hours).filter { isOnline(box: box, hour: $0) }.count
                }) / Double(settings.boxes * hours)
        let perBox =
            "\(settings.filmsPerBox) films (1–8 GB), \(settings.episodesPerBox) episodes (0.3–1.5 GB), "
            + "\(settings.songsPerBox) songs (3–12 MB)"
        return [
            "\(settings.boxes) boxes, \(settings.days) days, Zipf α \(settings.alpha), seed \(settings.seed)",
            "library: \(initial.count) titles, \(gigabytes(initialLibraryBytes)) GB (each box: \(perBox)); "
                + "\(arrived) new films and episodes arrive during the run",
            "quota: \(gigabytes(quota)) GB a box (\(percent(settings.quotaShare)) of a box's mean library); "
                + "boxes online \(percent(onlineShare)) of the time",
            "plays: \(plays.count) (mean \(settings.playsPerBoxPerDay) a box a day when on; "
                + "\(percent(settings.burstShare)) go to titles of the last \(settings.burstWindowDays) days); "
                + "first plays of a title on a box that lacks it: \(gigabytes(compulsoryBytes)) GB (no strategy "
                + "moves less, bar failed plays)",
        ].joined(separator: "\n")
    }
}
