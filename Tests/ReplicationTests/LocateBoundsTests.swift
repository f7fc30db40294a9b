import PeerWire
import Testing

@testable import Replication

/// What a locate remembers and believes: query ids in a fixed ring, referrals within bounds.
@Suite struct LocateBoundsTests {
    static let neighbour = Neighbour(
        peerID: "b0b00000000000000000000000000002", name: "Bob", addresses: ["10.0.0.2", "nas.local"], port: 8737,
        generation: nil)
    static let carol = "ca401000000000000000000000000003"

    // MARK: - Query ids

    @Test func aQueryIDSeenWithinTheMemoryIsRefused() {
        var ids = RecentQueryIDs(capacity: 8, memory: .seconds(60))
        let first = ids.insert("q1", at: .zero)
        let again = ids.insert("q1", at: .seconds(59))
        #expect(first && !again)
    }

    @Test func aQueryIDIsForgottenAfterTheMemory() {
        var ids = RecentQueryIDs(capacity: 8, memory: .seconds(60))
        _ = ids.insert("q1", at: .zero)
        let later = ids.insert("q1", at: .seconds(60))
        let again = ids.insert("q1", at: .seconds(61))
        #expect(later && !again)
    }

    @Test func theOldestIDIsForgottenFirstWhenTheRingIsFull() {
        var ids = RecentQueryIDs(capacity: 3, memory: .seconds(60))
        for id in ["a", "b", "c", "d"] { _ = ids.insert(id, at: .zero) }
        let oldest = ids.insert("a", at: .seconds(1))
        let newest = ids.insert("d", at: .seconds(1))
        #expect(oldest && !newest)
    }

    @Test func thirtyThousandUniqueIDsKeepTheRingAtItsCapacity() {
        var ids = RecentQueryIDs(capacity: PeerLimits.locateQueryIDs, memory: PeerLimits.locateQueryMemory)
        for number in 0..<30_000 { _ = ids.insert("q\(number)", at: .milliseconds(number)) }
        #expect(ids.count == PeerLimits.locateQueryIDs)
        let latest = ids.insert("q29999", at: .seconds(31))
        #expect(!latest)
    }

    // MARK: - Referrals

    static func holder(_ addresses: [String], port: Int = 8737, id: String = carol) -> Holder {
        Holder(peerID: id, name: "Carol", addresses: addresses, port: port, complete: true)
    }

    @Test func aNeighbourAnsweringForItselfIsTakenAtTheAddressesTheTableKnows() {
        let own = Holder(peerID: Self.neighbour.peerID, name: "evil\u{1B}[2J", addresses: [], port: 0, complete: true)
        let believed = Locator.believable([own], from: Self.neighbour)
        #expect(believed.map(\.addresses) == [Self.neighbour.addresses] && believed.first?.name == "Bob")
    }

    @Test(arguments: [
        ["10.0.0.3/v1/objects/x?y=1"], ["evil.example"], ["10.0.0.3:80"], ["user@10.0.0.3"], ["fe80::1%eth0/x"],
        ["fe80::1%" + String(repeating: "e", count: 16)], [String](), ["10.0.0.3", "10.0.0.4/x"],
        (1...9).map { "10.0.1.\($0)" },
    ])
    func aReferralWithAnAddressThatIsNotAnIPLiteralIsDropped(_ addresses: [String]) {
        #expect(Locator.believable([Self.holder(addresses)], from: Self.neighbour).isEmpty)
    }

    @Test(arguments: [0, -1, 65536])
    func aReferralWithAPortOutOfRangeIsDropped(_ port: Int) {
        #expect(Locator.believable([Self.holder(["10.0.0.3"], port: port)], from: Self.neighbour).isEmpty)
    }

    @Test func aReferralWithIPLiteralsIsBelievedAndMarkedAsReferredByTheNeighbour() {
        let believed = Locator.believable([Self.holder(["10.0.0.3", "fd00::3", "fe80::3%eth0"])], from: Self.neighbour)
        #expect(believed.count == 1 && believed.first?.referredBy == Self.neighbour.peerID)
    }

    @Test func atMostSixteenReferralsOfAnAnswerAreBelieved() {
        let many = (0..<40).map { number in
            let hex = String(number, radix: 16)
            return Self.holder(["10.0.0.3"], id: String(repeating: "c", count: 32 - hex.count) + hex)
        }
        #expect(Locator.believable(many, from: Self.neighbour).count == PeerLimits.maxLocateHolders)
    }
}
