import Foundation
import Testing

/// A real UPnP control point (async-upnp-client's `upnp-client`, installed by scripts/install-test-clients) finding
/// real daemons over SSDP in a simulated home. What is at `LOCATION` is the MediaServer's business, not tested here.
@Suite(.serialized) struct SSDPDiscoveryTests {
    static let mediaServer = "urn:schemas-upnp-org:device:MediaServer:1"
    static let targets = [
        "upnp:rootdevice", mediaServer, "urn:schemas-upnp-org:service:ContentDirectory:1",
        "urn:schemas-upnp-org:service:ConnectionManager:1",
    ]

    @Test func aControlPointFindsTheMediaServerAtTheBoxAddressAndPlayerPort() throws {
        let home = try SimulatedHome(boxes: 2, tag: "s")
        try home.startDaemon(1, extraConfig: "player_port = 8790")
        let uuid = try Self.deviceUUID(home, 1)

        let found = try ControlPoint.search(home, from: 2, target: Self.mediaServer)
        let answer = try #require(found.first { $0["_host"] == "10.77.0.1" }, "no answer in \(found)")
        #expect(answer["LOCATION"] == "http://10.77.0.1:8790/upnp/device.xml")
        #expect(answer["ST"] == Self.mediaServer)
        #expect(answer["USN"] == "uuid:\(uuid)::\(Self.mediaServer)")
        #expect(answer["SERVER"]?.contains("UPnP/1.0 mediapeer/") == true)

        let all = try ControlPoint.search(home, from: 2, target: "ssdp:all").filter { $0["_host"] == "10.77.0.1" }
        #expect(Set(all.compactMap { $0["ST"] }) == Set(Self.targets + ["uuid:" + uuid]))
        #expect(all.allSatisfy { $0["LOCATION"] == "http://10.77.0.1:8790/upnp/device.xml" })
    }

    @Test func announcesAliveAtStartAndByebyeOnSIGTERM() throws {
        let home = try SimulatedHome(boxes: 2, tag: "t")
        let listener = try ControlPoint.listen(home, in: 2)
        try home.startDaemon(1)
        let uuid = try Self.deviceUUID(home, 1)
        try eventually("box 2 hears box 1's ssdp:alive for every target\n\(listener.output)") {
            Set(listener.notifications(from: "10.77.0.1", "ssdp:alive").compactMap { $0["NT"] })
                == Set(Self.targets + ["uuid:" + uuid])
        }
        #expect(
            listener.notifications(from: "10.77.0.1", "ssdp:alive").allSatisfy {
                $0["LOCATION"] == "http://10.77.0.1:8738/upnp/device.xml"
            })
        #expect(listener.notifications(from: "10.77.0.1", "ssdp:byebye").isEmpty)

        try home.signalDaemon(1, SIGTERM)
        try eventually("box 2 hears box 1's ssdp:byebye for every target\n\(listener.output)") {
            Set(listener.notifications(from: "10.77.0.1", "ssdp:byebye").compactMap { $0["NT"] })
                == Set(Self.targets + ["uuid:" + uuid])
        }
    }

    @Test func aBoxWithDLNAOffIsNotFound() throws {
        let home = try SimulatedHome(boxes: 3, tag: "u")
        let listener = try ControlPoint.listen(home, in: 3)
        try home.startDaemon(1, extraConfig: "dlna = false")
        try home.startDaemon(2)
        // Box 2, started after box 1 with SSDP on, is found: the search reaches both boxes.
        let found = try ControlPoint.search(home, from: 3, target: "ssdp:all")
        #expect(found.contains { $0["_host"] == "10.77.0.2" })
        #expect(!found.contains { $0["_host"] == "10.77.0.1" })
        // And box 1 announced nothing, while box 2's announcements arrived.
        try eventually("box 3 hears box 2's ssdp:alive\n\(listener.output)") {
            !listener.notifications(from: "10.77.0.2", "ssdp:alive").isEmpty
        }
        #expect(listener.notifications(from: "10.77.0.1", "ssdp:alive").isEmpty)
        #expect(!home.log(1).contains("SSDP"))
    }

    @Test func aFloodOfSearchesAndGarbageDrawsBoundedAnswersAndLeavesItAnswering() throws {
        let home = try SimulatedHome(boxes: 2, tag: "v")
        try home.startDaemon(1)
        // Garbage first (binary, too many header lines, oversized, a NOTIFY), then 200 ssdp:all searches at once
        // from one address: at most 20 answers a second are owed to it, not 1,000.
        let flood = try home.exec(2, ["python3", "-c", Self.floodScript, "10.77.0.2", "200"], timeout: .seconds(30))
        guard flood.status == 0, let answers = Int(flood.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestFailure("the flood script failed: \(flood.stdout) \(flood.stderr)")
        }
        #expect(answers > 0 && answers <= 40, "answers to the flood: \(answers)")
        let found = try ControlPoint.search(home, from: 2, target: Self.mediaServer)
        #expect(found.contains { $0["_host"] == "10.77.0.1" })
    }

    /// Sends garbage and COUNT searches from ADDRESS, then counts the answers from 10.77.0.1 for 3 s.
    static let floodScript = """
        import socket, sys, time
        address, count = sys.argv[1], int(sys.argv[2])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((address, 0))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(address))
        group = ("239.255.255.250", 1900)
        def message(*lines):
            return "\\r\\n".join(lines).encode() + b"\\r\\n\\r\\n"
        start = ["M-SEARCH * HTTP/1.1", 'MAN: "ssdp:discover"', "ST: ssdp:all"]
        search = message(*start, "MX: 1")
        for junk in [bytes(range(256)) * 4, message(*start, *["X: y"] * 40), message(*start, "X: " + "a" * 3000),
                     message("NOTIFY * HTTP/1.1")]:
            s.sendto(junk, group)
        for _ in range(count):
            s.sendto(search, group)
        s.settimeout(0.2)
        answers, end = 0, time.monotonic() + 3
        while time.monotonic() < end:
            try:
                data, sender = s.recvfrom(4096)
                answers += sender[0] == "10.77.0.1"
            except socket.timeout:
                pass
        print(answers)
        """

    /// The UUID the box announces, from its log (the daemon derives it from its peer id).
    static func deviceUUID(_ home: SimulatedHome, _ index: Int) throws -> String {
        var uuid: String?
        try eventually("box \(index) logs its SSDP start\n\(home.log(index))") {
            uuid = home.log(index).split(separator: "\n").first { $0.contains("SSDP announcing") }
                .flatMap { line in line.split(separator: " ").first { $0.hasPrefix("uuid=") } }
                .map { String($0.dropFirst("uuid=".count)) }
            return uuid != nil
        }
        return uuid ?? ""
    }
}

/// async-upnp-client's `upnp-client` run inside a box: `search` and `advertisements` print one JSON object of
/// headers per message.
enum ControlPoint {
    static let binary: String = {
        let venv = ProcessInfo.processInfo.environment["MEDIAPEER_TEST_VENV"] ?? "/var/lib/mediapeer-test/venv"
        return venv + "/bin/upnp-client"
    }()

    static func requireInstalled() throws {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestFailure("\(binary) is missing: run scripts/install-test-clients")
        }
    }

    /// Searches from box `index` (bound to its address: a box has no default route for multicast) for 3 s.
    static func search(_ home: SimulatedHome, from index: Int, target: String) throws -> [[String: String]] {
        try requireInstalled()
        let result = try home.exec(
            index,
            [binary, "--timeout", "3", "search", "--bind", "10.77.0.\(index)", "--search_target", target],
            timeout: .seconds(30))
        guard result.status == 0 else { throw TestFailure("upnp-client search failed: \(result.stderr)") }
        return messages(result.stdout)
    }

    /// Starts `upnp-client advertisements` in box `index` and waits until it listens on UDP port 1900.
    static func listen(_ home: SimulatedHome, in index: Int) throws -> Listener {
        try requireInstalled()
        let listener = try Listener(home, in: index)
        try eventually("upnp-client listens on port 1900 in box \(index)\n\(listener.output)") {
            // Nothing else in the box listens there (no mediapeerd started yet).
            let sockets = try home.exec(index, ["ss", "-Huln", "sport", "=", ":1900"])
            return sockets.stdout.contains(":1900")
        }
        return listener
    }

    static func messages(_ output: String) -> [[String: String]] {
        output.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("{"), let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) else {
                return nil
            }
            return object as? [String: String]
        }
    }

    final class Listener {
        private let process: ChildProcess
        private let path: String

        init(_ home: SimulatedHome, in index: Int) throws {
            path = home.box(index) + "/ssdp-advertisements.log"
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            process = try ChildProcess(
                SimulatedHome.script,
                [
                    "exec", "--prefix", home.prefix, String(index), binary, "advertisements", "--bind",
                    "10.77.0.\(index)",
                ],
                environment: ProcessInfo.processInfo.environment.merging(["PYTHONUNBUFFERED": "1"]) { $1 },
                stdout: .file(path), stderr: .file(path))
        }

        deinit {
            if process.isRunning { process.signal(SIGKILL) }
            _ = process.waitUntilExit()
        }

        var output: String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

        func notifications(from host: String, _ kind: String) -> [[String: String]] {
            ControlPoint.messages(output).filter { $0["_host"] == host && $0["NTS"] == kind }
        }
    }
}
