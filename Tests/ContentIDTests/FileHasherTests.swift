import Crypto
import Foundation
import Testing
import WireVocabulary

@testable import ContentID

@Suite struct FileHasherTests {
    let folder: String

    init() throws {
        folder = NSTemporaryDirectory() + "contentid-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    private func write(_ bytes: [UInt8], name: String) throws -> String {
        let path = folder + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func pseudoRandomBytes(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    @Test func manifestHashesEachChunkIncludingAShortLastOne() throws {
        let bytes = pseudoRandomBytes(count: 2 * 1024 + 300, seed: 1)
        let manifest = try FileHasher.manifest(ofFileAt: write(bytes, name: "a"), chunkSize: 1024)
        #expect(manifest.fileSize == Int64(bytes.count))
        #expect(manifest.chunkCount == 3)
        for index in 0..<3 {
            let chunk = bytes[(index * 1024)..<min((index + 1) * 1024, bytes.count)]
            #expect(Array(manifest.hash(ofChunk: index)) == Array(SHA256.hash(data: Array(chunk))))
        }
    }

    @Test func changingOneByteChangesTheContentID() throws {
        var bytes = pseudoRandomBytes(count: 5000, seed: 2)
        let first = try FileHasher.manifest(ofFileAt: write(bytes, name: "a"), chunkSize: 1024).contentID
        bytes[4999] ^= 1
        let second = try FileHasher.manifest(ofFileAt: write(bytes, name: "b"), chunkSize: 1024).contentID
        #expect(first != second)
    }

    @Test func sameBytesGiveTheSameContentIDWhateverTheName() throws {
        let bytes = pseudoRandomBytes(count: 3000, seed: 3)
        let first = try FileHasher.manifest(ofFileAt: write(bytes, name: "one.mkv"))
        let second = try FileHasher.manifest(ofFileAt: write(bytes, name: "two.mkv"))
        #expect(first.contentID == second.contentID)
    }

    @Test func verifierAcceptsTheRightChunkAndRejectsWrongBytesOrLength() throws {
        let bytes = pseudoRandomBytes(count: 2500, seed: 4)
        let manifest = try FileHasher.manifest(ofFileAt: write(bytes, name: "a"), chunkSize: 1000)
        let verifier = try ChunkVerifier(manifest: manifest, expected: manifest.contentID)
        #expect(verifier.verify(chunk: 1, bytes: Array(bytes[1000..<2000])))
        #expect(verifier.verify(chunk: 2, bytes: Array(bytes[2000...])))
        var corrupted = Array(bytes[1000..<2000])
        corrupted[17] ^= 0x80
        #expect(!verifier.verify(chunk: 1, bytes: corrupted))
        #expect(!verifier.verify(chunk: 1, bytes: Array(bytes[1000..<1999])))
        #expect(!verifier.verify(chunk: 3, bytes: []))
        #expect(!verifier.verify(chunk: -1, bytes: []))
    }

    @Test func verifierRefusesAManifestThatDoesNotHashToTheRequestedID() throws {
        let manifest = try FileHasher.manifest(ofFileAt: write(pseudoRandomBytes(count: 100, seed: 5), name: "a"))
        let other = try #require(ContentID(bytes: Array(repeating: 7, count: 32)))
        #expect(throws: ManifestError.self) { try ChunkVerifier(manifest: manifest, expected: other) }
    }

    @Test func hashingStopsWhenAskedTo() throws {
        let path = try write(pseudoRandomBytes(count: 10_000, seed: 6), name: "a")
        #expect(throws: HashingError.cancelled) {
            try FileHasher.manifest(ofFileAt: path, chunkSize: 1000, shouldContinue: { false })
        }
    }

    @Test func unreadableFileReportsThePath() {
        #expect(throws: HashingError.self) { try FileHasher.manifest(ofFileAt: folder + "/missing") }
        do {
            _ = try FileHasher.manifest(ofFileAt: folder + "/missing")
        } catch {
            #expect(error.description.contains(folder + "/missing"))
        }
    }
}
