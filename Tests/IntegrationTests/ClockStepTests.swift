import ControlWire
import Foundation
import Testing
import WireVocabulary

/// The wall clock stepping backwards and forwards by hours, days and a year while daemons run (issue 13), as on a
/// box without a real-time clock that boots in the past and is then set by NTP. A time namespace cannot move the
/// realtime clock and this machine's clock is not the tests' to set, so each daemon runs with a small `LD_PRELOAD`
/// shim that adds an offset, read from a file the test rewrites, to `clock_gettime(CLOCK_REALTIME)`, `time` and
/// `gettimeofday`: everything the daemon reads as wall time (Foundation's `Date`, `time(nil)`, its log stamps),
/// while the monotonic clocks its timers run on are left alone. File mtimes step too, set into the future and the
/// past with `utimensat`.
@Suite(.serialized) struct ClockStepTests {
    static let shimSource = #"""
        #define _GNU_SOURCE
        #include <dlfcn.h>
        #include <fcntl.h>
        #include <stdlib.h>
        #include <sys/time.h>
        #include <time.h>
        #include <unistd.h>

        static long long offset_seconds(void) {
            const char *path = getenv("MEDIAPEER_TEST_CLOCK_OFFSET");
            if (path == NULL) return 0;
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) return 0;
            char text[32] = {0};
            ssize_t count = read(fd, text, sizeof text - 1);
            close(fd);
            return count > 0 ? atoll(text) : 0;
        }

        int clock_gettime(clockid_t id, struct timespec *now) {
            static int (*real)(clockid_t, struct timespec *);
            if (real == NULL) real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
            int result = real(id, now);
            if (result == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) now->tv_sec += offset_seconds();
            return result;
        }

        time_t time(time_t *out) {
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            if (out != NULL) *out = now.tv_sec;
            return now.tv_sec;
        }

        int gettimeofday(struct timeval *out, void *zone) {
            (void)zone;
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            if (out != NULL) {
                out->tv_sec = now.tv_sec;
                out->tv_usec = now.tv_nsec / 1000;
            }
            return 0;
        }
        """#

    static let compilerAvailable = Command.which("cc") != nil

    /// Compiles the shim into `folder` and returns its path.
    static func buildShim(in folder: String) throws -> String {
        let source = folder + "/clock-step.c"
        let library = folder + "/clock-step.so"
        try shimSource.write(toFile: source, atomically: true, encoding: .utf8)
        let built = try Command.run(
            try #require(Command.which("cc")), ["-shared", "-fPIC", "-O1", "-o", library, source, "-ldl"])
        guard built.status == 0 else { throw TestFailure("cc failed: \(built.stderr)") }
        return library
    }

    /// Steps box `index`'s wall clock to `offset` seconds from the real one.
    static func step(_ home: SimulatedHome, box index: Int, to offset: Int) throws {
        try String(offset).write(toFile: home.box(index) + "/clock-offset", atomically: true, encoding: .utf8)
    }

    /// Sets the modification time of `path` to `seconds` since the epoch.
    static func setModified(_ path: String, to seconds: Int) throws {
        var times = [
            timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0),
        ]
        guard utimensat(AT_FDCWD, path, &times, 0) == 0 else { throw TestFailure("utimensat \(path): errno \(errno)") }
    }

    /// Whether box 1 holds a complete replica of `id`: its record and its file.
    static func holdsReplica(_ home: SimulatedHome, _ id: ContentID) throws -> Bool {
        try home.indexCount(1, "SELECT count(*) FROM replica WHERE complete = 1;") == 1
            && FileManager.default.fileExists(atPath: home.replicaPath(id, in: 1))
    }

    /// The `scan finished` lines of box `index`'s log so far.
    static func scansFinished(_ home: SimulatedHome, _ index: Int) -> [Substring] {
        home.log(index).split(separator: "\n").filter { $0.contains(" info scan finished ") }
    }

    @Test(.enabled(if: compilerAvailable, "no C compiler for the clock shim"))
    func wallClockStepsLoseNoTitleEvictNoReplicaAndStopNoTimer() throws {
        let home = try SimulatedHome(boxes: 2, tag: "ck")
        let shim = try Self.buildShim(in: home.folder)
        try home.addLargeVideo("feature.mkv", megabytes: 4, to: [2])
        for name in [MediaFixtures.song, MediaFixtures.photo, MediaFixtures.clip, MediaFixtures.film] {
            try MediaFixtures.copy(name, to: home.box(1) + "/media/" + name)
        }
        var environments: [Int: [String: String]] = [:]
        for index in 1...2 {
            try Self.step(home, box: index, to: 0)
            environments[index] = [
                "LD_PRELOAD": shim, "MEDIAPEER_TEST_CLOCK_OFFSET": home.box(index) + "/clock-offset",
            ]
            try home.startDaemon(index, environment: environments[index]!)
        }
        let feature = try home.contentID(of: "feature.mkv", in: 2)
        try home.waitUntilListed(feature, in: 1, heldBy: ["Box 2"])
        let fetched = try home.ctl(1, ["fetch", feature.hex, "--wait"])
        #expect(fetched.status == 0, "\(fetched.stderr)")
        let titles = try home.status(1).library.files
        let scans = try home.status(1).scan.completedScans

        // Steps of box 1's clock while it runs, and box 2's the other way; after each, a new file arrives.
        let day = 86_400
        let steps = [(-3 * day, 2 * day), (10 * day, -day), (-2 * 3600, 0), (400 * day, -400 * day)]
        for (number, (offset, neighbourOffset)) in steps.enumerated() {
            try Self.step(home, box: 1, to: offset)
            try Self.step(home, box: 2, to: neighbourOffset)
            let stamp = Date(timeIntervalSinceNow: TimeInterval(offset))
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withFullDate]
            let day = formatter.string(from: stamp)
            try MediaFixtures.copy(MediaFixtures.tone, to: home.box(1) + "/media/arrival-\(number).wav")
            try eventually(timeout: .seconds(30), "box 1 indexes arrival \(number) after a step to \(day)") {
                try home.status(1).library.files == titles + number + 1
            }
            // The step reached the daemon: what it logs of the arrival (its catalog's new generation, announced)
            // is stamped with the stepped day.
            try eventually(timeout: .seconds(30), "box 1 logs on \(day)\n\(home.log(1).suffix(1500))") {
                home.log(1).contains(day + "T")
            }
            let status = try home.status(1)
            #expect(status.scan.completedScans == scans, "a step of the clock started a rescan")
            try home.waitUntilListed(feature, in: 1, heldBy: ["Box 2"])
            #expect(try Self.holdsReplica(home, feature), "box 1 lost its replica after a step to \(day)")
        }

        // Timers run on the monotonic clock: stepped back a day, box 1 still notices box 2 going and coming back.
        try Self.step(home, box: 1, to: -day)
        try home.exec(2, ["ip", "link", "set", "eth0", "down"])
        try eventually(timeout: .seconds(60), "box 1 notices box 2 is gone, its clock a day back") {
            try home.peers(1).peers.first { $0.name == "Box 2" }?.reachable != true
        }
        try home.exec(2, ["ip", "link", "set", "eth0", "up"])
        try eventually(timeout: .seconds(60), "box 1 sees box 2 again") {
            try home.peers(1).peers.first { $0.name == "Box 2" }?.reachable == true
        }

        // File mtimes stepped into the future and to the epoch while box 1 is down: the next start reads those two
        // files again, the start after it reads none.
        try home.signalDaemon(1, SIGTERM)
        try Self.setModified(
            home.box(1) + "/media/" + MediaFixtures.song, to: Int(Date().timeIntervalSince1970) + 5 * 365 * day)
        try Self.setModified(home.box(1) + "/media/" + MediaFixtures.photo, to: 0)
        for expected in ["new_or_changed=2", "new_or_changed=0"] {
            try Self.step(home, box: 1, to: -30 * day)
            try home.startDaemon(1, environment: environments[1]!)
            try eventually(timeout: .seconds(60), "box 1's start scan finishes") {
                !Self.scansFinished(home, 1).isEmpty
            }
            let line = try #require(Self.scansFinished(home, 1).last)
            #expect(line.contains(expected), "\(line)")
            #expect(try home.status(1).library.files == titles + steps.count)
            if expected.hasSuffix("2") { try home.signalDaemon(1, SIGTERM) }
        }
        // Started a month in the past, box 1 keeps its replica through its replication passes.
        try eventually(timeout: .seconds(60), "two replication passes of box 1") {
            home.log(1).components(separatedBy: "replication pass").count >= 3
        }
        #expect(try Self.holdsReplica(home, feature), "box 1 lost its replica after a restart a month back")
        try home.waitUntilListed(feature, in: 1, heldBy: ["Box 2"])
    }
}
