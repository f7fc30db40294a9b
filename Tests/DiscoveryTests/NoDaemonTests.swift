import ControlWire
import Foundation
import Testing

@testable import Discovery

/// MDNSDiscovery in the test process itself, where no system bus exists: nothing can go on the network.
@Suite struct NoDaemonTests {
    @Test(
        .enabled(
            if: !FileManager.default.fileExists(atPath: "/run/dbus/system_bus_socket"),
            "this machine has a system bus; the box tests cover a missing avahi-daemon"))
    func startWithoutSystemBusSucceedsAndReportsTheDaemonDown() async throws {
        let discovery = try MDNSDiscovery(
            configuration: .init(
                friendlyName: "Lonely", peerID: ConfigurationTests.id, port: 8737))
        try discovery.start()
        var events = discovery.events.makeAsyncIterator()
        #expect(await events.next() == .daemonDown)
        #expect(discovery.state == DiscoveryState(nameInUse: "Lonely", daemonRunning: false, registered: false))
        #expect(throws: DiscoveryError.alreadyStarted) { try discovery.start() }
        try discovery.updateTXT(["gen": "3"])
        discovery.stop()
        #expect(await events.next() == nil)
        discovery.stop()
    }
}
