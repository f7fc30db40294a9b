import BoxIdentity
import Crypto
import PeerWire
import Testing

@testable import Household

func box() throws -> BoxIdentity {
    try BoxIdentity(privateKey: P256.Signing.PrivateKey())
}

@Suite struct RosterTests {
    @Test func aFoundedHouseholdListsItsFounder() throws {
        let founder = try box()
        let roster = Roster.found(by: founder, name: "Living Room")
        #expect(roster.members == [founder.peerID: "Living Room"])
        #expect(Roster.isHouseholdID(roster.householdID))
    }

    @Test func aMemberAddsABoxAndAnotherMemberLearnsItByMerging() throws {
        let (a, b, c) = (try box(), try box(), try box())
        var onA = Roster.found(by: a, name: "A")
        try onA.add(b.peerID, name: "B", by: a)
        var onB = try Roster(verifying: onA.document)
        try onA.add(c.peerID, name: "C", by: a)
        #expect(try onB.merge(onA.document, from: a.peerID))
        #expect(Set(onB.members.keys) == [a.peerID, b.peerID, c.peerID])
        #expect(onB == onA)
        #expect(onB.tag == onA.tag)
    }

    @Test func aRemovedBoxDoesNotComeBackThroughAnOlderRoster() throws {
        let (a, b, c) = (try box(), try box(), try box())
        var onA = Roster.found(by: a, name: "A")
        try onA.add(b.peerID, name: "B", by: a)
        try onA.add(c.peerID, name: "C", by: a)
        let old = onA.document
        try onA.remove(c.peerID, by: a)
        #expect(!(try onA.merge(old, from: b.peerID)))
        #expect(!onA.isMember(c.peerID))
        #expect(onA.records[c.peerID]?.action == .remove)
    }

    @Test func removeWinsOverAConcurrentAdd() throws {
        let (a, b, c) = (try box(), try box(), try box())
        var onA = Roster.found(by: a, name: "A")
        try onA.add(b.peerID, name: "B", by: a)
        try onA.add(c.peerID, name: "C", by: a)
        var onB = try Roster(verifying: onA.document)
        // A removes C while B, not knowing, removes and re-adds it: both reach generation... B's re-add is one ahead.
        try onA.remove(c.peerID, by: a)
        var concurrent = onB
        try concurrent.remove(c.peerID, by: b)
        // Two removals at one generation agree; an add made at the same generation as a removal loses to it.
        var addAtSameGeneration = onA.records[c.peerID]!
        addAtSameGeneration.action = .add
        #expect(Roster.supersedes(onA.records[c.peerID]!, addAtSameGeneration))
        #expect(!Roster.supersedes(addAtSameGeneration, onA.records[c.peerID]!))
        try onB.merge(onA.document, from: a.peerID)
        try onA.merge(concurrent.document, from: b.peerID)
        #expect(!onA.isMember(c.peerID))
        #expect(!onB.isMember(c.peerID))
    }

    @Test func aMergeIsTheSameInEitherOrder() throws {
        let (a, b, c, d) = (try box(), try box(), try box(), try box())
        var onA = Roster.found(by: a, name: "A")
        try onA.add(b.peerID, name: "B", by: a)
        try onA.add(c.peerID, name: "C", by: a)
        var onB = try Roster(verifying: onA.document)
        try onA.remove(c.peerID, by: a)
        try onB.add(d.peerID, name: "D", by: b)
        var first = onA
        try first.merge(onB.document, from: b.peerID)
        var second = onB
        try second.merge(onA.document, from: a.peerID)
        #expect(first == second)
        #expect(Set(first.members.keys) == [a.peerID, b.peerID, d.peerID])
    }

    @Test func aRemovedBoxsRosterIsNotTaken() throws {
        let (a, b) = (try box(), try box())
        var onA = Roster.found(by: a, name: "A")
        try onA.add(b.peerID, name: "B", by: a)
        let onB = try Roster(verifying: onA.document)
        try onA.remove(b.peerID, by: a)
        #expect(throws: HouseholdError.notAMember(b.peerID)) { try onA.merge(onB.document, from: b.peerID) }
    }

    @Test func aRosterFromANonMemberIsRefused() throws {
        let (a, stranger) = (try box(), try box())
        var onA = Roster.found(by: a, name: "A")
        let other = Roster.found(by: stranger, name: "S")
        #expect(throws: HouseholdError.notAMember(stranger.peerID)) {
            try onA.merge(other.document, from: stranger.peerID)
        }
    }

    @Test func aRosterOfAnotherHouseholdIsRefused() throws {
        let a = try box()
        var onA = Roster.found(by: a, name: "A")
        var foreign = Roster.found(by: a, name: "A")
        foreign = try Roster(verifying: RosterDocument(household: "0123456789abcdef", records: []))
        #expect(throws: HouseholdError.self) { try onA.merge(foreign.document, from: a.peerID) }
    }

    @Test func aForgedRecordIsRefused() throws {
        let (a, b, c) = (try box(), try box(), try box())
        var onA = Roster.found(by: a, name: "A")
        try onA.add(b.peerID, name: "B", by: a)
        var onB = try Roster(verifying: onA.document)
        try onA.add(c.peerID, name: "C", by: a)
        var document = onA.document
        let index = try #require(document.records.firstIndex { $0.subject == c.peerID })
        document.records[index].name = "Renamed"
        #expect(throws: HouseholdError.self) { try onB.merge(document, from: a.peerID) }
        #expect(!onB.isMember(c.peerID))
    }

    @Test func aRecordByANonMemberIsLeftOut() throws {
        let (a, b, stranger, c) = (try box(), try box(), try box(), try box())
        var onA = Roster.found(by: a, name: "A")
        try onA.add(b.peerID, name: "B", by: a)
        var onB = try Roster(verifying: onA.document)
        var document = onA.document
        document.records.append(
            RosterSigning.sign(
                household: onA.householdID, subject: c.peerID, name: "C", action: .add, generation: 1, by: stranger))
        #expect(!(try onB.merge(document, from: a.peerID)))
        #expect(!onB.isMember(c.peerID))
    }

    @Test func aNonMemberCannotChangeTheRoster() throws {
        let (a, stranger) = (try box(), try box())
        var onA = Roster.found(by: a, name: "A")
        #expect(throws: HouseholdError.notAMember(stranger.peerID)) {
            try onA.add(stranger.peerID, name: "S", by: stranger)
        }
    }

    @Test func aRemovedBoxCanBePairedAgain() throws {
        let (a, b) = (try box(), try box())
        var onA = Roster.found(by: a, name: "A")
        try onA.add(b.peerID, name: "B", by: a)
        try onA.remove(b.peerID, by: a)
        try onA.add(b.peerID, name: "B", by: a)
        #expect(onA.isMember(b.peerID))
        #expect(onA.records[b.peerID]?.generation == 3)
    }

    @Test func namesAreBoundedAndWithoutControlCharacters() throws {
        let a = try box()
        let roster = Roster.found(by: a, name: "bad\nname" + String(repeating: "é", count: 300))
        let name = try #require(roster.members[a.peerID])
        #expect(name.utf8.count <= Roster.maxNameBytes)
        #expect(name.hasPrefix("bad\u{FFFD}name"))
    }
}

@Suite struct HouseholdAccessTests {
    @Test func lanModeAnswersEveryBox() throws {
        #expect(HouseholdAccess.refusal(of: try box().peerID, roster: nil) == nil)
    }

    @Test func aHouseholdAnswersOnlyItsMembers() throws {
        let (a, stranger) = (try box(), try box())
        let roster = Roster.found(by: a, name: "A")
        #expect(HouseholdAccess.refusal(of: a.peerID, roster: roster) == nil)
        #expect(HouseholdAccess.refusal(of: stranger.peerID, roster: roster) != nil)
        #expect(HouseholdAccess.refusal(of: nil, roster: roster) != nil)
    }

    @Test func aMemberAndARemovedBoxMayReadTheRosterAndNoOtherBox() throws {
        let (a, removed, stranger) = (try box(), try box(), try box())
        var roster = Roster.found(by: a, name: "A")
        try roster.add(removed.peerID, name: "R", by: a)
        try roster.remove(removed.peerID, by: a)
        #expect(HouseholdAccess.rosterRefusal(of: a.peerID, roster: roster) == nil)
        #expect(HouseholdAccess.rosterRefusal(of: removed.peerID, roster: roster) == nil)
        #expect(HouseholdAccess.refusal(of: removed.peerID, roster: roster)?.contains("was removed") == true)
        #expect(HouseholdAccess.rosterRefusal(of: stranger.peerID, roster: roster)?.contains("not in it") == true)
    }

    @Test func aMemberAnnouncingThisHouseholdOrNoneIsFollowed() throws {
        let (a, b) = (try box(), try box())
        var roster = Roster.found(by: a, name: "A")
        try roster.add(b.peerID, name: "B", by: a)
        #expect(HouseholdAccess.follows(announcedHousehold: roster.householdID, peerID: b.peerID, roster: roster))
        #expect(HouseholdAccess.follows(announcedHousehold: nil, peerID: b.peerID, roster: roster))
    }

    @Test func aMemberAnnouncingAnotherHouseholdIsNotFollowed() throws {
        let (a, b) = (try box(), try box())
        var roster = Roster.found(by: a, name: "A")
        try roster.add(b.peerID, name: "B", by: a)
        #expect(!HouseholdAccess.follows(announcedHousehold: "0123456789abcdef", peerID: b.peerID, roster: roster))
    }

    @Test func aBoxNotInTheRosterIsNotFollowedWhateverItAnnounces() throws {
        let roster = Roster.found(by: try box(), name: "A")
        let stranger = try box().peerID
        #expect(!HouseholdAccess.follows(announcedHousehold: nil, peerID: stranger, roster: roster))
        #expect(!HouseholdAccess.follows(announcedHousehold: "0123456789abcdef", peerID: stranger, roster: roster))
    }

    @Test func inLANModeEveryAnnouncementIsFollowed() throws {
        let household = Roster.found(by: try box(), name: "A").householdID
        #expect(HouseholdAccess.follows(announcedHousehold: nil, peerID: nil, roster: nil))
        #expect(HouseholdAccess.follows(announcedHousehold: household, peerID: try box().peerID, roster: nil))
    }

    @Test func aBoxAnnouncingTheHouseholdIsFollowedOnlyOnceTheRosterListsIt() throws {
        let (a, joiner) = (try box(), try box())
        var roster = Roster.found(by: a, name: "A")
        let household = roster.householdID
        #expect(!HouseholdAccess.follows(announcedHousehold: household, peerID: joiner.peerID, roster: roster))
        #expect(!HouseholdAccess.follows(announcedHousehold: household, peerID: nil, roster: roster))
        try roster.add(joiner.peerID, name: "J", by: a)
        #expect(HouseholdAccess.follows(announcedHousehold: household, peerID: joiner.peerID, roster: roster))
    }

    @Test func aMemberWithAnotherTagHasItsRosterPulled() throws {
        let (a, b, stranger) = (try box(), try box(), try box())
        var roster = Roster.found(by: a, name: "A")
        try roster.add(b.peerID, name: "B", by: a)
        #expect(!HouseholdAccess.pullsRoster(of: b.peerID, announcedTag: roster.tag, roster: roster))
        #expect(HouseholdAccess.pullsRoster(of: b.peerID, announcedTag: "9-00000000", roster: roster))
        #expect(!HouseholdAccess.pullsRoster(of: stranger.peerID, announcedTag: "9-00000000", roster: roster))
    }
}
