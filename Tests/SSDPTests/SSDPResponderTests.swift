import ElapsedTime
import SSDP
import Testing

@Suite struct SSDPResponderSearchTests {
    static let uuid = Fixture.uuid
    static let targets: [(String, String)] = [
        ("upnp:rootdevice", "uuid:\(uuid)::upnp:rootdevice"),
        ("uuid:\(uuid)", "uuid:\(uuid)"),
        ("urn:schemas-upnp-org:device:MediaServer:1", "uuid:\(uuid)::urn:schemas-upnp-org:device:MediaServer:1"),
        (
            "urn:schemas-upnp-org:service:ContentDirectory:1",
            "uuid:\(uuid)::urn:schemas-upnp-org:service:ContentDirectory:1"
        ),
        (
            "urn:schemas-upnp-org:service:ConnectionManager:1",
            "uuid:\(uuid)::urn:schemas-upnp-org:service:ConnectionManager:1"
        ),
    ]

    @Test(arguments: targets)
    func answersEachTargetWithItsSTAndUSN(_ target: String, _ usn: String) {
        var responder = SSDPResponder.running()
        let answers = responder.received(Fixture.datagram(target, mx: "0"), at: Fixture.at(10))
        #expect(answers.count == 1)
        #expect(answers.first?.response?.searchTarget == target)
        #expect(answers.first?.response?.uniqueServiceName == usn)
        #expect(answers.first?.response?.location == "http://192.168.1.10:8738/upnp/device.xml")
        #expect(answers.first?.destination == Fixture.tv)
    }

    @Test func answersSSDPAllWithOneResponsePerTarget() {
        var responder = SSDPResponder.running()
        let answers = responder.received(Fixture.datagram("ssdp:all", mx: "0"), at: Fixture.at(10))
        #expect(answers.compactMap(\.response?.searchTarget) == Self.targets.map(\.0))
        #expect(answers.compactMap(\.response?.uniqueServiceName) == Self.targets.map(\.1))
        #expect(answers.allSatisfy { $0.destination == Fixture.tv })
    }

    @Test func matchesTargetsWithoutRegardToCase() {
        var responder = SSDPResponder.running()
        let answers = responder.received(
            Fixture.datagram("URN:schemas-upnp-org:device:mediaserver:1", mx: "0"), at: Fixture.at(10))
        #expect(answers.first?.response?.searchTarget == "urn:schemas-upnp-org:device:MediaServer:1")
        let all = responder.received(Fixture.datagram("SSDP:ALL", mx: "0"), at: Fixture.at(10))
        #expect(all.count == 5)
        let uuid = responder.received(
            Fixture.datagram("uuid:" + Fixture.uuid.uppercased(), mx: "0"), at: Fixture.at(10))
        #expect(uuid.first?.response?.searchTarget == "uuid:" + Fixture.uuid)
    }

    @Test(arguments: [
        "urn:schemas-upnp-org:device:MediaServer:2", "urn:schemas-upnp-org:device:MediaServer:0",
        "urn:schemas-upnp-org:device:MediaServer:", "urn:schemas-upnp-org:device:MediaServer:x",
        "urn:schemas-upnp-org:service:ContentDirectory:3", "urn:schemas-upnp-org:device:MediaRenderer:1",
        "urn:schemas-upnp-org:service:AVTransport:1", "uuid:00000000-0000-0000-0000-000000000000", "ssdp:alll",
        "upnp:rootdevices",
    ])
    func ignoresTargetsItIsNot(_ target: String) {
        var responder = SSDPResponder.running()
        #expect(responder.received(Fixture.datagram(target, mx: "0"), at: Fixture.at(10)).isEmpty)
        #expect(responder.pendingResponseCount == 0)
    }

    @Test func answersWithTheAddressOfTheInterfaceOnTheSendersSubnet() {
        var responder = SSDPResponder.running()
        let answers = responder.received(Fixture.datagram("upnp:rootdevice", mx: "0", from: Fixture.phone), at: .zero)
        #expect(answers.first?.response?.location == "http://10.0.0.5:8738/upnp/device.xml")
        #expect(answers.first?.destination == Fixture.phone)
    }

    @Test func ignoresSendersOutsideEveryInterfacesSubnet() {
        var responder = SSDPResponder.running()
        for source in ["192.168.2.50", "127.0.0.1", "8.8.8.8", "10.1.0.1"] {
            let datagram = Fixture.datagram("ssdp:all", mx: "0", from: .init(address: Fixture.address(source), port: 1))
            #expect(responder.received(datagram, at: Fixture.at(10)).isEmpty)
        }
        #expect(responder.pendingResponseCount == 0)
    }

    @Test func ignoresSendersOnItsSubnetsThatTheConfigurationDoesNotAllow() {
        let tv = Fixture.tv.address
        var responder = SSDPResponder.running(Fixture.configuration { $0.allowsSender = { $0 == tv } })
        let refused = Fixture.datagram("ssdp:all", mx: "0", from: Fixture.phone)
        #expect(responder.received(refused, at: Fixture.at(10)).isEmpty)
        #expect(responder.pendingResponseCount == 0)
        let allowed = responder.received(Fixture.datagram("ssdp:all", mx: "0"), at: Fixture.at(10))
        #expect(allowed.count == 5)
        #expect(allowed.allSatisfy { $0.destination == Fixture.tv })
    }

    @Test func answersTheBoxsOwnSearchWhateverTheConfigurationAllows() {
        var responder = SSDPResponder.running(Fixture.configuration { $0.allowsSender = { _ in false } })
        let own = SSDPEndpoint(address: Fixture.eth0.address, port: 40_000)
        let answers = responder.received(Fixture.datagram("upnp:rootdevice", mx: "0", from: own), at: Fixture.at(10))
        #expect(answers.compactMap(\.destination) == [own])
    }

    @Test func aRefusedSenderUsesNoneOfTheAnswerBudget() {
        // The per-source budget holds one answer a second: refused searches must not spend it nor be tracked.
        let tv = Fixture.tv.address
        var responder = SSDPResponder.running(
            Fixture.configuration {
                $0.allowsSender = { $0 == tv }
                $0.trackedSourceLimit = 1
            })
        for port in 1...50 {
            let spoofed = SSDPEndpoint(address: Fixture.address("192.168.1.\(100 + port)"), port: port)
            _ = responder.received(Fixture.datagram("upnp:rootdevice", mx: "0", from: spoofed), at: Fixture.at(10))
        }
        let answers = responder.received(Fixture.datagram("upnp:rootdevice", mx: "0"), at: Fixture.at(10))
        #expect(answers.compactMap(\.response).count == 1)
    }

    @Test func ignoresNotificationsAndGarbage() {
        var responder = SSDPResponder.running()
        let notify = "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n\r\n"
        for bytes in [Array(notify.utf8), [0xff, 0x00, 0x13], Array(repeating: 0x41, count: 4000)] {
            #expect(responder.received(SSDPDatagram(bytes: bytes, source: Fixture.tv), at: Fixture.at(10)).isEmpty)
        }
        #expect(responder.pendingResponseCount == 0)
    }

    @Test func answersOnlyAfterARandomDelayWithinMX() {
        var responder = SSDPResponder.running(fraction: 0.3)
        #expect(responder.received(Fixture.datagram("ssdp:all", mx: "3"), at: Fixture.at(1000)).isEmpty)
        #expect(responder.pendingResponseCount == 5)
        #expect(responder.nextDeadline == Fixture.at(1900))
        #expect(responder.tick(at: Fixture.at(1899)).isEmpty)
        #expect(responder.tick(at: Fixture.at(1900)).compactMap(\.response).count == 5)
        #expect(responder.pendingResponseCount == 0)
    }

    @Test func capsMXAtFiveSeconds() {
        var responder = SSDPResponder.running(fraction: 0.9)
        _ = responder.received(Fixture.datagram("upnp:rootdevice", mx: "120"), at: .zero)
        #expect(responder.nextDeadline == Fixture.at(4500))
    }

    @Test(arguments: [nil, "abc", "-2"] as [String?])
    func takesAMissingOrMalformedMXAsOneSecond(_ mx: String?) {
        var responder = SSDPResponder.running(fraction: 0.5)
        _ = responder.received(Fixture.datagram("upnp:rootdevice", mx: mx), at: .zero)
        #expect(responder.nextDeadline == Fixture.at(500))
    }

    @Test func answersAtOnceWhenMXIsZero() {
        var responder = SSDPResponder.running(fraction: 0.9)
        #expect(responder.received(Fixture.datagram("upnp:rootdevice", mx: "0"), at: .zero).count == 1)
    }
}

@Suite struct SSDPResponderLimitTests {
    @Test func dropsSearchesOverThePendingLimit() {
        var responder = SSDPResponder.running(Fixture.configuration { $0.pendingResponseLimit = 10 })
        let other = SSDPEndpoint(address: Fixture.address("192.168.1.51"), port: 1900)
        let third = SSDPEndpoint(address: Fixture.address("192.168.1.52"), port: 1900)
        _ = responder.received(Fixture.datagram("ssdp:all"), at: .zero)
        _ = responder.received(Fixture.datagram("ssdp:all", from: other), at: .zero)
        #expect(responder.pendingResponseCount == 10)
        _ = responder.received(Fixture.datagram("upnp:rootdevice", from: third), at: .zero)
        #expect(responder.pendingResponseCount == 10)
        #expect(responder.tick(at: Fixture.at(1000)).count == 10)
        _ = responder.received(Fixture.datagram("upnp:rootdevice", from: third), at: Fixture.at(1000))
        #expect(responder.pendingResponseCount == 1)
    }

    @Test func dropsASendersSearchesOverItsResponsesPerSecond() {
        var responder = SSDPResponder.running(Fixture.configuration { $0.responsesPerSourcePerSecond = 12 })
        // Answers due after 1.5 s (30 % of MX 5), so all stay pending within the second.
        for _ in 0..<2 { _ = responder.received(Fixture.datagram("ssdp:all", mx: "5"), at: .zero) }
        // A third ssdp:all would make 15 answers in the second: dropped whole; a single answer still fits.
        _ = responder.received(Fixture.datagram("ssdp:all", mx: "5"), at: Fixture.at(500))
        #expect(responder.pendingResponseCount == 10)
        _ = responder.received(Fixture.datagram("upnp:rootdevice", mx: "5"), at: Fixture.at(500))
        #expect(responder.pendingResponseCount == 11)
        // Another sender has its own budget.
        let other = SSDPEndpoint(address: Fixture.address("192.168.1.51"), port: 1900)
        _ = responder.received(Fixture.datagram("ssdp:all", mx: "5", from: other), at: Fixture.at(500))
        #expect(responder.pendingResponseCount == 16)
        // A second later the first sender may search again.
        _ = responder.tick(at: Fixture.at(2000))
        _ = responder.received(Fixture.datagram("ssdp:all"), at: Fixture.at(2000))
        #expect(responder.pendingResponseCount == 5)
    }

    @Test func dropsSearchesFromMoreSendersThanItTracksWithinASecond() {
        var responder = SSDPResponder.running(Fixture.configuration { $0.trackedSourceLimit = 2 })
        let senders = (51...53).map { SSDPEndpoint(address: Fixture.address("192.168.1.\($0)"), port: 1900) }
        for sender in senders { _ = responder.received(Fixture.datagram("upnp:rootdevice", from: sender), at: .zero) }
        #expect(responder.pendingResponseCount == 2)
        _ = responder.tick(at: Fixture.at(1000))
        _ = responder.received(Fixture.datagram("upnp:rootdevice", from: senders[2]), at: Fixture.at(1000))
        #expect(responder.pendingResponseCount == 1)
    }
}

@Suite struct SSDPResponderAnnouncementTests {
    static func responder(fraction: Double = 0.3) -> SSDPResponder {
        SSDPResponder(configuration: Fixture.configuration(), random: FractionRandom(fraction: fraction))
    }

    @Test func announcesEveryTargetOnEveryInterfaceAtStart() {
        var responder = Self.responder()
        let actions = responder.start(interfaces: [Fixture.eth0, Fixture.wlan0], at: .zero)
        #expect(actions.count == 10)
        #expect(actions.allSatisfy { $0.notification?.kind == .alive })
        for interface in [Fixture.eth0, Fixture.wlan0] {
            let sent = actions.filter { $0.interface == interface }.compactMap(\.notification)
            #expect(sent.map(\.uniqueServiceName) == SSDPResponderSearchTests.targets.map(\.1))
            #expect(sent.map(\.notificationType) == SSDPResponderSearchTests.targets.map(\.0))
            #expect(sent.allSatisfy { $0.location == "http://\(interface.address):8738/upnp/device.xml" })
        }
    }

    @Test func repeatsTheStartAnnouncementSpacedApart() {
        var responder = Self.responder()
        _ = responder.start(interfaces: [Fixture.eth0], at: .zero)
        #expect(responder.nextDeadline == Fixture.at(1000))
        #expect(responder.tick(at: Fixture.at(999)).isEmpty)
        #expect(responder.tick(at: Fixture.at(1000)).count == 5)
        #expect(responder.tick(at: Fixture.at(2000)).count == 5)
        // Three copies in all; then nothing until the re-announcement.
        #expect(responder.nextDeadline == Fixture.at(774_000))
    }

    @Test func reannouncesWithinFortyToFiftyPercentOfMaxAge() {
        for (fraction, expected) in [(0.0, 720_000), (0.3, 774_000), (0.5, 810_000)] as [(Double, Int64)] {
            var responder = SSDPResponder.running(fraction: fraction, interfaces: [Fixture.eth0])
            #expect(responder.nextDeadline == Fixture.at(expected))
            #expect(responder.isAnnouncementDue(at: Fixture.at(expected)))
            let actions = responder.tick(at: Fixture.at(expected))
            #expect(actions.count == 5 && actions.allSatisfy { $0.notification?.kind == .alive })
        }
    }

    @Test func announcesOnANewInterfaceAtOnceAndForgetsAGoneOne() {
        var responder = SSDPResponder.running(interfaces: [Fixture.eth0])
        let actions = responder.interfacesChanged([Fixture.wlan0], at: Fixture.at(5000))
        #expect(actions.count == 5 && actions.allSatisfy { $0.interface == Fixture.wlan0 })
        #expect(responder.interfaces == [Fixture.wlan0])
        // eth0's subnet is no longer served.
        #expect(responder.received(Fixture.datagram("ssdp:all", mx: "0"), at: Fixture.at(5000)).isEmpty)
        let stop = responder.stop()
        #expect(stop.allSatisfy { $0.interface == Fixture.wlan0 })
    }

    @Test func saysByebyeForEveryTargetOnEveryInterfaceAtStop() {
        var responder = SSDPResponder.running()
        _ = responder.received(Fixture.datagram("ssdp:all"), at: .zero)
        let actions = responder.stop()
        #expect(actions.count == 10)
        #expect(actions.allSatisfy { $0.notification?.kind == .byebye })
        #expect(
            actions.filter { $0.interface == Fixture.eth0 }.compactMap(\.notification?.uniqueServiceName)
                == SSDPResponderSearchTests.targets.map(\.1))
        // Pending answers are dropped, and nothing more is done.
        #expect(responder.pendingResponseCount == 0)
        #expect(responder.nextDeadline == nil)
        #expect(responder.received(Fixture.datagram("ssdp:all", mx: "0"), at: Fixture.at(1)).isEmpty)
        #expect(responder.tick(at: Fixture.at(1_000_000)).isEmpty)
        #expect(responder.stop().isEmpty)
    }

    @Test func doesNothingBeforeStart() {
        var responder = Self.responder()
        #expect(responder.received(Fixture.datagram("ssdp:all", mx: "0"), at: .zero).isEmpty)
        #expect(responder.nextDeadline == nil)
        #expect(responder.stop().isEmpty)
    }
}

@Suite struct SSDPMessageEncodingTests {
    @Test func anAnswerCarriesTheHeadersUDARequires() {
        let response = SSDPResponse(
            searchTarget: "upnp:rootdevice", uniqueServiceName: "uuid:\(Fixture.uuid)::upnp:rootdevice",
            location: "http://192.168.1.10:8738/upnp/device.xml")
        let text = String(
            decoding: response.encoded(
                maxAge: .seconds(1800), server: "Linux/6.1 UPnP/1.0 mediapeer/1.2",
                date: "Sun, 06 Dec 2026 23:00:00 GMT"),
            as: UTF8.self)
        #expect(
            text == """
                HTTP/1.1 200 OK\r
                CACHE-CONTROL: max-age=1800\r
                DATE: Sun, 06 Dec 2026 23:00:00 GMT\r
                EXT:\r
                LOCATION: http://192.168.1.10:8738/upnp/device.xml\r
                SERVER: Linux/6.1 UPnP/1.0 mediapeer/1.2\r
                ST: upnp:rootdevice\r
                USN: uuid:\(Fixture.uuid)::upnp:rootdevice\r
                \r

                """)
    }

    @Test func anAliveNotificationCarriesLocationAndMaxAge() {
        let alive = SSDPNotification(
            kind: .alive, notificationType: "upnp:rootdevice", uniqueServiceName: "uuid:x::upnp:rootdevice",
            location: "http://10.0.0.5:8738/upnp/device.xml")
        #expect(
            String(decoding: alive.encoded(maxAge: .seconds(1800), server: "S"), as: UTF8.self) == """
                NOTIFY * HTTP/1.1\r
                HOST: 239.255.255.250:1900\r
                CACHE-CONTROL: max-age=1800\r
                LOCATION: http://10.0.0.5:8738/upnp/device.xml\r
                SERVER: S\r
                NT: upnp:rootdevice\r
                NTS: ssdp:alive\r
                USN: uuid:x::upnp:rootdevice\r
                \r

                """)
    }

    @Test func aByebyeNotificationNamesOnlyWhatLeaves() {
        let byebye = SSDPNotification(
            kind: .byebye, notificationType: "uuid:x", uniqueServiceName: "uuid:x", location: "http://a/")
        #expect(
            String(decoding: byebye.encoded(maxAge: .seconds(1800), server: "S"), as: UTF8.self)
                == "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: uuid:x\r\nNTS: ssdp:byebye\r\nUSN: uuid:x\r\n\r\n"
        )
    }
}

@Suite struct UPnPDeviceIdentityTests {
    @Test func isAStableVersion8UUIDOfThePeerID() {
        let uuid = UPnPDeviceIdentity.uuid(peerID: "0123456789abcdef0123456789abcdef")
        #expect(uuid == UPnPDeviceIdentity.uuid(peerID: "0123456789abcdef0123456789abcdef"))
        let groups = uuid.split(separator: "-").map(\.count)
        #expect(groups == [8, 4, 4, 4, 12])
        #expect(uuid.allSatisfy { $0 == "-" || $0.isHexDigit && !$0.isUppercase })
        #expect(uuid.split(separator: "-")[2].first == "8")
        #expect("89ab".contains(uuid.split(separator: "-")[3].first!))
    }

    @Test func differsBetweenPeers() {
        #expect(
            UPnPDeviceIdentity.uuid(peerID: "0123456789abcdef0123456789abcdef")
                != UPnPDeviceIdentity.uuid(peerID: "0123456789abcdef0123456789abcdee"))
    }
}
