import Foundation
import Testing

@testable import Household

@Suite struct HouseholdFileTests {
    func withFolder<T>(_ body: (String) throws -> T) throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("household-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try body(path)
    }

    @Test func noFileIsLANMode() throws {
        try withFolder { folder in
            let roster = try HouseholdFile(stateDirectory: folder).load()
            #expect(roster == nil)
        }
    }

    @Test func aSavedRosterIsReadBackPrivately() throws {
        try withFolder { folder in
            let file = HouseholdFile(stateDirectory: folder)
            let (a, b) = (try box(), try box())
            var roster = Roster.found(by: a, name: "A")
            try roster.add(b.peerID, name: "B", by: a)
            try file.save(roster)
            #expect(try file.load() == roster)
            let mode = try #require(
                try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int)
            #expect(mode == 0o600)
            try file.remove()
            #expect(try file.load() == nil)
        }
    }

    @Test func aTamperedFileIsAnErrorThatSaysWhatToDo() throws {
        try withFolder { folder in
            let file = HouseholdFile(stateDirectory: folder)
            let a = try box()
            try file.save(Roster.found(by: a, name: "A"))
            let text = try String(contentsOfFile: file.path, encoding: .utf8)
            try text.replacingOccurrences(of: "\"A\"", with: "\"B\"").write(
                toFile: file.path, atomically: true, encoding: .utf8)
            #expect(throws: HouseholdFileError.self) { try file.load() }
        }
    }
}
