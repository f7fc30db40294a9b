import Foundation
import Testing

/// Once the index is idle, the daemon hands its code pages and free heap back to the kernel.
@Suite(.serialized) struct IdleMemoryTests {
    @Test func anIdleDaemonReturnsItsCodePagesAfterIndexing() throws {
        let box = try TestBox()
        try MediaFixtures.copy(MediaFixtures.photo, to: box.media + "/a.jpg")
        try MediaFixtures.copy(MediaFixtures.song, to: box.media + "/b.mp3")
        // A copy of its own: the kernel pages out only code no other process maps, and the other daemons of the
        // test run (other suites run beside this one) map the built binary's pages too.
        let binary = box.folder + "/mediapeerd"
        try FileManager.default.copyItem(atPath: Binaries.daemon, toPath: binary)
        try box.start(binary: binary)
        try box.waitUntilIndexed()
        try eventually(timeout: .seconds(30), "the daemon reports returning memory\n\(box.log)") {
            box.log.contains("index idle: returned memory to the kernel")
        }
        let line = try #require(box.log.split(separator: "\n").first { $0.contains("index idle: returned memory") })
        #expect(line.contains("code_ranges=1"), "MADV_PAGEOUT was accepted for the executable's code: \(line)")
        let numbers = ["rss_before_kib", "rss_after_kib"].map { key in
            line.split(separator: " ").first { $0.hasPrefix(key + "=") }.flatMap { Int($0.split(separator: "=")[1]) }
        }
        let before = try #require(numbers[0])
        let after = try #require(numbers[1])
        #expect(after < before, "resident memory went down: \(before) KiB -> \(after) KiB")
        // The daemon still answers after its code was paged out.
        #expect(try box.status().library.files == 2)
    }
}
