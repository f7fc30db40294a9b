import ControlWire
import Foundation
import Testing

/// Issue 14 part 2 on the simulated home with real TLS: pairing with one-time codes, a household's members learning
/// of each other, and a box in household mode answering only its members.
@Suite(.serialized) struct HouseholdPairingTests {
    /// A fresh box is in LAN mode; box 2 joins box 1 with box 1's code, box 3 joins through box 2, and box 1
    /// learns of box 3 without pairing with it. Box 4, never paired, is refused by box 1's peer API with a
    /// reason; a member is answered.
    @Test func pairingAndJoiningAThirdBoxMakesAHouseholdThatRefusesOthers() throws {
        let home = try SimulatedHome(boxes: 4, tag: "hh")
        for index in 1...4 { try home.startDaemon(index) }
        #expect(try home.ctl(1, ["status"]).stdout.contains("LAN mode: shares with every box on the network"))
        try waitUntilSeen("Box 1", by: 2, home)

        let code = try home.decode(PairingCodeAnswer.self, 1, ["pair"]).code
        let joined = try home.decode(HouseholdReport.self, 2, ["join", code])
        #expect(Set(joined.members.map(\.name)) == ["Box 1", "Box 2"])
        #expect(try home.ctl(1, ["status"]).stdout.contains("shares only with its 2 members"))

        try waitUntilSeen("Box 2", by: 3, home)
        let second = try home.decode(PairingCodeAnswer.self, 2, ["pair"]).code
        let third = try home.decode(HouseholdReport.self, 3, ["join", second])
        #expect(Set(third.members.map(\.name)) == ["Box 1", "Box 2", "Box 3"])
        try eventually(timeout: .seconds(30), "box 1 learns of box 3 and sees every member online") {
            let report = try home.decode(HouseholdReport.self, 1, ["household"])
            return Set(report.members.map(\.name)) == ["Box 1", "Box 2", "Box 3"] && report.members.allSatisfy(\.online)
        }

        let member = try info(from: 3, of: 1, home)
        #expect(member.status == "200", "\(member)")
        let stranger = try info(from: 4, of: 1, home)
        #expect(stranger.status == "403", "\(stranger)")
        #expect(stranger.body.contains("shares only with its household"), "\(stranger)")
        // Box 4 lists box 1 unreachable until it drops it, which a loaded machine may reach between two looks.
        try eventually(timeout: .seconds(30), "box 4 does not list box 1 reachable") {
            try !home.peers(4).peers.contains { $0.name == "Box 1" && $0.reachable }
        }
    }

    /// Box 1 removes box 3: box 3 is told and returns to LAN mode, box 2 drops it at once, and box 3 gets nothing
    /// from either any more.
    @Test func aRemovedBoxGetsNothing() throws {
        let home = try householdOfThree(tag: "hr")
        try eventually(timeout: .seconds(30), "box 2 lists box 3 online") {
            let report = try home.decode(HouseholdReport.self, 2, ["household"])
            return report.members.contains { $0.name == "Box 3" && $0.online }
        }
        #expect(try info(from: 3, of: 2, home).status == "200")

        let after = try home.decode(HouseholdReport.self, 1, ["household", "remove", "Box 3"])
        #expect(Set(after.members.map(\.name)) == ["Box 1", "Box 2"])
        try eventually(timeout: .seconds(10), "box 3 is back in LAN mode") {
            try home.status(3).household?.household == nil
        }
        try eventually(timeout: .seconds(10), "box 2 drops box 3") {
            try Set(home.decode(HouseholdReport.self, 2, ["household"]).members.map(\.name)) == ["Box 1", "Box 2"]
        }
        for member in [1, 2] {
            let refused = try info(from: 3, of: member, home)
            #expect(refused.status == "403", "box \(member): \(refused)")
            #expect(refused.body.contains("was removed"), "box \(member): \(refused)")
        }
    }

    /// Box 2 is stopped while box 1 removes box 3; back, it pulls box 1's newer roster (its `/v1/info` shows
    /// another version) and drops box 3 without anyone telling it.
    @Test func aMemberThatWasOfflineLearnsARemovalByPulling() throws {
        let home = try householdOfThree(tag: "hp")
        try eventually(timeout: .seconds(30), "box 2 lists box 3") {
            try home.decode(HouseholdReport.self, 2, ["household"]).members.contains { $0.name == "Box 3" }
        }

        try home.signalDaemon(2, SIGTERM)
        try eventually(timeout: .seconds(20), "box 1 sees box 2 offline") {
            try home.decode(HouseholdReport.self, 1, ["household"]).members.contains {
                $0.name == "Box 2" && !$0.online
            }
        }
        _ = try home.decode(HouseholdReport.self, 1, ["household", "remove", "Box 3"])
        try home.startDaemon(2)
        #expect(try home.decode(HouseholdReport.self, 2, ["household"]).members.count >= 2)
        try eventually(timeout: .seconds(30), "box 2 drops box 3\n\(home.log(2).suffix(2000))") {
            try Set(home.decode(HouseholdReport.self, 2, ["household"]).members.map(\.name)) == ["Box 1", "Box 2"]
        }
        #expect(home.log(2).contains("took in a member's roster"))
    }

    /// Box 3 joins through box 2 while box 1 is stopped. Back, box 1 hears box 3's announcement before its roster
    /// lists box 3: it makes no connection to box 3 until it has pulled box 2's roster, then follows it.
    @Test func aBoxThatJoinedThroughAnotherMemberIsFollowedOnceTheRosterListsIt() throws {
        let home = try SimulatedHome(boxes: 3, tag: "hf")
        for index in 1...3 { try home.startDaemon(index) }
        try waitUntilSeen("Box 1", by: 2, home)
        _ = try join(2, through: 1, home)
        try home.signalDaemon(1, SIGTERM)
        try waitUntilSeen("Box 2", by: 3, home)
        let joined = try join(3, through: 2, home)
        #expect(Set(joined.members.map(\.name)) == ["Box 1", "Box 2", "Box 3"])
        try eventually(timeout: .seconds(30), "box 2 sees box 3 online") {
            try home.decode(HouseholdReport.self, 2, ["household"]).members.contains { $0.name == "Box 3" && $0.online }
        }

        try home.startDaemon(1)
        try eventually(timeout: .seconds(30), "box 1 learns of box 3 and sees it online\n\(home.log(1).suffix(3000))") {
            try home.decode(HouseholdReport.self, 1, ["household"]).members.contains { $0.name == "Box 3" && $0.online }
        }
        let log = home.log(1)
        #expect(log.contains("ignoring a box that is not in this box's household"), "\(log.suffix(3000))")
        let failedChecks = log.split(separator: "\n").filter {
            $0.contains("peer does not answer") && $0.contains("peer=\"Box 3\"")
        }
        #expect(failedChecks.isEmpty, "\(failedChecks)")
    }

    /// Box 3 is stopped while box 1 removes it, so nobody can tell it. Back, it is refused by the members, pulls a
    /// member's roster, finds its signed removal and returns to LAN mode by itself.
    @Test func aBoxRemovedWhileOfflineLearnsItWhenItIsBack() throws {
        let home = try householdOfThree(tag: "hx")
        try eventually(timeout: .seconds(30), "box 3 sees both members online") {
            try home.decode(HouseholdReport.self, 3, ["household"]).members.allSatisfy(\.online)
        }

        try home.signalDaemon(3, SIGTERM)
        try eventually(timeout: .seconds(20), "box 1 sees box 3 offline") {
            try home.decode(HouseholdReport.self, 1, ["household"]).members.contains {
                $0.name == "Box 3" && !$0.online
            }
        }
        _ = try home.decode(HouseholdReport.self, 1, ["household", "remove", "Box 3"])
        try home.startDaemon(3)
        try eventually(timeout: .seconds(30), "box 3 returns to LAN mode\n\(home.log(3).suffix(3000))") {
            try home.status(3).household?.household == nil
        }
        #expect(home.log(3).contains("this box was removed from its household"))
        #expect(try info(from: 3, of: 1, home).status == "403")
    }

    /// Box 2 leaves: it returns to LAN mode, and box 1 drops it at once.
    @Test func aBoxThatLeavesReturnsToLANModeAndIsDropped() throws {
        let home = try SimulatedHome(boxes: 2, tag: "hl")
        try home.startDaemon(1)
        try home.startDaemon(2)
        try waitUntilSeen("Box 1", by: 2, home)
        _ = try join(2, through: 1, home)
        try eventually(timeout: .seconds(30), "box 1 lists box 2 online") {
            try home.decode(HouseholdReport.self, 1, ["household"]).members.contains { $0.name == "Box 2" && $0.online }
        }

        let left = try home.ctl(2, ["leave"])
        #expect(left.status == 0, "\(left.stderr)")
        #expect(left.stdout.contains("LAN mode"), "\(left.stdout)")
        #expect(try home.status(2).household?.household == nil)
        let members = try home.decode(HouseholdReport.self, 1, ["household"]).members.map(\.name)
        #expect(members == ["Box 1"])
        #expect(try info(from: 2, of: 1, home).status == "403")
    }

    /// Boxes 1 and 2 make one household, boxes 3 and 4 another: box 1 drops boxes 3 and 4 and ignores their
    /// announcements (TXT `h`) without connecting: when box 3 comes back, box 4 finds it and box 1 never lists it.
    @Test func aBoxOfAnotherHouseholdIsIgnoredWithoutAConnection() throws {
        let home = try SimulatedHome(boxes: 4, tag: "ho")
        for index in 1...4 { try home.startDaemon(index) }
        try waitUntilSeen("Box 1", by: 2, home)
        try waitUntilSeen("Box 3", by: 4, home)
        _ = try join(2, through: 1, home)
        _ = try join(4, through: 3, home)
        try eventually(timeout: .seconds(40), "box 1 drops boxes 3 and 4\n\(home.log(1).suffix(3000))") {
            let names = try home.peerNames(1)
            return !names.contains("Box 3") && !names.contains("Box 4") && names.contains("Box 2")
        }
        // Box 1 may drop boxes 3 and 4 as non-members before their announcements carry their household.
        try eventually(timeout: .seconds(30), "box 1 ignores the announcements of the other household") {
            home.log(1).contains("ignoring a box that is not in this box's household")
        }

        try home.signalDaemon(3, SIGTERM)
        try eventually(timeout: .seconds(20), "box 4 drops box 3") { try !home.peerNames(4).contains("Box 3") }
        try home.startDaemon(3)
        try eventually(timeout: .seconds(30), "box 4 finds box 3 again") {
            try home.peers(4).peers.contains { $0.name == "Box 3" && $0.reachable }
        }
        #expect(try !home.peerNames(1).contains("Box 3"))
        #expect(try home.decode(HouseholdReport.self, 3, ["household"]).members.count == 2)
    }

    /// A wrong code is refused (and counts against the code), the right one then joins, the same code again is
    /// refused as used, and a code past its life as expired.
    @Test func wrongExpiredAndReusedCodesAreRefused() throws {
        let home = try SimulatedHome(boxes: 4, tag: "hc")
        try home.startDaemon(1)
        try home.startDaemon(2)
        // Box 3's codes last a second, to be seen expiring.
        try home.startDaemon(3, environment: ["MEDIAPEER_PAIRING_CODE_MS": "1000"])
        try home.startDaemon(4)
        try waitUntilSeen("Box 1", by: 2, home)
        try waitUntilSeen("Box 1", by: 4, home)
        try waitUntilSeen("Box 3", by: 4, home)

        let code = try home.decode(PairingCodeAnswer.self, 1, ["pair"]).code
        let last = code.last!
        let wrong = String(code.dropLast()) + (last == "A" ? "B" : "A")
        let refused = try home.ctl(2, ["join", wrong])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("wrong pairing code (2 tries left)"), "\(refused.stderr)")
        #expect(try home.status(2).household?.household == nil)

        _ = try home.decode(HouseholdReport.self, 2, ["join", code])
        let reused = try home.ctl(4, ["join", code])
        #expect(reused.status != 0)
        #expect(reused.stderr.contains("already used"), "\(reused.stderr)")

        let short = try home.decode(PairingCodeAnswer.self, 3, ["pair"]).code
        try eventually(timeout: .seconds(10), "box 3's code expires") {
            try !home.decode(HouseholdReport.self, 3, ["household"]).pairingCodeOpen
        }
        let expired = try home.ctl(4, ["join", short])
        #expect(expired.status != 0)
        #expect(expired.stderr.contains("expired"), "\(expired.stderr)")
        #expect(try home.status(4).household?.household == nil)
    }

    /// Three boxes, boxes 2 and 3 joined to box 1's household.
    private func householdOfThree(tag: String) throws -> SimulatedHome {
        let home = try SimulatedHome(boxes: 3, tag: tag)
        for index in 1...3 { try home.startDaemon(index) }
        try waitUntilSeen("Box 1", by: 2, home)
        try waitUntilSeen("Box 1", by: 3, home)
        _ = try join(2, through: 1, home)
        _ = try join(3, through: 1, home)
        return home
    }

    /// Box `joiner` joins the household of box `member` with a code box `member` prints.
    private func join(_ joiner: Int, through member: Int, _ home: SimulatedHome) throws -> HouseholdReport {
        let code = try home.decode(PairingCodeAnswer.self, member, ["pair"]).code
        return try home.decode(HouseholdReport.self, joiner, ["join", code])
    }

    /// Waits until box `index` knows the box named `name` by id (its announcement carries it).
    private func waitUntilSeen(_ name: String, by index: Int, _ home: SimulatedHome) throws {
        try eventually(timeout: .seconds(30), "box \(index) finds \(name)") {
            try home.peerNames(index).contains(name)
        }
    }

    /// `GET /v1/info` of box `target`, from box `index` with its own key.
    private func info(from index: Int, of target: Int, _ home: SimulatedHome) throws -> (status: String, body: String) {
        let result = try home.exec(
            index,
            home.peerCurl(index) + [
                "-s", "-w", "\n%{http_code}", "--max-time", "10", "https://10.77.0.\(target):8737/v1/info",
            ])
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (String(lines.last ?? ""), lines.dropLast().joined(separator: "\n"))
    }
}
