import ControlWire
import Testing

@testable import Discovery

/// The gate between mDNS and the peer table: what a rule turns away is held back, latest per instance, and handed
/// on when a later rule admits it.
@Suite struct AnnouncementGateTests {
    static func service(_ name: String, household: String? = nil, address: String = "10.77.0.2") -> ResolvedService {
        var txt = ["id": name.lowercased(), "name": name]
        txt[MediapeerTXT.household] = household
        return ResolvedService(
            instance: ServiceInstance(name: name, interfaceIndex: 2, family: .ipv4),
            hostName: name.lowercased() + ".local", address: address, port: 8737, txt: txt)
    }

    static func admitsAll(_: ResolvedService) -> Bool { true }
    static func admitsNone(_: ResolvedService) -> Bool { false }

    @Test func anAdmittedAnnouncementPassesAndIsNotHeld() {
        var gate = AnnouncementGate()
        let event = DiscoveryEvent.resolved(Self.service("Box 3"))
        #expect(gate.pass(event, admits: Self.admitsAll) == event)
        #expect(gate.heldCount == 0)
        #expect(gate.ruleChanged(admits: Self.admitsAll).isEmpty)
    }

    @Test func aTurnedAwayAnnouncementPassesWhenALaterRuleAdmitsIt() {
        var gate = AnnouncementGate()
        let event = DiscoveryEvent.resolved(Self.service("Box 3", household: "h1"))
        #expect(gate.pass(event, admits: Self.admitsNone) == nil)
        #expect(gate.ruleChanged(admits: Self.admitsNone).isEmpty)
        #expect(gate.ruleChanged(admits: Self.admitsAll) == [event])
        #expect(gate.heldCount == 0)
        #expect(gate.ruleChanged(admits: Self.admitsAll).isEmpty)
    }

    @Test func onlyTheLatestAnnouncementOfAnInstanceIsHeld() {
        var gate = AnnouncementGate()
        _ = gate.pass(.resolved(Self.service("Box 3", address: "10.77.0.3")), admits: Self.admitsNone)
        let latest = DiscoveryEvent.resolved(Self.service("Box 3", address: "10.77.0.30"))
        _ = gate.pass(latest, admits: Self.admitsNone)
        #expect(gate.ruleChanged(admits: Self.admitsAll) == [latest])
    }

    @Test func aNewRuleHandsOnOnlyTheHeldAnnouncementsItAdmits() {
        var gate = AnnouncementGate()
        _ = gate.pass(.resolved(Self.service("Box 3", household: "h1")), admits: Self.admitsNone)
        _ = gate.pass(.resolved(Self.service("Box 4", household: "h2")), admits: Self.admitsNone)
        let handedOn = gate.ruleChanged { $0.txt[MediapeerTXT.household] == "h1" }
        #expect(handedOn == [.resolved(Self.service("Box 3", household: "h1"))])
        #expect(gate.ruleChanged(admits: Self.admitsAll) == [.resolved(Self.service("Box 4", household: "h2"))])
    }

    @Test func anAdmittedAnnouncementReplacesAHeldOneOfTheSameInstance() {
        var gate = AnnouncementGate()
        _ = gate.pass(.resolved(Self.service("Box 3")), admits: Self.admitsNone)
        _ = gate.pass(.resolved(Self.service("Box 3", household: "h1")), admits: Self.admitsAll)
        #expect(gate.ruleChanged(admits: Self.admitsAll).isEmpty)
    }

    @Test func anInstanceHandedOnThatAnAnnouncementNoLongerAdmitsIsHandedOnAsRemoved() {
        var gate = AnnouncementGate()
        let member = Self.service("Box 3", household: "h1")
        _ = gate.pass(.resolved(member), admits: Self.admitsAll)
        let left = Self.service("Box 3")
        #expect(gate.pass(.resolved(left), admits: Self.admitsNone) == .removed(member.instance))
        #expect(gate.pass(.resolved(left), admits: Self.admitsNone) == nil)
        #expect(gate.ruleChanged(admits: Self.admitsAll) == [.resolved(left)])
    }

    @Test func aNewRuleHandsOnAsRemovedTheInstancesItTurnsAway() {
        var gate = AnnouncementGate()
        let first = Self.service("Box 3", household: "h1")
        let second = Self.service("Box 4", household: "h2")
        _ = gate.pass(.resolved(first), admits: Self.admitsAll)
        _ = gate.pass(.resolved(second), admits: Self.admitsAll)
        let handedOn = gate.ruleChanged { $0.txt[MediapeerTXT.household] == "h2" }
        #expect(handedOn == [.removed(first.instance)])
        #expect(gate.ruleChanged(admits: Self.admitsAll) == [.resolved(first)])
    }

    @Test func aRemovalPassesAndForgetsItsInstance() {
        var gate = AnnouncementGate()
        let (held, passed) = (Self.service("Box 3"), Self.service("Box 4"))
        _ = gate.pass(.resolved(held), admits: Self.admitsNone)
        _ = gate.pass(.resolved(passed), admits: Self.admitsAll)
        #expect(gate.pass(.removed(held.instance), admits: Self.admitsNone) == .removed(held.instance))
        #expect(gate.pass(.removed(passed.instance), admits: Self.admitsNone) == .removed(passed.instance))
        #expect(gate.ruleChanged(admits: Self.admitsAll).isEmpty)
        #expect(gate.ruleChanged(admits: Self.admitsNone).isEmpty)
    }

    @Test func avahiGoingAwayForgetsEveryInstance() {
        var gate = AnnouncementGate()
        _ = gate.pass(.resolved(Self.service("Box 3")), admits: Self.admitsNone)
        _ = gate.pass(.resolved(Self.service("Box 4")), admits: Self.admitsAll)
        #expect(gate.pass(.daemonDown, admits: Self.admitsNone) == .daemonDown)
        #expect(gate.ruleChanged(admits: Self.admitsAll).isEmpty)
        #expect(gate.ruleChanged(admits: Self.admitsNone).isEmpty)
    }

    @Test func eventsOtherThanResolutionsAlwaysPass() {
        var gate = AnnouncementGate()
        for event: DiscoveryEvent in [
            .browseSettled, .daemonUp, .registered(name: "Box 1"), .nameChanged(from: "Box 1", to: "Box 1 #2"),
        ] {
            #expect(gate.pass(event, admits: Self.admitsNone) == event)
        }
    }

    @Test func theHeldAndPassedAnnouncementsStayWithinTheCapacity() {
        var gate = AnnouncementGate(capacity: 3)
        for index in 1...10 {
            _ = gate.pass(.resolved(Self.service("Box \(index)")), admits: Self.admitsNone)
            _ = gate.pass(.resolved(Self.service("Other \(index)")), admits: Self.admitsAll)
        }
        #expect(gate.heldCount == 3)
        let handedOn = gate.ruleChanged { $0.instance.name.hasPrefix("Box") }
        #expect(handedOn.count == 6)
        #expect(gate.heldCount == 3)
    }
}
