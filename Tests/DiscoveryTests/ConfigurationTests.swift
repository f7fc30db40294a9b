import ControlWire
import Foundation
import Testing

@testable import Discovery

@Suite struct ConfigurationTests {
    static let id = "0123456789abcdef0123456789abcdef"

    static func problem(_ configuration: DiscoveryConfiguration) -> DiscoveryError? {
        do {
            _ = try MDNSDiscovery(configuration: configuration)
            return nil
        } catch {
            return error
        }
    }

    @Test func unusableConfigurationsAreRefusedWithWhatToFix() {
        #expect(
            Self.problem(.init(friendlyName: "Box", peerID: "ABC", port: 8737))
                == .invalidConfiguration("peer id \"ABC\" is not 32 lowercase hex digits"))
        #expect(Self.problem(.init(friendlyName: "", peerID: Self.id, port: 8737)) != nil)
        #expect(Self.problem(.init(friendlyName: "Box", peerID: Self.id, port: 0)) != nil)
        #expect(Self.problem(.init(friendlyName: "Box", peerID: Self.id, port: 8737, serviceType: "mediapeer")) != nil)
        #expect(
            Self.problem(.init(friendlyName: "Box", peerID: Self.id, port: 8737, txt: ["id": "x"]))
                == .invalidTXT(
                    key: "id",
                    reason: "is set from the configuration (peer id, version, port, friendly name); leave it out of txt"
                ))
        #expect(Self.problem(.init(friendlyName: "Box", peerID: Self.id, port: 8737, txt: ["a=b": "c"])) != nil)
        #expect(
            Self.problem(
                .init(
                    friendlyName: "Box", peerID: Self.id, port: 8737, txt: ["big": String(repeating: "x", count: 300)]))
                != nil)
        #expect(Self.problem(.init(friendlyName: "Box", peerID: Self.id, port: 8737, txt: ["gen": "1"])) == nil)
    }

    @Test func updateTXTRefusesReservedKeysAndKeepsTheRecord() throws {
        let discovery = try MDNSDiscovery(configuration: .init(friendlyName: "Box", peerID: Self.id, port: 8737))
        #expect(throws: DiscoveryError.self) { try discovery.updateTXT(["name": "Other"]) }
        try discovery.updateTXT(["gen": "2"])
    }

    @Test func aLongFriendlyNameIsCutToOneDNSLabelButAnnouncedWholeInTXT() {
        let name = String(repeating: "é", count: 40)  // 80 bytes
        let configuration = DiscoveryConfiguration(friendlyName: name, peerID: Self.id, port: 8737)
        #expect(configuration.instanceName == String(repeating: "é", count: 31))
        #expect(configuration.txtRecord(extra: [:])["name"] == name)
        #expect(
            configuration.txtRecord(extra: ["gen": "5"]) == [
                "id": Self.id, "v": MediapeerTXT.currentProtocolVersion, "port": "8737", "name": name, "gen": "5",
            ])
    }

    @Test func aStaticPeerIsWrittenHostColonPortWithIPv6InBrackets() {
        #expect(StaticPeer(host: "nas.local", port: 8737).description == "nas.local:8737")
        #expect(StaticPeer(host: "fe80::1%eth0", port: 8737).description == "[fe80::1%eth0]:8737")
    }

    @Test func peerTableRefusesAnInvalidOwnID() {
        #expect(throws: DiscoveryError.self) { try PeerTable(configuration: .init(ownID: "me")) }
    }
}
