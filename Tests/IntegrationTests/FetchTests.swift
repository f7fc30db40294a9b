import ControlWire
import Foundation
import Testing

/// The peer protocol between real daemons in a simulated home: catalogs, locate, and verified fetches that survive
/// lying, vanishing and crashing boxes.
@Suite(.serialized) struct FetchTests {
    @Test func aFileHeldOnlyByBoxCIsFetchedByBoxAByteIdenticalAndThenServedByA() throws {
        let home = try SimulatedHome(boxes: 3, tag: "fo")
        let original = try home.addLargeVideo("holiday.mkv", megabytes: 6, to: [3])
        // Box 1's cache folder does not exist yet: the first fetch creates it.
        try? FileManager.default.removeItem(atPath: home.box(1) + "/cache")
        for index in 1...3 { try home.startDaemon(index) }
        let id = try home.contentID(of: "holiday.mkv", in: 3)
        try home.waitUntilListed(id, in: 1, heldBy: ["Box 3"])

        let search = try home.ctl(1, ["library", "search", "--all", "holiday"])
        #expect(search.stdout.contains("Fixture Film") && search.stdout.contains("Box 3"), "\(search.stdout)")

        let fetch = try home.ctl(1, ["fetch", "holiday", "--wait"])
        #expect(fetch.status == 0, "\(fetch.stderr)")
        // Found by its file name; shown by its title tag.
        #expect(
            fetch.stdout.contains("fetched \"Fixture Film\" (\(id.hex))") && fetch.stdout.contains("from Box 3"),
            "\(fetch.stdout)")
        #expect(try sha256(home.replicaPath(id, in: 1)) == (try sha256(original)))
        // The replica joins box 1's catalog: the neighbours now list box 1 as a holder too.
        try home.waitUntilListed(id, in: 2, heldBy: ["Box 1", "Box 3"])
        #expect(!FileManager.default.fileExists(atPath: home.replicaPath(id, in: 1) + ".partial"))
    }

    @Test func aNeighboursCatalogIsFollowedThroughAdditionsRenamesAndRemovals() throws {
        let home = try SimulatedHome(boxes: 2, tag: "fn")
        try home.addLargeVideo("first.mkv", megabytes: 1, to: [2])
        for index in 1...2 { try home.startDaemon(index) }
        let first = try home.contentID(of: "first.mkv", in: 2)
        try home.waitUntilListed(first, in: 1, heldBy: ["Box 2"])

        try MediaFixtures.copy(MediaFixtures.song, to: home.box(2) + "/media/.song.mp3")
        try FileManager.default.moveItem(
            atPath: home.box(2) + "/media/.song.mp3", toPath: home.box(2) + "/media/song.mp3")
        let song = try home.contentID(of: "song.mp3", in: 2)
        try home.waitUntilListed(song, in: 1, heldBy: ["Box 2"])
        #expect(try home.ctl(1, ["library", "search", "--all", "Bohemian"]).stdout.contains("Box 2"))

        try FileManager.default.moveItem(
            atPath: home.box(2) + "/media/first.mkv", toPath: home.box(2) + "/media/renamed.mkv")
        try eventually(timeout: .seconds(30), "box 1 sees the new path") {
            try home.home(1).items.first { $0.id == first }?.path == "renamed.mkv"
        }
        try FileManager.default.removeItem(atPath: home.box(2) + "/media/renamed.mkv")
        try eventually(timeout: .seconds(30), "box 1 no longer lists the removed file") {
            try !home.home(1).items.contains { $0.id == first }
        }
        #expect(try home.home(1).items.contains { $0.id == song })
    }

    @Test func locateReferralLeadsAThroughBToCWhichAloneHoldsTheFile() throws {
        let home = try SimulatedHome(boxes: 3, tag: "r")
        // No mDNS: each box knows only its static peers. A knows B, B knows C; nobody tells A about C.
        for index in 1...3 { try home.avahi("stop", index) }
        let original = try home.addLargeVideo("far.mkv", megabytes: 3, to: [3])
        try home.startDaemon(3)
        try home.startDaemon(2, extraConfig: "static_peers = [\"10.77.0.3:8737\"]")
        try home.startDaemon(1, extraConfig: "static_peers = [\"10.77.0.2:8737\"]")
        let id = try home.contentID(of: "far.mkv", in: 3)
        try home.waitUntilListed(id, in: 2, heldBy: ["Box 3"])
        #expect(try home.peerNames(1) == ["Box 2"])
        #expect(try home.home(1).items.contains { $0.id == id } == false)

        // Box 2's answer to a locate is a referral to box 3, at box 3's address: not the data.
        let answer = try home.exec(
            1, home.peerCurl(1) + ["-sf", "https://10.77.0.2:8737/v1/locate/\(id.hex)?ttl=2&qid=test-1"])
        let located = try JSONDecoder().decode(LocateAnswerBody.self, from: Data(answer.stdout.utf8))
        let box3 = try home.status(3).peerID
        #expect(located.holders.count == 1)
        #expect(located.holders.first?.peerID == box3 && located.holders.first?.addresses == ["10.77.0.3"])
        #expect(located.holders.first?.referredBy == (try home.status(2).peerID))

        let fetch = try home.ctl(1, ["fetch", id.hex, "--wait", "--json"])
        #expect(fetch.status == 0, "\(fetch.stderr)\n\(home.log(1).suffix(2000))")
        let final = try #require(try home.fetchState(id, in: 1))
        #expect(final.state == .complete)
        #expect(final.sources.map(\.peerID) == [box3])
        #expect(try sha256(home.replicaPath(id, in: 1)) == (try sha256(original)))
    }

    @Test func aLargeFileHeldByTwoBoxesIsFetchedWithChunksFromBoth() throws {
        let home = try SimulatedHome(boxes: 3, tag: "m")
        let original = try home.addLargeVideo("film.mkv", megabytes: 48, to: [2, 3])
        for index in 1...3 { try home.startDaemon(index) }
        let id = try home.contentID(of: "film.mkv", in: 2)
        _ = try home.contentID(of: "film.mkv", in: 3)
        try home.waitUntilListed(id, in: 1, heldBy: ["Box 2", "Box 3"])
        // The same rate on both links, so that neither box can take every chunk before the other starts.
        try home.shape(2, rate: "200mbit")
        try home.shape(3, rate: "200mbit")

        let fetch = try home.ctl(1, ["fetch", id.hex, "--wait", "--json"])
        #expect(fetch.status == 0, "\(fetch.stderr)")
        // --json prints progress events, one per line; the last one says who sent what.
        let last = try ControlJSON.decoder().decode(
            FetchProgress.self, from: Data(fetch.stdout.split(separator: "\n").last!.utf8))
        #expect(last.state == .complete)
        let bySource = Dictionary(uniqueKeysWithValues: last.sources.map { ($0.name, $0.chunks) })
        #expect((bySource["Box 2"] ?? 0) > 0 && (bySource["Box 3"] ?? 0) > 0, "\(bySource)")
        #expect(bySource.values.reduce(0, +) == last.chunkCount)
        #expect(try sha256(home.replicaPath(id, in: 1)) == (try sha256(original)))
    }

    @Test func aBoxServingCorruptedBytesNeverCorruptsTheResultAndIsAvoided() throws {
        let home = try SimulatedHome(boxes: 3, tag: "x")
        let original = try home.addLargeVideo("clip.mkv", megabytes: 12, to: [2, 3])
        try home.startDaemon(1)
        try home.startDaemon(2, environment: ["MEDIAPEER_TEST_FAULTS": "corrupt-objects"])
        try home.startDaemon(3)
        let id = try home.contentID(of: "clip.mkv", in: 3)
        _ = try home.contentID(of: "clip.mkv", in: 2)
        try home.waitUntilListed(id, in: 1, heldBy: ["Box 2", "Box 3"])

        let fetch = try home.ctl(1, ["fetch", id.hex, "--wait"])
        #expect(fetch.status == 0, "\(fetch.stderr)")
        let final = try #require(try home.fetchState(id, in: 1))
        let liar = try #require(final.sources.first { $0.name == "Box 2" })
        #expect(liar.badChunks > 0 && liar.chunks == 0 && !liar.active)
        #expect(final.sources.first { $0.name == "Box 3" }?.chunks == final.chunkCount)
        #expect(try sha256(home.replicaPath(id, in: 1)) == (try sha256(original)))
        #expect(home.log(1).contains("chunk failed verification"))
    }

    @Test func aFetchingDaemonKilledHalfWayResumesWithoutDownloadingTheFirstHalfAgain() throws {
        let home = try SimulatedHome(boxes: 2, tag: "k")
        let original = try home.addLargeVideo("long.mkv", megabytes: 32, to: [2])
        for index in 1...2 { try home.startDaemon(index) }
        let id = try home.contentID(of: "long.mkv", in: 2)
        try home.waitUntilListed(id, in: 1, heldBy: ["Box 2"])
        try home.shape(2, rate: "20mbit")  // about 14 s for the file: the kill lands well before the end

        #expect(try home.ctl(1, ["fetch", id.hex]).status == 0)
        // Two thirds verified, so that at least half is recorded as durable (records lag by up to a second).
        try eventually(timeout: .seconds(60), "two thirds of the file arrived") {
            guard let state = try home.fetchState(id, in: 1), state.chunkCount > 0 else { return false }
            return state.chunksDone * 3 >= state.chunkCount * 2
        }
        try home.signalDaemon(1, SIGKILL)
        #expect(FileManager.default.fileExists(atPath: home.replicaPath(id, in: 1) + ".partial"))
        #expect(!FileManager.default.fileExists(atPath: home.replicaPath(id, in: 1)))

        try home.startDaemon(1)
        let final = try home.waitForFetch(id, in: 1)
        #expect(final.state == .complete)
        // Chunks recorded before the kill (made durable at most a second before it) are not fetched again.
        #expect(final.chunksResumed * 3 >= final.chunkCount, "resumed \(final.chunksResumed) of \(final.chunkCount)")
        let chunk = Int64(1 << 20)
        #expect(final.bytesReceived <= Int64(final.chunkCount - final.chunksResumed + 4) * chunk)
        #expect(
            final.bytesReceived < final.size / 2 + 4 * chunk,
            "received \(final.bytesReceived) of \(final.size) after the restart")
        #expect(try sha256(home.replicaPath(id, in: 1)) == (try sha256(original)))
    }

    @Test func theServingBoxKilledMidTransferIsReplacedByTheOtherHolder() throws {
        let home = try SimulatedHome(boxes: 3, tag: "s")
        let original = try home.addLargeVideo("match.mkv", megabytes: 32, to: [2, 3])
        for index in 1...3 { try home.startDaemon(index) }
        let id = try home.contentID(of: "match.mkv", in: 2)
        _ = try home.contentID(of: "match.mkv", in: 3)
        try home.waitUntilListed(id, in: 1, heldBy: ["Box 2", "Box 3"])
        try home.shape(2, rate: "40mbit")
        try home.shape(3, rate: "40mbit")

        #expect(try home.ctl(1, ["fetch", id.hex]).status == 0)
        try eventually(timeout: .seconds(60), "a quarter arrived") {
            guard let state = try home.fetchState(id, in: 1), state.chunkCount > 0 else { return false }
            return state.chunksDone * 4 >= state.chunkCount
        }
        try home.signalDaemon(3, SIGKILL)
        let final = try home.waitForFetch(id, in: 1)
        #expect(final.state == .complete)
        #expect(final.sources.first { $0.name == "Box 2" }.map { $0.chunks > 0 } == true)
        #expect(try sha256(home.replicaPath(id, in: 1)) == (try sha256(original)))
    }

    @Test func aStalledHolderLosesItsChunksToTheOtherHolder() throws {
        let home = try SimulatedHome(boxes: 3, tag: "t")
        let original = try home.addLargeVideo("stall.mkv", megabytes: 48, to: [2, 3])
        // A short chunk deadline, so that the test need not wait the default 20 s for the stalled box.
        try home.startDaemon(1, environment: ["MEDIAPEER_CHUNK_TIMEOUT_S": "3"])
        for index in 2...3 { try home.startDaemon(index) }
        let id = try home.contentID(of: "stall.mkv", in: 2)
        _ = try home.contentID(of: "stall.mkv", in: 3)
        try home.waitUntilListed(id, in: 1, heldBy: ["Box 2", "Box 3"])
        // Slow enough (about 2.5 s to the first quarter, 5 s to half) that the stall lands well before half even
        // when the machine is busy and polling lags; fast enough that box 2's three runs of 4 chunks at once stay
        // well inside their 12 s deadline.
        try home.shape(2, rate: "20mbit")
        try home.shape(3, rate: "20mbit")
        let stalled = try home.status(3).pid
        defer { kill(stalled, SIGCONT) }

        #expect(try home.ctl(1, ["fetch", id.hex]).status == 0)
        try eventually(timeout: .seconds(60), "a quarter arrived") {
            guard let state = try home.fetchState(id, in: 1), state.chunkCount > 0 else { return false }
            return state.chunksDone * 4 >= state.chunkCount
        }
        // SIGSTOP: the box keeps its connections open but answers nothing, as a hung box on the network would.
        kill(stalled, SIGSTOP)
        let final = try home.waitForFetch(id, in: 1, timeout: .seconds(90))
        #expect(final.state == .complete)
        // Box 3's chunks went to box 2: by the endgame, or when box 3's requests timed out.
        let box3 = try #require(final.sources.first { $0.name == "Box 3" })
        let box2 = try #require(final.sources.first { $0.name == "Box 2" })
        #expect(!box3.active && box2.chunks > box3.chunks, "\(final.sources)")
        #expect(try sha256(home.replicaPath(id, in: 1)) == (try sha256(original)))
    }

    @Test func withNoHolderLeftTheFetchWaitsAndResumesWhenAHolderReturns() throws {
        let home = try SimulatedHome(boxes: 2, tag: "w")
        let original = try home.addLargeVideo("series.mkv", megabytes: 24, to: [2])
        for index in 1...2 { try home.startDaemon(index) }
        let id = try home.contentID(of: "series.mkv", in: 2)
        try home.waitUntilListed(id, in: 1, heldBy: ["Box 2"])
        try home.shape(2, rate: "40mbit")

        #expect(try home.ctl(1, ["fetch", id.hex]).status == 0)
        try eventually(timeout: .seconds(60), "a quarter arrived") {
            guard let state = try home.fetchState(id, in: 1), state.chunkCount > 0 else { return false }
            return state.chunksDone * 4 >= state.chunkCount
        }
        try home.signalDaemon(2, SIGKILL)
        try eventually(timeout: .seconds(30), "the fetch waits for a holder") {
            try home.fetchState(id, in: 1)?.state == .waitingForHolders
        }
        try home.shape(2, rate: "off")
        try home.startDaemon(2)
        let final = try home.waitForFetch(id, in: 1)
        #expect(final.state == .complete)
        #expect(try sha256(home.replicaPath(id, in: 1)) == (try sha256(original)))
    }

    @Test func aFetchThatDoesNotFitTheCacheFailsClearlyAndLeavesNoPartialFile() throws {
        let home = try SimulatedHome(boxes: 2, tag: "q")
        try home.addLargeVideo("huge.mkv", megabytes: 8, to: [2])
        try home.startDaemon(1, extraConfig: "cache_max = \"4 MiB\"")
        try home.startDaemon(2)
        let id = try home.contentID(of: "huge.mkv", in: 2)
        try home.waitUntilListed(id, in: 1, heldBy: ["Box 2"])

        let fetch = try home.ctl(1, ["fetch", id.hex, "--wait"])
        #expect(fetch.status != 0)
        #expect(fetch.stdout.contains("does not fit") && fetch.stdout.contains("cache_max"), "\(fetch.stdout)")
        let objects = (try? FileManager.default.contentsOfDirectory(atPath: home.box(1) + "/cache/objects")) ?? []
        #expect(objects.isEmpty, "\(objects)")
        #expect(try home.fetchState(id, in: 1)?.state == .failed)
    }

    @Test func rangeRequestsAndMalformedIDsOverRealHTTPS() throws {
        let home = try SimulatedHome(boxes: 2, tag: "h")
        let original = try home.addLargeVideo("range.mkv", megabytes: 2, to: [2])
        for index in 1...2 { try home.startDaemon(index) }
        let id = try home.contentID(of: "range.mkv", in: 2)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: original)[.size] as? Int)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: original))
        let url = "https://10.77.0.2:8737/v1/objects/\(id.hex)"

        func get(_ range: String?, _ path: String? = nil) throws -> (status: String, body: Data) {
            let out = home.box(1) + "/body"
            var arguments = home.peerCurl(1) + ["-s", "-o", out, "-w", "%{http_code}"]
            if let range { arguments += ["-H", "Range: \(range)"] }
            let result = try home.exec(1, arguments + [path.map { "https://10.77.0.2:8737" + $0 } ?? url])
            return (result.stdout, (try? Data(contentsOf: URL(fileURLWithPath: out))) ?? Data())
        }
        #expect(try get("bytes=0-0") == ("206", bytes.prefix(1)))
        #expect(try get("bytes=\(size - 1)-\(size - 1)") == ("206", bytes.suffix(1)))
        #expect(try get("bytes=-100") == ("206", bytes.suffix(100)))
        #expect(try get("bytes=\(size)-").status == "416")
        #expect(try get("bytes=oops").status == "400")
        #expect(try get(nil) == ("200", bytes))
        for bad in [
            "..%2F..%2Fetc%2Fpasswd", "%2e%2e", String(repeating: "a", count: 100), String(id.hex.dropLast()) + "z",
            "/etc/passwd", id.hex.uppercased() + "00",
        ] {
            for path in ["/v1/objects/\(bad)", "/v1/objects/\(bad)/manifest", "/v1/have/\(bad)", "/v1/locate/\(bad)"] {
                let status = try get(nil, path).status
                #expect(status == "400" || status == "404", "\(path): \(status)")
            }
        }
    }
}

/// `LocateAnswer` as JSON, decoded without trusting the server's types.
private struct LocateAnswerBody: Decodable {
    struct Holder: Decodable {
        var peerID: String
        var addresses: [String]
        var referredBy: String?
    }
    var holders: [Holder]
}
