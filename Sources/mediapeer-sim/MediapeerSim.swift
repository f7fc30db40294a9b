import ArgumentParser
import Foundation
import ReplicationSimulation

/// Replays generated household workloads against the replication strategies and prints a table per home size and
/// Zipf exponent.
@main
struct MediapeerSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mediapeer-sim",
        abstract: "Compare replication strategies on a simulated household (virtual time, deterministic).",
        discussion: """
            Every table prints the seed it was made from; the same options and seed make the same table.
            """)

    @Option(name: .customLong("boxes"), help: "Boxes in the home (repeat for several tables).")
    var boxCounts: [Int] = [5, 100]

    @Option(name: .customLong("alpha"), help: "Zipf exponent of popularity (repeat for several tables).")
    var alphas: [Double] = [0.6, 0.8, 1.0, 1.2]

    @Option(help: "Seed of the workload generator.")
    var seed: UInt64 = 20_261_207

    @Option(help: "Simulated days.")
    var days = 30

    @Option(help: "Each box's quota as a share of a box's mean library.")
    var quotaShare = 0.2

    @Option(help: "Mean plays a day on a box that is on.")
    var playsPerDay = 4.0

    @Flag(help: "Print every strategy's goal check, not only ours.")
    var quiet = false

    func validate() throws {
        guard boxCounts.allSatisfy({ (1...1000).contains($0) }) else {
            throw ValidationError("--boxes must be between 1 and 1000")
        }
        guard alphas.allSatisfy({ $0 > 0 && $0 < 5 }) else { throw ValidationError("--alpha must be in (0, 5)") }
        guard (1...365).contains(days) else { throw ValidationError("--days must be between 1 and 365") }
        guard quotaShare > 0 && quotaShare <= 10 else { throw ValidationError("--quota-share must be in (0, 10]") }
        guard playsPerDay > 0 && playsPerDay <= 100 else {
            throw ValidationError("--plays-per-day must be in (0, 100]")
        }
    }

    func run() throws {
        let policySettings = PolicyDriven.Settings()
        print(
            "ours: half-life \(policySettings.halfLife.components.seconds / 86_400) days, watermarks \(policySettings.highWatermark)/"
                + "\(policySettings.lowWatermark), daily write budget \(policySettings.dailyWriteBudget / 1_000_000_000) GB, "
                + "policy run after each play not served locally, every \(policySettings.intervalHours) h "
                + "and when a box comes back on; a failed play weighs \(policySettings.policy.failureWeight) plays, "
                + "a play made local \(Int(policySettings.policy.fetchAheadPlayBytes / 1e6)) MB when fetching ahead")
        var allMet = true
        for boxes in boxCounts {
            for alpha in alphas {
                var settings = WorkloadSettings(boxes: boxes, days: days, alpha: alpha, seed: seed)
                settings.quotaShare = quotaShare
                settings.playsPerBoxPerDay = playsPerDay
                let workload = Workload(settings: settings)
                let results = Benchmark.run(workload, policy: policySettings) { name, elapsed in
                    printToStandardError("\(boxes) boxes, α \(alpha): \(name) took \(elapsed)")
                }
                print("\n### \(boxes) boxes, α \(alpha)\n")
                print(workload.summary.split(separator: "\n").map { "    \($0)" }.joined(separator: "\n"))
                print(
                    "    replay: mediapeer-sim --boxes \(boxes) --alpha \(alpha) --seed \(seed) --days \(days) "
                        + "--quota-share \(quotaShare) --plays-per-day \(playsPerDay)\n")
                print(resultTable(results))
                for result in results { if let note = result.footnote { print("\n\(result.name): \(note)") } }
                if let ours = results.last {
                    let check = GoalCheck(ours: ours, others: results.dropLast())
                    allMet = allMet && check.met
                    print("\n" + check.lines.map { "- \($0)" }.joined(separator: "\n"))
                }
            }
        }
        print("\nall goals met: \(allMet ? "yes" : "no")")
    }
}

private func printToStandardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
