import Foundation
import Testing

/// `mediapeerctl` only speaks the control API's JSON, so it must not load the libraries of the daemon's domain
/// (mDNS, tag and EXIF readers, the index database): they cost every CLI start time and memory.
@Suite struct LinkageTests {
    @Test func theCLILinksNoneOfTheDaemonsDomainLibraries() throws {
        let ldd = try #require(Command.which("ldd"), "ldd lists the shared libraries an executable loads")
        let result = try Command.run(ldd, [Binaries.control])
        #expect(result.status == 0, "ldd \(Binaries.control) failed: \(result.stderr)")
        let libraries = result.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(libraries.contains { $0.hasPrefix("libc.so") }, "ldd listed no libraries:\n\(result.stdout)")
        let domain = libraries.filter { line in
            ["libavahi", "libtag", "libexif", "libsqlite3"].contains { line.hasPrefix($0) }
        }
        #expect(domain.isEmpty, "mediapeerctl links \(domain)")
    }
}
