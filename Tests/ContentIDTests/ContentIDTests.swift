import Crypto
import Foundation
import Testing
import WireVocabulary

@testable import ContentID

@Suite struct ContentIDTests {
    @Test func hexTextRoundTrips() throws {
        let id = try #require(ContentID(bytes: Array(0..<32)))
        #expect(id.hex == "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
        #expect(ContentID(hex: id.hex) == id)
        #expect(ContentID(hex: id.hex.uppercased()) == id)
    }

    @Test(arguments: [
        "", "../../etc/passwd", "%2e%2e%2fetc%2fpasswd", String(repeating: "a", count: 63),
        String(repeating: "a", count: 65), String(repeating: "g", count: 64), String(repeating: "a", count: 4096),
    ])
    func hexParsingRejectsAnythingButSixtyFourHexDigits(_ text: String) {
        #expect(ContentID(hex: text) == nil)
    }

    @Test func emptyFileHasNoChunksAndAFixedID() throws {
        let manifest = try ChunkManifest(fileSize: 0, chunkSize: ChunkManifest.standardChunkSize, packedChunkHashes: [])
        #expect(manifest.chunkCount == 0)
        var hasher = SHA256()
        hasher.update(data: Array("mediapeer-content-v1\0".utf8) + [0, 0, 0, 0, 0, 0, 0, 0] + [0, 0x10, 0, 0])
        #expect(manifest.contentID.bytes == Array(hasher.finalize()))
    }

    @Test func manifestRejectsAHashListOfTheWrongLength() {
        #expect(throws: ManifestError.hashCountMismatch(expected: 2, found: 1)) {
            try ChunkManifest(fileSize: 1025, chunkSize: 1024, packedChunkHashes: Array(repeating: 0, count: 32))
        }
    }

    @Test func byteRangesAndCoveringChunksFollowTheChunkSize() throws {
        let manifest = try ChunkManifest(
            fileSize: 2500, chunkSize: 1000, packedChunkHashes: Array(repeating: 0, count: 96))
        #expect(manifest.chunkCount == 3)
        #expect(manifest.byteRange(ofChunk: 2) == 2000..<2500)
        #expect(manifest.chunks(covering: 999..<1001) == 0..<2)
        #expect(manifest.chunks(covering: 2499..<9999) == 2..<3)
        #expect(manifest.chunks(covering: 2500..<2600).isEmpty)
    }

    @Test func serializedManifestRoundTripsAndRejectsGarbage() throws {
        let manifest = try ChunkManifest(fileSize: 1500, chunkSize: 1000, packedChunkHashes: Array(0..<64))
        #expect(try ChunkManifest(serialized: manifest.serialized()) == manifest)
        #expect(throws: ManifestError.truncated) { try ChunkManifest(serialized: Array("MPM1".utf8)) }
        #expect(throws: ManifestError.self) { try ChunkManifest(serialized: Array(manifest.serialized().dropLast())) }
    }

    // MARK: Manifests from peers

    @Test func aPeersManifestWithAnotherChunkSizeIsRejected() throws {
        let manifest = try ChunkManifest(fileSize: 1500, chunkSize: 1000, packedChunkHashes: Array(0..<64))
        #expect(throws: ManifestError.unexpectedChunkSize(found: 1000, expected: 1 << 20)) {
            try ChunkManifest(serialized: manifest.serialized(), chunkSize: 1 << 20, maxChunkCount: 100)
        }
    }

    @Test func aPeersManifestWithMoreChunksThanTheLimitIsRejectedFromItsHeaderAlone() throws {
        // The header claims 1 TiB in 1 MiB chunks; none of the hashes that would need are present.
        let header = try ChunkManifest(fileSize: 0, chunkSize: 1 << 20, packedChunkHashes: []).serialized()
        var claimed = header
        claimed.replaceSubrange(4..<12, with: withUnsafeBytes(of: (UInt64(1) << 40).bigEndian, Array.init))
        #expect(throws: ManifestError.tooManyChunks(found: 1 << 20, limit: 262_144)) {
            try ChunkManifest(serialized: claimed, chunkSize: 1 << 20, maxChunkCount: 262_144)
        }
    }

    @Test func aPeersManifestWithinBothBoundsIsAccepted() throws {
        let manifest = try ChunkManifest(
            fileSize: 3000, chunkSize: 1000, packedChunkHashes: Array(repeating: 7, count: 96))
        #expect(try ChunkManifest(serialized: manifest.serialized(), chunkSize: 1000, maxChunkCount: 3) == manifest)
        #expect(throws: ManifestError.tooManyChunks(found: 3, limit: 2)) {
            try ChunkManifest(serialized: manifest.serialized(), chunkSize: 1000, maxChunkCount: 2)
        }
    }

    @Test func theLargestAcceptedManifestTakesItsHeaderAndOneHashPerChunk() {
        #expect(ChunkManifest.serializedSize(chunkCount: 262_144) == 16 + 262_144 * 32)
    }
}
