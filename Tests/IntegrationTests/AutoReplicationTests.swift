import ControlWire
import Foundation
import Testing
import WireVocabulary

/// Replication by itself (`replication = "auto"`) between real daemons: what the home plays spreads to the boxes
/// without a command, a full cache lets go of what is worth least per byte, and neither a pin nor the last copy in
/// the home is ever let go.
@Suite(.serialized) struct AutoReplicationTests {
    /// Passes run a quarter of a second after a change; demand figures are written after half a second.
    private static let quick = [
        "MEDIAPEER_REPLICATION_SETTLE_MS": "250", "MEDIAPEER_DEMAND_FLUSH_MS": "500",
    ]

    @Test func aTitleOnOneBoxPlayedThreeTimesFromAnotherIsKeptThereWithoutACommand() throws {
        let home = try SimulatedHome(boxes: 3, tag: "ar")
        let original = try home.addLargeVideo("popular.mkv", megabytes: 6, to: [3])
        for index in 1...3 { try home.startDaemon(index, environment: Self.quick) }
        let id = try home.contentID(of: "popular.mkv", in: 3)
        try home.waitUntilListed(id, in: 1, heldBy: ["Box 3"])

        // Three players (three addresses) play it through box 1; nobody runs a command.
        for player in 1...3 { try Self.play(id, through: 1, from: player, in: home) }

        try eventually(timeout: .seconds(60), "box 1 keeps the title it plays\n\(home.log(1).suffix(4000))") {
            FileManager.default.fileExists(atPath: home.replicaPath(id, in: 1))
        }
        #expect(try sha256(home.replicaPath(id, in: 1)) == (try sha256(original)))
        let cache = try home.decode(CacheReport.self, 1, ["cache"])
        let replica = try #require(cache.replicas.first { $0.id == id })
        #expect(replica.complete && replica.keptBecause != nil, "\(replica)")
        #expect(abs((replica.demand ?? 0) - 3) < 0.01, "\(replica)")
        #expect(try home.fetches(1).allSatisfy { $0.id == id }, "box 1 fetched nothing else")
    }

    @Test func aFullCacheEvictsDownToItsLowWatermarkLeastValuePerByteFirstAndKeepsAPin() throws {
        let home = try SimulatedHome(boxes: 2, tag: "aw")
        // Four titles of 7 to 9 MiB into a 32 MiB cache: the fourth takes it past its high watermark (28.8 MiB).
        let sizes = ["pinned.mkv": 7, "large.mkv": 9, "watched.mkv": 7, "last.mkv": 7]
        for (name, megabytes) in sizes { try home.addLargeVideo(name, megabytes: megabytes, to: [2]) }
        try home.startDaemon(1, extraConfig: "cache_max = \"32MiB\"", environment: Self.quick)
        try home.startDaemon(2, environment: Self.quick)
        var ids: [String: ContentID] = [:]
        for name in sizes.keys {
            ids[name] = try home.contentID(of: name, in: 2)
            try home.waitUntilListed(ids[name]!, in: 1, heldBy: ["Box 2"])
        }

        for name in ["pinned.mkv", "large.mkv"] {
            #expect(try home.ctl(1, ["fetch", ids[name]!.hex]).status == 0)
            _ = try home.waitForFetch(ids[name]!, in: 1)
        }
        #expect(try home.ctl(1, ["pin", ids["pinned.mkv"]!.hex]).status == 0)
        // Played from two addresses: worth more per byte than the titles only fetched once.
        for player in 1...2 { try Self.play(ids["watched.mkv"]!, through: 1, from: player, in: home) }
        _ = try home.waitForFetch(ids["watched.mkv"]!, in: 1)
        #expect(try home.ctl(1, ["fetch", ids["last.mkv"]!.hex]).status == 0)
        _ = try home.waitForFetch(ids["last.mkv"]!, in: 1)

        try eventually(timeout: .seconds(30), "box 1 evicts the large title\n\(home.log(1).suffix(4000))") {
            !FileManager.default.fileExists(atPath: home.replicaPath(ids["large.mkv"]!, in: 1))
        }
        let cache = try home.decode(CacheReport.self, 1, ["cache"])
        #expect(Set(cache.replicas.map(\.id)) == Set(["pinned.mkv", "watched.mkv", "last.mkv"].map { ids[$0]! }))
        #expect(cache.usedBytes <= Int64(Double(cache.quotaBytes) * cache.lowWatermark), "\(cache)")
        #expect(cache.replicas.first { $0.id == ids["pinned.mkv"]! }?.keptBecause == "pinned")
        for name in ["pinned.mkv", "watched.mkv", "last.mkv"] {
            #expect(FileManager.default.fileExists(atPath: home.replicaPath(ids[name]!, in: 1)), "\(name)")
        }
    }

    @Test func theLastCopyInTheHomeSurvivesAFullCacheWhenItsOwnerLeftForGood() throws {
        let home = try SimulatedHome(boxes: 2, tag: "al")
        try home.addLargeVideo("only.mkv", megabytes: 7, to: [2])
        // Box 1 forgets a box unseen for a second: one that left for good, as far as box 1 can tell.
        let config = "forget_peers_after = \"1s\"\ncache_max = "
        let environment = Self.quick.merging(["MEDIAPEER_REPLICATION_INTERVAL_MS": "1000"]) { $1 }
        try home.startDaemon(1, extraConfig: config + "\"32MiB\"", environment: environment)
        try home.startDaemon(2, environment: Self.quick)
        let id = try home.contentID(of: "only.mkv", in: 2)
        try home.waitUntilListed(id, in: 1, heldBy: ["Box 2"])
        #expect(try home.ctl(1, ["fetch", id.hex]).status == 0)
        _ = try home.waitForFetch(id, in: 1)

        try home.signalDaemon(2, SIGTERM)
        try eventually("box 1 sees box 2 leave") { !(try home.peerNames(1)).contains("Box 2") }
        let left = ContinuousClock.now
        // Unseen times are whole unix seconds: past two of them, box 2 is unseen for longer than one whatever the
        // fractions.
        try eventually("box 2 has been away longer than forget_peers_after") {
            ContinuousClock.now - left > .seconds(3)
        }
        // Box 1 forgets box 2's catalog as it starts again: nobody else holds the title now.
        try home.signalDaemon(1, SIGTERM)
        try home.startDaemon(1, extraConfig: config + "\"32MiB\"", environment: environment)
        let database = home.box(1) + "/state/index.sqlite"
        try eventually("box 1 forgets box 2's catalog\n\(home.log(1).suffix(3000))\n\(Self.peers(database))") {
            home.log(1).contains("forgot the catalog of a neighbour unseen for long")
        }

        // A cache of 4 MiB: the replica is far above the high watermark, and it is the only copy left.
        let configPath = home.box(1) + "/mediapeer.toml"
        try (try String(contentsOfFile: configPath, encoding: .utf8))
            .replacingOccurrences(of: "cache_max = \"32MiB\"", with: "cache_max = \"4MiB\"")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        kill(try home.status(1).pid, SIGHUP)
        try eventually("box 1 reloads the smaller cache\n\(home.log(1).suffix(3000))") {
            try home.decode(CacheReport.self, 1, ["cache"]).quotaBytes == 4 << 20
        }
        let passesBefore = Self.passes(in: home.log(1))
        try eventually("box 1 plans with the smaller cache\n\(home.log(1).suffix(3000))") {
            Self.passes(in: home.log(1)) > passesBefore
        }
        #expect(FileManager.default.fileExists(atPath: home.replicaPath(id, in: 1)))
        let replica = try #require(try home.decode(CacheReport.self, 1, ["cache"]).replicas.first { $0.id == id })
        #expect(replica.keptBecause == "last copy in the home", "\(replica)")
    }

    @Test func aBackgroundReplicationLetsTheLinkGoToAConcurrentPlay() throws {
        let home = try SimulatedHome(boxes: 3, tag: "ab")
        // Both titles come from box 2, over one link: the play and the replication compete for it.
        try home.addLargeVideo("wanted.mkv", megabytes: 160, to: [2])
        // Motion JPEG at about 12 Mbit/s, under a third of box 2's link below (40 Mbit/s): the play has room, unless
        // the replication keeps the link (before fetches that yield stopped their requests in flight, on a 16 Mbit/s
        // link its chunks came up to 23 s late).
        try home.addRealVideo(
            "watched.mkv", seconds: 12,
            arguments: ["-s", "1280x720", "-c:v", "mjpeg", "-q:v", "2", "-c:a", "aac", "-shortest"],
            to: [2])
        try home.startDaemon(1, environment: Self.quick.merging(["MEDIAPEER_REPLICATION_INTERVAL_MS": "1000"]) { $1 })
        try home.startDaemon(2, environment: Self.quick)
        let wanted = try home.contentID(of: "wanted.mkv", in: 2, timeout: .seconds(120))
        let watched = try home.contentID(of: "watched.mkv", in: 2)
        for id in [wanted, watched] { try home.waitUntilListed(id, in: 1, heldBy: ["Box 2"]) }

        // Watched here three times, then its copy is gone: the replicator copies it again, in the background.
        for player in 1...3 { try Self.play(wanted, through: 1, from: player, in: home) }
        _ = try home.waitForFetch(wanted, in: 1)
        try home.shape(2, rate: "40mbit")
        let copiesBefore = Self.copies(in: home.log(1))
        #expect(try home.ctl(1, ["cache", "evict", "--force", wanted.hex]).status == 0)
        try eventually(timeout: .seconds(60), "box 1 copies the title again\n\(home.log(1).suffix(3000))") {
            guard Self.copies(in: home.log(1)) > copiesBefore, let fetch = try home.fetchState(wanted, in: 1) else {
                return false
            }
            return fetch.state == .downloading && fetch.chunksDone >= 2
        }

        // A player decoding at the title's pace, through box 1, while the replication runs.
        let logBefore = home.log(1).count
        let decode = try home.exec(
            3,
            [
                "ffmpeg", "-v", "error", "-re", "-i", home.mediaURL(watched, through: 1, fileExtension: "mkv"), "-f",
                "null", "-",
            ],
            timeout: .seconds(120))
        let replication = try #require(try home.fetchState(wanted, in: 1))
        let duringPlay = String(home.log(1).dropFirst(logBefore))
        #expect(decode.status == 0 && decode.stderr.isEmpty, "\(decode.stderr)\n\(duringPlay.suffix(3000))")
        #expect(replication.state == .downloading, "the replication ran all through the play: \(replication)")
        #expect(try home.fetchState(watched, in: 1) != nil, "the play was fetched from box 2")
        // The replication let the link go while the play's fetch ran: once told to yield, it started no request
        // and got at most the chunk each request in flight was on. (What it did, not how late the play's chunks
        // came: on a loaded machine the play's own chunks come late with no replication at all.)
        try eventually("the replication takes its links back after the play\n\(home.log(1).suffix(3000))") {
            !Self.yieldSpells(of: wanted, in: String(home.log(1).dropFirst(logBefore))).isEmpty
        }
        let spells = Self.yieldSpells(of: wanted, in: String(home.log(1).dropFirst(logBefore)))
        for spell in spells {
            #expect(spell["requests_started_while_yielding"] == 0, "\(spell)\n\(duringPlay.suffix(6000))")
            #expect(
                spell["chunks_while_yielding"] ?? .max <= spell["requests_in_flight_at_yield"] ?? 0,
                "\(spell)\n\(duringPlay.suffix(6000))")
        }
        // Known: the play's first chunks may still come late, the bytes the replication had on the link when the
        // play began (its requests stop at their next chunk, not at once), and a loaded machine makes any late.
        let late = duringPlay.components(separatedBy: "\n").filter { $0.contains("a player's chunk arrived after") }
        withKnownIssue("a play starting beside a replication may get its first chunks late", isIntermittent: true) {
            #expect(late.isEmpty, "\(late.joined(separator: "\n"))")
        }
    }

    /// The yields of `id`'s fetch that ended in `log`: each one's counts (``FetchScheduler/YieldSpell``).
    private static func yieldSpells(of id: ContentID, in log: String) -> [[String: Int]] {
        let keys = ["requests_in_flight_at_yield", "chunks_while_yielding", "requests_started_while_yielding"]
        return log.components(separatedBy: "\n")
            .filter { $0.contains("fetch takes its links back") && $0.contains("object=\(id.hex.prefix(16))") }
            .map { line in
                var counts: [String: Int] = [:]
                for field in line.split(separator: " ") {
                    let parts = field.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2, keys.contains(String(parts[0])) else { continue }
                    counts[String(parts[0])] = Int(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
                }
                return counts
            }
    }

    /// Plays `id` through box `through`'s player endpoint from box `from`'s address (a player there).
    private static func play(_ id: ContentID, through: Int, from: Int, in home: SimulatedHome) throws {
        let result = try home.exec(
            from, ["curl", "-sf", "-o", "/dev/null", home.mediaURL(id, through: through, fileExtension: "mkv")],
            timeout: .seconds(60))
        #expect(result.status == 0, "\(result.stderr)\n\(home.log(through).suffix(3000))")
    }

    private static func peers(_ database: String) -> String {
        (try? Command.run(
            "/usr/bin/sqlite3", [database, "SELECT peer_id, unseen_since, strftime('%s') FROM remote_peer"]
        ).stdout) ?? ""
    }

    /// How many replications the replicator has started.
    private static func copies(in log: String) -> Int {
        log.components(separatedBy: "replication: copying a title the home wants").count - 1
    }

    private static func passes(in log: String) -> Int {
        log.components(separatedBy: "replication pass").count - 1
    }
}
