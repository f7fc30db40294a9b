import ElapsedTime
import SSDP

/// A generator whose every draw lands at `fraction` of the range asked for (its low bits keep Swift's unbiased
/// sampling from drawing again), so a delay of "30 % of MX" is what a test can expect.
struct FractionRandom: RandomNumberGenerator, Sendable {
    var fraction: Double

    func next() -> UInt64 { UInt64(fraction * 0x1p64) | 0x5555 }
}

enum Fixture {
    static let uuid = "1c7b4f6e-0b4a-8d2e-9f3c-5a6b7c8d9e0f"
    static let eth0 = SSDPInterface(name: "eth0", address: address("192.168.1.10"), netmask: address("255.255.255.0"))
    static let wlan0 = SSDPInterface(name: "wlan0", address: address("10.0.0.5"), netmask: address("255.255.0.0"))
    static let tv = SSDPEndpoint(address: address("192.168.1.50"), port: 50_000)
    static let phone = SSDPEndpoint(address: address("10.0.7.9"), port: 1900)

    static func address(_ text: String) -> IPv4Address { IPv4Address(text)! }

    static func configuration(_ change: (inout SSDPConfiguration) -> Void = { _ in }) -> SSDPConfiguration {
        var configuration = SSDPConfiguration(
            deviceUUID: uuid, descriptionPort: 8738, server: "Linux/6.1 UPnP/1.0 mediapeer/test")
        change(&configuration)
        return configuration
    }

    static func search(_ target: String, mx: String? = "1", man: String = "\"ssdp:discover\"") -> [UInt8] {
        var text = "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \(man)\r\n"
        if let mx { text += "MX: \(mx)\r\n" }
        text += "ST: \(target)\r\n\r\n"
        return Array(text.utf8)
    }

    static func datagram(_ target: String, mx: String? = "1", from source: SSDPEndpoint = tv) -> SSDPDatagram {
        SSDPDatagram(bytes: search(target, mx: mx), source: source)
    }

    static func at(_ milliseconds: Int64) -> ElapsedInstant { ElapsedInstant(.milliseconds(milliseconds)) }
}

extension SSDPResponder {
    /// A responder started on `interfaces` at 0 whose start-up announcements are all sent, so that only what a test
    /// does afterwards comes out.
    static func running(
        _ configuration: SSDPConfiguration = Fixture.configuration(), fraction: Double = 0.3,
        interfaces: [SSDPInterface] = [Fixture.eth0, Fixture.wlan0]
    ) -> SSDPResponder {
        var configuration = configuration
        configuration.announcementCopies = 1
        var responder = SSDPResponder(configuration: configuration, random: FractionRandom(fraction: fraction))
        _ = responder.start(interfaces: interfaces, at: Fixture.at(0))
        return responder
    }
}

extension SSDPResponder.Action {
    var response: SSDPResponse? {
        if case .respond(let response, _) = self { response } else { nil }
    }

    var destination: SSDPEndpoint? {
        if case .respond(_, let destination) = self { destination } else { nil }
    }

    var notification: SSDPNotification? {
        if case .notify(let notification, _) = self { notification } else { nil }
    }

    var interface: SSDPInterface? {
        if case .notify(_, let interface) = self { interface } else { nil }
    }
}

extension ElapsedInstant {
    static let zero = ElapsedInstant(.zero)
}
