import Testing

@testable import NetworkChanges

/// rtnetlink datagrams built as the kernel writes them (host byte order), read back as events.
enum Netlink {
    static func u16(_ value: UInt16) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }
    static func u32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    static func padded(_ bytes: [UInt8]) -> [UInt8] { bytes + [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4) }

    static func message(type: UInt16, body: [UInt8]) -> [UInt8] {
        padded(u32(UInt32(16 + body.count)) + u16(type) + u16(0) + u32(0) + u32(0) + body)
    }

    static func attribute(_ type: UInt16, _ value: [UInt8]) -> [UInt8] {
        padded(u16(UInt16(4 + value.count)) + u16(type) + value)
    }

    /// `RTM_NEWADDR` (20) or `RTM_DELADDR` (21) with `IFA_ADDRESS` and, when given, `IFA_LOCAL`.
    static func address(_ type: UInt16 = 20, index: UInt32, _ address: [UInt8], local: [UInt8]? = nil) -> [UInt8] {
        let family: UInt8 = address.count == 4 ? 2 : 10
        let header: [UInt8] = [family, address.count == 4 ? 24 : 64, 0, 0] + u32(index)
        return message(
            type: type,
            body: header + attribute(1, address) + (local.map { attribute(2, $0) } ?? [])
                + attribute(6, [UInt8](repeating: 0xff, count: 16)))
    }

    /// `RTM_NEWLINK` (16) or `RTM_DELLINK` (17).
    static func link(_ type: UInt16 = 16, index: Int32, flags: UInt32) -> [UInt8] {
        message(type: type, body: [0, 0] + u16(1) + u32(UInt32(bitPattern: index)) + u32(flags) + u32(0))
    }
}

@Suite struct RouteMessagesTests {
    @Test func readsAddressesAddedAndRemovedWithTheirInterface() {
        let datagram =
            Netlink.address(index: 2, [10, 77, 0, 1]) + Netlink.address(21, index: 3, [192, 168, 1, 20])
            + Netlink.address(index: 2, [0xfe, 0x80] + [UInt8](repeating: 0, count: 13) + [1])
        #expect(
            RouteMessages.parse(datagram) == [
                .addressAdded(interfaceIndex: 2, address: [10, 77, 0, 1]),
                .addressRemoved(interfaceIndex: 3, address: [192, 168, 1, 20]),
                .addressAdded(interfaceIndex: 2, address: [0xfe, 0x80] + [UInt8](repeating: 0, count: 13) + [1]),
            ])
    }

    @Test func aPointToPointLinkNamesItsOwnAddressInIFALocal() {
        let datagram = Netlink.address(index: 5, [10, 0, 0, 2], local: [10, 0, 0, 1])
        #expect(RouteMessages.parse(datagram) == [.addressAdded(interfaceIndex: 5, address: [10, 0, 0, 1])])
    }

    @Test func readsLinkFlagsAndRemovals() {
        let datagram = Netlink.link(index: 4, flags: 0x11043) + Netlink.link(17, index: 4, flags: 0)
        #expect(
            RouteMessages.parse(datagram) == [
                .link(interfaceIndex: 4, flags: 0x11043), .linkRemoved(interfaceIndex: 4),
            ])
    }

    @Test func unknownMessagesAreSkippedAndATruncatedOneEndsTheWalk() {
        let route = Netlink.message(type: 24, body: [UInt8](repeating: 1, count: 12))
        let added = Netlink.address(index: 2, [10, 0, 0, 9])
        let truncated = Array(Netlink.address(index: 2, [10, 0, 0, 10]).dropLast(6))
        #expect(
            RouteMessages.parse(route + added + truncated) == [
                .addressAdded(interfaceIndex: 2, address: [10, 0, 0, 9])
            ])
    }

    @Test func lengthsThatLieEndTheWalkWithoutReadingPastTheDatagram() {
        var lying = Netlink.address(index: 2, [10, 0, 0, 9])
        lying.replaceSubrange(0..<4, with: Netlink.u32(0xffff_fff0))
        #expect(RouteMessages.parse(lying).isEmpty)
        var tiny = Netlink.link(index: 1, flags: 1)
        tiny.replaceSubrange(0..<4, with: Netlink.u32(3))
        #expect(RouteMessages.parse(tiny).isEmpty)
        var badAttribute = Netlink.address(index: 2, [10, 0, 0, 9])
        badAttribute.replaceSubrange(24..<26, with: Netlink.u16(200))
        #expect(RouteMessages.parse(badAttribute).isEmpty)
        #expect(RouteMessages.parse([1, 2, 3]).isEmpty)
    }

    @Test func theBindAddressNamesTheGroupsInHostOrder() {
        let address = RouteMonitor.netlinkAddress(groups: 0x111)
        #expect(address.count == 12)
        #expect(Array(address[8..<12]) == Netlink.u32(0x111))
        #expect(Array(address[0..<2]) == Netlink.u16(16))
    }
}

@Suite struct InterfaceChangeFilterTests {
    static let upRunning: UInt32 = 0x1 | 0x40 | 0x10000
    static let linkLocal: [UInt8] = [0xfe, 0x80] + [UInt8](repeating: 0, count: 13) + [1]

    /// Whether each event, in order, is a change for the LAN.
    static func judge(_ events: [RouteEvent], limit: Int = 256) -> [Bool] {
        var filter = InterfaceChangeFilter(interfaceLimit: limit)
        return events.map { filter.isRelevant($0) }
    }

    static func added(_ index: Int32, _ address: [UInt8]) -> RouteEvent {
        .addressAdded(interfaceIndex: index, address: address)
    }

    @Test func aNewIPv4AddressIsAChangeAndTheSameOneRenewedIsNot() {
        // The second is a DHCP renewal that keeps the lease: RTM_NEWADDR again, with new lifetimes.
        #expect(Self.judge([Self.added(2, [10, 77, 0, 1]), Self.added(2, [10, 77, 0, 1])]) == [true, false])
    }

    @Test func aRenewalThatChangesTheAddressIsAChange() {
        let events: [RouteEvent] = [
            Self.added(2, [10, 77, 0, 1]), Self.added(2, [10, 77, 0, 41]),
            .addressRemoved(interfaceIndex: 2, address: [10, 77, 0, 1]),
            // Given back later, the old address is new again.
            Self.added(2, [10, 77, 0, 1]),
        ]
        #expect(Self.judge(events) == [true, true, true, true])
    }

    @Test func ipv6AddressesAreNotAChangeForTheLAN() {
        let events: [RouteEvent] = [
            Self.added(2, Self.linkLocal), .addressRemoved(interfaceIndex: 2, address: Self.linkLocal),
        ]
        #expect(Self.judge(events) == [false, false])
    }

    @Test func aLinkGoingDownAndUpIsAChangeEachTimeButRepeatedFlagsAreNot() {
        let flags: [UInt32] = [Self.upRunning, Self.upRunning | 0x1000, 0x1000, 0, Self.upRunning]
        #expect(Self.judge(flags.map { .link(interfaceIndex: 2, flags: $0) }) == [true, false, true, false, true])
    }

    @Test func losingTheCarrierWhileUpIsAChange() {
        let flags: [UInt32] = [Self.upRunning, 0x1, Self.upRunning]
        #expect(Self.judge(flags.map { .link(interfaceIndex: 3, flags: $0) }) == [true, true, true])
    }

    @Test func aRemovedInterfaceAndLostEventsStartOver() {
        let address: [UInt8] = [10, 0, 0, 1]
        let events: [RouteEvent] = [
            Self.added(2, address), .link(interfaceIndex: 2, flags: Self.upRunning), .linkRemoved(interfaceIndex: 2),
            Self.added(2, address), .eventsLost, Self.added(2, address),
        ]
        #expect(Self.judge(events) == [true, true, true, true, true, true])
    }

    @Test func beyondItsInterfaceLimitEveryEventCountsAndNothingMoreIsRemembered() {
        let events: [RouteEvent] = [
            Self.added(1, [10, 0, 0, 1]), Self.added(2, [10, 0, 0, 2]), Self.added(3, [10, 0, 0, 3]),
            Self.added(3, [10, 0, 0, 3]), Self.added(1, [10, 0, 0, 1]),
        ]
        #expect(Self.judge(events, limit: 2) == [true, true, true, true, false])
    }
}
