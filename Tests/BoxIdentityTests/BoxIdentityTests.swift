import Crypto
import Foundation
import NIOSSL
import Testing

@testable import BoxIdentity

/// A fresh state folder per test, removed afterwards.
func withStateDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("box-identity-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

@Suite struct BoxIdentityTests {
    @Test func theIdStaysTheSameAcrossRestarts() throws {
        try withStateDirectory { folder in
            let first = try BoxIdentity.loadOrCreate(stateDirectory: folder)
            let second = try BoxIdentity.loadOrCreate(stateDirectory: folder)
            #expect(first.peerID == second.peerID)
            #expect(first.certificateDER == second.certificateDER)
        }
    }

    @Test func theIdIsDerivedFromThePublicKey() throws {
        try withStateDirectory { folder in
            let identity = try BoxIdentity.loadOrCreate(stateDirectory: folder)
            let digest = Array(SHA256.hash(data: identity.privateKey.publicKey.derRepresentation))
            let expected = digest.prefix(16).map { String(format: "%02x", $0) }.joined()
            #expect(identity.peerID == expected)
            #expect(PeerKeyID.isWellFormed(identity.peerID))
        }
    }

    @Test func twoBoxesGetDifferentIds() throws {
        let ids = try (0..<2).map { _ in try withStateDirectory { try BoxIdentity.loadOrCreate(stateDirectory: $0) } }
        #expect(ids[0].peerID != ids[1].peerID)
    }

    @Test func theKeyFileIsReadableByItsOwnerOnly() throws {
        try withStateDirectory { folder in
            _ = try BoxIdentity.loadOrCreate(stateDirectory: folder)
            var info = stat()
            #expect(stat(folder + "/box-key.pem", &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600)
        }
    }

    @Test func aCorruptKeyFileIsAnErrorNotANewIdentity() throws {
        try withStateDirectory { folder in
            _ = try BoxIdentity.loadOrCreate(stateDirectory: folder)
            let keyPath = folder + "/box-key.pem"
            try Data("-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n".utf8).write(
                to: URL(fileURLWithPath: keyPath))
            #expect {
                try BoxIdentity.loadOrCreate(stateDirectory: folder)
            } throws: { error in
                guard case .unreadableKey(let path, _) = error as? BoxIdentityError else { return false }
                return path == keyPath && "\(error)".contains("restore it from a backup")
            }
            // Left as it was for the user to restore or move away.
            #expect(try String(contentsOfFile: keyPath, encoding: .utf8).contains("garbage"))
        }
    }

    @Test func aLostCertificateIsMadeAgainForTheSameId() throws {
        try withStateDirectory { folder in
            let first = try BoxIdentity.loadOrCreate(stateDirectory: folder)
            try Data("not a certificate".utf8).write(to: URL(fileURLWithPath: folder + "/box-cert.pem"))
            let second = try BoxIdentity.loadOrCreate(stateDirectory: folder)
            #expect(second.peerID == first.peerID)
            #expect(
                PeerKeyVerification.verify(leaf: second.certificateDER, expecting: first.peerID)
                    == .success(first.peerID))
        }
    }

    @Test func aCertificateOfAnotherKeyIsReplaced() throws {
        try withStateDirectory { folder in
            let first = try BoxIdentity.loadOrCreate(stateDirectory: folder)
            let stranger = try BoxIdentity(privateKey: P256.Signing.PrivateKey())
            try Data(BoxIdentity.certificatePEM(stranger.certificateDER).utf8).write(
                to: URL(fileURLWithPath: folder + "/box-cert.pem"))
            let second = try BoxIdentity.loadOrCreate(stateDirectory: folder)
            #expect(
                PeerKeyVerification.verify(leaf: second.certificateDER, expecting: first.peerID)
                    == .success(first.peerID))
        }
    }
}

@Suite struct PeerTLSConfigurationTests {
    /// A transfer the client stops (a fetch yielding to a play) must leave the link at once: waiting for the
    /// server's close_notify kept it streaming into an unread buffer for swift-nio-ssl's default 5 s.
    @Test func aClientConnectionClosesWithoutWaitingForTheServersCloseNotify() throws {
        let identity = try BoxIdentity(privateKey: P256.Signing.PrivateKey())
        #expect(
            try identity.clientTLSConfiguration(trusting: identity.tlsCredentials().certificate).shutdownTimeout
                == .zero)
        #expect(try identity.clientTLSConfiguration(trusting: nil).shutdownTimeout == .zero)
    }

    /// A box without a CA bundle (ca-certificates is not a dependency) must still serve: the peer API trusts no
    /// certificate authority, only the keys its verification accepts.
    @Test func neitherSideLoadsTheSystemTrustStore() throws {
        let identity = try BoxIdentity(privateKey: P256.Signing.PrivateKey())
        #expect(try identity.serverTLSConfiguration().trustRoots == .certificates([]))
        #expect(try identity.clientTLSConfiguration(trusting: nil).trustRoots == .certificates([]))
    }

    /// A box stopping with idle peer connections open took 5 s, swift-nio-ssl's default wait for each client's
    /// close_notify, where a plain box stopped at once (0.13 s with this).
    @Test func neitherSideWaitsForTheOthersCloseNotify() throws {
        let identity = try BoxIdentity(privateKey: P256.Signing.PrivateKey())
        #expect(try identity.serverTLSConfiguration().shutdownTimeout == .zero)
        #expect(try identity.clientTLSConfiguration(trusting: nil).shutdownTimeout == .zero)
    }
}

@Suite struct PeerKeyVerificationTests {
    @Test func theRightKeyIsAccepted() throws {
        let box = try BoxIdentity(privateKey: P256.Signing.PrivateKey())
        #expect(PeerKeyVerification.verify(leaf: box.certificateDER, expecting: box.peerID) == .success(box.peerID))
    }

    @Test func anotherKeyIsRefusedNamingBoth() throws {
        let box = try BoxIdentity(privateKey: P256.Signing.PrivateKey())
        let impostor = try BoxIdentity(privateKey: P256.Signing.PrivateKey())
        #expect(
            PeerKeyVerification.verify(leaf: impostor.certificateDER, expecting: box.peerID)
                == .failure(.wrongKey(expected: box.peerID, presented: impostor.peerID)))
    }

    @Test func anyKeyIsLearntWhenNoneIsExpected() throws {
        let box = try BoxIdentity(privateKey: P256.Signing.PrivateKey())
        #expect(PeerKeyVerification.verify(leaf: box.certificateDER, expecting: nil) == .success(box.peerID))
    }

    @Test func noCertificateIsRefused() {
        #expect(PeerKeyVerification.verify(leaf: nil, expecting: nil) == .failure(.noCertificate))
    }

    @Test func bytesThatAreNoCertificateAreRefused() {
        guard case .failure(.unreadable) = PeerKeyVerification.verify(leaf: [0x30, 0x03, 1, 2, 3], expecting: nil)
        else {
            Issue.record("garbage accepted")
            return
        }
    }
}
