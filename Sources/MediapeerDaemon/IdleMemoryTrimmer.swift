import CSystemShims
import Foundation
import Logging
import MediaIndex
import ServiceLifecycle

/// Hands memory back to the box once the index has been quiet for a while after a burst of work (a scan, the
/// hashing backlog, live changes): malloc's free pages, and the executable's code pages (MADV_PAGEOUT).
///
/// A scan touches code all over the 50 MB static binary, and the kernel maps each touched page with its
/// neighbours, so about 20 MiB of code stays resident though an idle daemon runs less than 2 MiB of it. Those
/// pages are clean and would go under memory pressure anyway; handing them back at once leaves room for the
/// box's player. The cost is paid when work starts again: the code is read back from storage (page faults on
/// the first requests after an idle spell). It wakes only after index commits and while hashing runs, never on a
/// timer while idle.
struct IdleMemoryTrimmer: Service {
    let library: MediaLibrary
    let logger: Logger
    var quietPeriod: Duration = .seconds(5)

    func run() async throws {
        var pending: Task<Void, Never>?
        for await _ in library.generationUpdates().cancelOnGracefulShutdown() {
            pending?.cancel()
            pending = Task { [library, logger, quietPeriod] in
                // Hashing does not move the generation: while it runs, look again every quiet period (work is going
                // on then anyway); once idle, trim and stop until the next commit.
                while true {
                    do {
                        try await Task.sleep(for: quietPeriod)
                    } catch {
                        return  // another commit came first: wait for quiet again
                    }
                    if library.scanProgress.phase == .idle, (try? await library.statistics().awaitingHash) == 0 {
                        break
                    }
                }
                let before = LibraryControlHandler.residentBytes() ?? 0
                _ = mediapeer_release_free_heap()
                let released = Self.pageOutExecutableCode()
                let after = LibraryControlHandler.residentBytes() ?? 0
                logger.debug(
                    "index idle: returned memory to the kernel",
                    metadata: [
                        "rss_before_kib": "\(before / 1024)", "rss_after_kib": "\(after / 1024)",
                        "code_ranges": "\(released)",
                    ])
            }
        }
        pending?.cancel()
        await pending?.value
    }

    /// MADV_PAGEOUT on the executable's code mappings (r-xp, file-backed and never written). Returns how many
    /// ranges the kernel accepted; on kernels before 5.4 (no MADV_PAGEOUT) that is 0 and nothing changes.
    static func pageOutExecutableCode() -> Int {
        let madvPageout: Int32 = 21  // <linux/mman.h>; not exported by Swift's Glibc module
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
            let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8)
        else { return 0 }
        var accepted = 0
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "r-xp", fields[5...].joined(separator: " ") == executable else {
                continue
            }
            let bounds = fields[0].split(separator: "-").compactMap { UInt(String($0), radix: 16) }
            guard bounds.count == 2, bounds[1] > bounds[0], let start = UnsafeMutableRawPointer(bitPattern: bounds[0])
            else { continue }
            if madvise(start, Int(bounds[1] - bounds[0]), madvPageout) == 0 { accepted += 1 }
        }
        return accepted
    }
}
