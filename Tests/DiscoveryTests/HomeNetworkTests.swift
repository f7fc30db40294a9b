import Discovery
import Foundation
import Testing

/// MDNSDiscovery against real avahi-daemons, in boxes of a simulated home network (`scripts/home-sim`). Each test
/// has its own network; the Swift side runs as probes (this test binary re-run inside a box, see ``ProbeMode``).
/// Lines starting with MEASURE report latencies.
@Suite(.enabled(if: HomeSim.isAvailable, "needs root, iproute2, dbus, avahi-daemon and avahi-utils"))
struct HomeNetworkTests {
    static let livingRoom = "1111aaaa000000000000000000000001"
    static let bedroom = "2222bbbb000000000000000000000002"
    static let foreign = "3333cccc000000000000000000000003"

    static func measure(_ what: String, _ seconds: Double) {
        print("MEASURE \(what): \(Int((seconds * 1000).rounded())) ms")
    }

    @Test func twoBoxesDiscoverEachOtherWithTheirTXTButNotThemselves() async throws {
        try await HomeSim.with(boxes: 2, tag: "a") { sim in
            let bedroom = try Probe(
                sim, box: 2, ProbeConfig(name: "Bedroom", id: Self.bedroom, port: 8002, txt: ["gen": "5"]))
            try await bedroom.wait(for: "registered") { $0.event == .registered(name: "Bedroom") }
            let livingRoom = try Probe(
                sim, box: 1, ProbeConfig(name: "Living Room", id: Self.livingRoom, port: 8001, txt: ["gen": "3"]))
            let started = try await livingRoom.wait(for: "started") { $0.kind == "started" }

            let v4 = try await bedroom.waitForResolved(Self.livingRoom, "IPv4 resolve") { $0.instance.family == .ipv4 }
            let v6 = try await bedroom.waitForResolved(Self.livingRoom, "IPv6 resolve") { $0.instance.family == .ipv6 }
            Self.measure(
                "discovery, start of announce in box1 to first resolve in box2", min(v4.time, v6.time) - started.time)
            for line in [v4, v6] {
                let service = try #require(line.event?.resolvedService)
                #expect(service.instance.name == "Living Room")
                #expect(service.hostName == "\(sim.prefix)box1.local")
                #expect(service.port == 8001)
                #expect(
                    service.txt == [
                        "id": Self.livingRoom, "v": MediapeerTXT.currentProtocolVersion, "port": "8001", "gen": "3",
                        "name": "Living Room",
                    ])
            }
            #expect(v4.event?.resolvedService?.address == "10.77.0.1")
            let linkLocal = try #require(v6.event?.resolvedService?.address)
            #expect(linkLocal.hasPrefix("fe80:") && linkLocal.contains("%"))

            try await livingRoom.waitForResolved(Self.bedroom) { $0.txt["gen"] == "5" && $0.txt["name"] == "Bedroom" }
            // Both addresses merge into one peer in the probe's PeerTable.
            try await bedroom.wait(for: "one peer with both addresses") { line in
                guard let peer = line.change?.peer else { return false }
                return peer.id == Self.livingRoom && peer.addresses.count == 2 && peer.addresses.first == "10.77.0.1"
            }
            try await Task.sleep(for: .seconds(1))
            #expect(!livingRoom.all.contains { $0.event?.resolvedService?.peerID == Self.livingRoom })
            #expect(!bedroom.all.contains { $0.event?.resolvedService?.peerID == Self.bedroom })
            #expect(!bedroom.all.contains { $0.change?.peer.id == Self.bedroom })
            await livingRoom.stop()
            await bedroom.stop()
        }
    }

    @Test func ourAnnouncementReadsRightInAvahiBrowseAndAvahiPublishReadsRightInOurs() async throws {
        try await HomeSim.with(boxes: 2, tag: "b") { sim in
            let livingRoom = try Probe(
                sim, box: 1, ProbeConfig(name: "Living Room", id: Self.livingRoom, port: 8001, txt: ["gen": "3"]))
            try await livingRoom.wait(for: "registered") { $0.event == .registered(name: "Living Room") }

            // =;eth0;IPv4;Living\032Room;_mediapeer._tcp;local;HOST.local;10.77.0.1;8001;"name=Living Room" "gen=3" …
            // The IPv4/IPv6 column is how the record was found; avahi resolves it to an address of either family,
            // its choice, so browse again (a few times at most) until it gives the IPv4 address.
            var browse: (status: Int32, output: String) = (0, "")
            var resolved: [String] = []
            for _ in 0..<5 where resolved.isEmpty {
                browse = try await sim.run(
                    box: 2, ["avahi-browse", "--resolve", "--parsable", "--terminate", "_mediapeer._tcp"])
                #expect(browse.status == 0)
                resolved = browse.output.split(separator: "\n").map(String.init).filter {
                    $0.hasPrefix("=") && $0.contains(";10.77.0.1;")
                }
            }
            let line = try #require(resolved.first, "avahi-browse output:\n\(browse.output)")
            let fields = line.split(separator: ";", maxSplits: 9).map(String.init)
            #expect(fields[3] == #"Living\032Room"# && fields[6] == "\(sim.prefix)box1.local")
            #expect(fields[7] == "10.77.0.1" && fields[8] == "8001")
            let txt = Set(
                fields[9].split(separator: "\" \"").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) })
            #expect(txt == ["id=\(Self.livingRoom)", "v=2", "port=8001", "gen=3", "name=Living Room"])

            let publisher = try sim.spawn(
                box: 2,
                [
                    "avahi-publish", "--service", "Foreign Box", "_mediapeer._tcp", "8123",
                    "id=\(Self.foreign)", "v=1", "port=8123", "gen=9", "name=Foreign Box",
                ])
            defer { if publisher.isRunning { publisher.terminate() } }
            let seen = try await livingRoom.waitForResolved(Self.foreign) { $0.instance.family == .ipv4 }
            let service = try #require(seen.event?.resolvedService)
            #expect(service.instance.name == "Foreign Box" && service.port == 8123)
            #expect(service.hostName == "\(sim.prefix)box2.local" && service.address == "10.77.0.2")
            #expect(service.txt == ["id": Self.foreign, "v": "1", "port": "8123", "gen": "9", "name": "Foreign Box"])

            let mark = livingRoom.count
            publisher.terminate()  // avahi-publish withdraws its service on SIGTERM
            try await livingRoom.wait(for: "goodbye of avahi-publish", after: mark) {
                $0.event?.removedInstance?.name == "Foreign Box"
            }
            await livingRoom.stop()
        }
    }

    @Test func aStoppedBoxIsSeenLeavingWithinTwoSeconds() async throws {
        try await HomeSim.with(boxes: 2, tag: "c") { sim in
            let livingRoom = try Probe(sim, box: 1, ProbeConfig(name: "Living Room", id: Self.livingRoom, port: 8001))
            let bedroom = try Probe(sim, box: 2, ProbeConfig(name: "Bedroom", id: Self.bedroom, port: 8002))
            try await bedroom.waitForResolved(Self.livingRoom) { $0.instance.family == .ipv4 }
            try await bedroom.waitForResolved(Self.livingRoom) { $0.instance.family == .ipv6 }
            try await bedroom.wait(for: "peer with both addresses") { $0.change?.peer.addresses.count == 2 }

            let mark = bedroom.count
            livingRoom.send("stop")
            let stopping = try await livingRoom.wait(for: "stopping") { $0.kind == "stopping" }
            let gone = try await bedroom.wait(for: "peer removed", timeout: 10, after: mark) { line in
                if case .removed(let peer, .goodbye)? = line.change { return peer.id == Self.livingRoom }
                return false
            }
            Self.measure("departure, stop in box1 to peer removed in box2", gone.time - stopping.time)
            #expect(gone.time - stopping.time < 2.5)
            let removals = bedroom.all.dropFirst(mark).compactMap { $0.event?.removedInstance }
            #expect(Set(removals.map(\.family)) == [.ipv4, .ipv6])
            await livingRoom.stop()
            await bedroom.stop()
        }
    }

    @Test func twoBoxesWithTheSameNameEndUpUnderDistinctNames() async throws {
        try await HomeSim.with(boxes: 2, tag: "d") { sim in
            let first = try Probe(sim, box: 1, ProbeConfig(name: "Kitchen", id: Self.livingRoom, port: 8001))
            let second = try Probe(sim, box: 2, ProbeConfig(name: "Kitchen", id: Self.bedroom, port: 8002))
            // Each sees the other registered under its final name, once names settle.
            try await first.waitForResolved(Self.bedroom, timeout: 30)
            try await second.waitForResolved(Self.livingRoom, timeout: 30)
            try await Task.sleep(for: .seconds(2))
            first.send("state")
            second.send("state")
            let firstName = try #require(try await first.wait(for: "state") { $0.kind == "state" }.state?.nameInUse)
            let secondName = try #require(try await second.wait(for: "state") { $0.kind == "state" }.state?.nameInUse)
            print("MEASURE names after collision: box1 \(firstName), box2 \(secondName)")
            #expect(firstName != secondName)
            #expect([firstName, secondName].contains("Kitchen"))
            #expect([firstName, secondName].contains("Kitchen #2"))
            for (probe, name, otherID, otherName) in [
                (first, firstName, Self.bedroom, secondName), (second, secondName, Self.livingRoom, firstName),
            ] {
                if name != "Kitchen" {
                    #expect(probe.all.contains { $0.event == .nameChanged(from: "Kitchen", to: name) })
                    #expect(probe.all.contains { $0.event == .registered(name: name) })
                }
                // The other box is known under its final instance name, and by its full friendly name.
                let latest = probe.all.compactMap(\.event?.resolvedService).last { $0.peerID == otherID }
                #expect(latest?.instance.name == otherName)
                #expect(latest?.txt["name"] == "Kitchen")
            }
            await first.stop()
            await second.stop()
        }
    }

    @Test func afterAvahiRestartsTheBoxAnnouncesAndBrowsesAgainWithoutRestarting() async throws {
        try await HomeSim.with(boxes: 2, tag: "e") { sim in
            let livingRoom = try Probe(sim, box: 1, ProbeConfig(name: "Living Room", id: Self.livingRoom, port: 8001))
            let bedroom = try Probe(sim, box: 2, ProbeConfig(name: "Bedroom", id: Self.bedroom, port: 8002))
            try await livingRoom.waitForResolved(Self.bedroom)
            try await bedroom.waitForResolved(Self.livingRoom)

            let markA = livingRoom.count
            let markB = bedroom.count
            try await sim.avahi("stop", box: 1)
            try await livingRoom.wait(for: "daemon down", after: markA) { $0.event == .daemonDown }
            try await bedroom.wait(for: "goodbye from the stopped daemon", after: markB) {
                $0.event?.removedInstance?.name == "Living Room"
            }
            livingRoom.send("state")
            let down = try await livingRoom.wait(for: "state", after: markA) { $0.kind == "state" }
            #expect(down.state?.daemonRunning == false && down.state?.registered == false)

            let restart = Date().timeIntervalSince1970
            let markA2 = livingRoom.count
            let markB2 = bedroom.count
            try await sim.avahi("start", box: 1)
            try await livingRoom.wait(for: "daemon up", after: markA2) { $0.event == .daemonUp }
            try await livingRoom.wait(for: "registered again", after: markA2) {
                $0.event == .registered(name: "Living Room")
            }
            let rediscovered = try await livingRoom.waitForResolved(
                Self.bedroom, "resolve after restart", after: markA2)
            let reannounced = try await bedroom.waitForResolved(Self.livingRoom, "resolve after restart", after: markB2)
            Self.measure("avahi start in box1 to box1 resolving box2 again", rediscovered.time - restart)
            Self.measure("avahi start in box1 to box2 resolving box1 again", reannounced.time - restart)
            livingRoom.send("state")
            let up = try await livingRoom.wait(for: "state", after: markA2) {
                $0.kind == "state" && $0.state?.registered == true
            }
            #expect(up.state?.daemonRunning == true)
            await livingRoom.stop()
            await bedroom.stop()
        }
    }

    @Test func aTXTUpdateReachesTheOtherBoxRateLimitedWithTheLatestValueWinning() async throws {
        try await HomeSim.with(boxes: 2, tag: "f") { sim in
            let livingRoom = try Probe(
                sim, box: 1,
                ProbeConfig(name: "Living Room", id: Self.livingRoom, port: 8001, txt: ["gen": "1"], txtInterval: 1))
            let bedroom = try Probe(sim, box: 2, ProbeConfig(name: "Bedroom", id: Self.bedroom, port: 8002))
            try await bedroom.waitForResolved(Self.livingRoom) { $0.txt["gen"] == "1" }
            try await Task.sleep(for: .milliseconds(1200))  // past the rate limit window of the registration

            let mark = bedroom.count
            livingRoom.send("txt gen=2")
            livingRoom.send("txt gen=3")
            livingRoom.send("txt gen=4")
            let sent = try await livingRoom.wait(for: "txt sent") { $0.kind == "txt" }
            let first = try await bedroom.waitForResolved(Self.livingRoom, "a new generation", after: mark) {
                $0.txt["gen"] != "1"
            }
            let latest = try await bedroom.waitForResolved(Self.livingRoom, "gen 4", after: mark) {
                $0.txt["gen"] == "4"
            }
            Self.measure("TXT update, updateTXT in box1 to a new gen resolved in box2", first.time - sent.time)
            Self.measure("TXT update held back by the 1 s rate limit, to resolve in box2", latest.time - sent.time)
            // gen 2 goes out at once; 3 and 4 come within the interval, so only 4 follows, a second later.
            // (box2 may report 2 or skip it: Avahi's resolver can fold two close changes into one.)
            #expect(latest.time - sent.time >= 0.8)
            #expect(!bedroom.all.dropFirst(mark).contains { $0.event?.resolvedService?.txt["gen"] == "3" })
            try await bedroom.wait(for: "peer at generation 4", after: mark) { $0.change?.peer.generation == 4 }
            await livingRoom.stop()
            await bedroom.stop()
        }
    }

    @Test func startingWithoutAvahiSucceedsAndAnnouncesOnceAvahiStarts() async throws {
        try await HomeSim.with(boxes: 2, tag: "g") { sim in
            try await sim.avahi("stop", box: 1)
            let bedroom = try Probe(sim, box: 2, ProbeConfig(name: "Bedroom", id: Self.bedroom, port: 8002))
            let livingRoom = try Probe(sim, box: 1, ProbeConfig(name: "Living Room", id: Self.livingRoom, port: 8001))
            let started = try await livingRoom.wait(for: "started") { $0.kind == "started" }
            #expect(started.state?.daemonRunning == false)
            let first = try await livingRoom.wait(for: "first event") { $0.kind == "event" }
            #expect(first.event == .daemonDown)
            try await Task.sleep(for: .seconds(1))
            #expect(!bedroom.all.contains { $0.event?.resolvedService?.peerID == Self.livingRoom })

            let start = Date().timeIntervalSince1970
            try await sim.avahi("start", box: 1)
            try await livingRoom.wait(for: "daemon up") { $0.event == .daemonUp }
            try await livingRoom.wait(for: "registered") { $0.event == .registered(name: "Living Room") }
            let seen = try await bedroom.waitForResolved(Self.livingRoom)
            try await livingRoom.waitForResolved(Self.bedroom)
            Self.measure("avahi start in box1 to box2 resolving box1", seen.time - start)
            await livingRoom.stop()
            await bedroom.stop()
        }
    }
}
