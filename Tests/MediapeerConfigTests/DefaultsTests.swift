import MediapeerConfig
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@Suite("Defaults")
struct DefaultsTests {
    @Test func emptyFileGivesDefaults() throws {
        let config = try parsed("")
        #expect(config.mediaDirs == [])
        #expect(config.stateDir == "/var/lib/mediapeer")
        #expect(config.cacheDir == "/var/cache/mediapeer")
        #expect(config.cacheMax == .percentOfFilesystem(20))
        #expect(config.httpPort == 8737)
        #expect(config.controlSocket == "/run/mediapeer/control.sock")
        #expect(config.logLevel == .info)
        #expect(config.staticPeers == [])
        #expect(config.rescanInterval == nil)
    }

    @Test func defaultsMatchTheDefaultInitializer() throws {
        #expect(try parsed("# nothing but a comment\n") == MediapeerConfiguration())
    }

    @Test func defaultNameIsTheHostName() throws {
        // This test is about the machine: the default comes from gethostname.
        var buffer = [CChar](repeating: 0, count: 256)
        #expect(gethostname(&buffer, 255) == 0)
        let hostName = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let config = try parsed("")
        #expect(config.name == MediapeerConfiguration.defaultName)
        #expect(!config.name.isEmpty)
        #expect(config.name.utf8.count <= 63)
        if !hostName.isEmpty && hostName.utf8.count <= 63 {
            #expect(config.name == hostName)
        }
    }

    @Test func missingMediaDirsIsOnlyAWarning() throws {
        let config = try parsed("http_port = 8000")
        #expect(config.mediaDirs == [])
        #expect(
            config.warnings.map(\.description) == [
                #"test.toml: warning: media_dirs: not set, so this box shares nothing; add media_dirs = ["/srv/media"] with your media directories"#
            ])
    }

    @Test func emptyMediaDirsIsOnlyAWarningOnItsLine() throws {
        let config = try parsed("http_port = 8000\nmedia_dirs = []\n")
        #expect(config.warnings.count == 1)
        #expect(config.warnings.first?.severity == .warning)
        #expect(config.warnings.first?.key == "media_dirs")
        #expect(config.warnings.first?.line == 2)
    }

    @Test func warningsDoNotTakePartInEquality() throws {
        var a = MediapeerConfiguration(name: "box")
        let b = a
        a.warnings = [ConfigProblem(severity: .warning, source: "x", message: "y")]
        #expect(a == b)
    }
}
