import Foundation
import MediapeerConfig
import Testing

@Suite("Loading files")
struct LoadingTests {
    @Test func loadReportsProblemsUnderThePath() throws {
        try withTemporaryDirectory { root in
            let path = "\(root)/mediapeer.toml"
            try "name = \"box\"\nhttp_port = true\n".write(toFile: path, atomically: true, encoding: .utf8)
            do throws(ConfigError) {
                _ = try MediapeerConfiguration.load(path: path, checkFileSystem: false)
                Issue.record("expected an error")
            } catch {
                #expect(
                    error.errors.map(\.description) == ["\(path):2: http_port: expected an integer, found a boolean"])
            }
        }
    }

    @Test func loadReadsAValidFile() throws {
        try withTemporaryDirectory { root in
            let path = "\(root)/mediapeer.toml"
            try "http_port = 9100\n".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(try MediapeerConfiguration.load(path: path, checkFileSystem: false).httpPort == 9100)
        }
    }

    @Test func missingExplicitFileIsAnError() throws {
        try withTemporaryDirectory { root in
            let path = "\(root)/typo.toml"
            #expect(
                throws: ConfigError(problems: [
                    ConfigProblem(
                        source: path, message: "cannot read the configuration file: No such file or directory")
                ])
            ) {
                try MediapeerConfiguration.loadOrDefault(path: path, isExplicit: true, checkFileSystem: false)
            }
        }
    }

    @Test func missingDefaultFileGivesDefaultsWithAWarning() throws {
        try withTemporaryDirectory { root in
            let path = "\(root)/mediapeer.toml"
            let config = try MediapeerConfiguration.loadOrDefault(path: path, isExplicit: false, checkFileSystem: false)
            #expect(config == MediapeerConfiguration())
            #expect(
                config.warnings.first?.description
                    == "\(path): warning: no configuration file; using the built-in defaults")
        }
    }

    @Test func existingDefaultFileIsValidated() throws {
        try withTemporaryDirectory { root in
            let path = "\(root)/mediapeer.toml"
            try "http_port = 0\n".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: ConfigError.self) {
                try MediapeerConfiguration.loadOrDefault(path: path, isExplicit: false, checkFileSystem: false)
            }
        }
    }

    @Test func invalidUTF8IsRejectedWithItsLine() throws {
        try withTemporaryDirectory { root in
            let path = "\(root)/mediapeer.toml"
            try Data("name = \"box\"\nname2 = \"caf".utf8 + [0xE9] + Data("\"\n".utf8)).write(
                to: URL(fileURLWithPath: path))
            #expect(
                throws: ConfigError(problems: [
                    ConfigProblem(source: path, line: 2, message: "the file is not UTF-8 text, as TOML requires")
                ])
            ) {
                try MediapeerConfiguration.load(path: path, checkFileSystem: false)
            }
        }
    }

    @Test func defaultPathIsUnderEtc() {
        #expect(MediapeerConfiguration.defaultPath == "/etc/mediapeer/mediapeer.toml")
    }
}
