import ControlWire
import Foundation
import Testing
import WireVocabulary

/// The system D-Bus that avahi-daemon and mediapeerd talk through, killed during a fetch and started again (as
/// systemd restarts dbus and then avahi-daemon, which quits when it loses the bus): the boxes find each other
/// again and the fetch completes.
extension FaultSuite {
    @Test func dbusRestartedDuringAFetchLosesNothing() throws {
        let harness = try FaultHarness(scenario: "dbus-restart", boxes: 2, tag: "db", aroundTheDaemon: true)
        try harness.home.addLargeVideo("feature.mkv", megabytes: 16, to: [2])
        try harness.start(1)
        try harness.start(2)
        let id = try harness.home.contentID(of: "feature.mkv", in: 2)
        try harness.home.shape(2, rate: "40mbit")
        try harness.runs { _ in
            try harness.home.waitUntilListed(id, in: 1, heldBy: ["Box 2"], timeout: .seconds(90))
            let before = try harness.mediaDigests([1, 2])
            _ = try harness.home.ctl(1, ["cache", "evict", "--force", id.hex])
            let fetch = try harness.home.ctl(1, ["fetch", id.hex])
            guard fetch.status == 0 else { throw TestFailure("box 1 cannot fetch: \(fetch.stderr)") }
            let moment = harness.pick(1...15)
            var finished = false
            try eventually(timeout: .seconds(120), "box 1 verified \(moment) chunks") {
                guard let state = try harness.home.fetchState(id, in: 1) else { return false }
                finished = state.isFinished
                return state.chunksDone >= moment || finished
            }
            if finished { harness.missedPhase() }
            let victim = harness.pick(1...2)
            try Self.restartDBus(harness.home, victim)
            harness.injectedElsewhere()
            let final = try harness.home.waitForFetch(id, in: 1, timeout: .seconds(180))
            guard final.state == .complete else { throw TestFailure("the fetch ended \(final.state)") }
            let other = victim == 1 ? 2 : 1
            try eventually(
                timeout: .seconds(120), "the boxes find each other again\n\(harness.home.log(victim).suffix(3000))"
            ) {
                try harness.home.peerNames(other).contains("Box \(victim)")
                    && harness.home.peerNames(victim).contains("Box \(other)")
            }
            try harness.check([1, 2], mediaBefore: before)
        }
    }

    /// Kills box `index`'s dbus-daemon (SIGKILL), starts it again, and starts avahi-daemon again once it has quit.
    private static func restartDBus(_ home: SimulatedHome, _ index: Int) throws {
        let killed = try home.exec(index, ["/bin/sh", "-c", "kill -KILL \"$(cat /run/dbus/pid)\""])
        guard killed.status == 0 else { throw TestFailure("cannot kill box \(index)'s dbus-daemon: \(killed.stderr)") }
        try eventually(timeout: .seconds(10), "box \(index)'s dbus-daemon is gone") {
            try home.exec(index, ["/bin/sh", "-c", "kill -0 \"$(cat /run/dbus/pid)\" 2>/dev/null"]).status != 0
        }
        let started = try home.exec(
            index, ["/bin/sh", "-c", "rm -f /run/dbus/pid && dbus-daemon --system --fork </dev/null >/dev/null 2>&1"])
        guard started.status == 0 else {
            throw TestFailure("cannot start box \(index)'s dbus-daemon: \(started.stderr)")
        }
        // avahi-daemon quits when it loses the bus; a supervisor would start it again.
        try? eventually(timeout: .seconds(10), "box \(index)'s avahi-daemon quits without its bus") {
            try home.exec(
                index, ["/bin/sh", "-c", "kill -0 \"$(cat /run/avahi-daemon/pid 2>/dev/null)\" 2>/dev/null"]
            ).status != 0
        }
        try home.avahi("start", index)
    }
}
