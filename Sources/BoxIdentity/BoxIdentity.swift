import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// This box's identity: a P-256 key pair made on first start and kept in `state_dir/box-key.pem` (mode 0600), a
/// self-signed certificate carrying its public key (`state_dir/box-cert.pem`), and the peer id derived from that
/// key (``PeerKeyID``). A household (issue 14 part 2) is a set of such ids.
///
/// P-256 rather than Ed25519: BoringSSL (through swift-nio-ssl) verifies ECDSA P-256 in TLS 1.3 by default on
/// both sides, while Ed25519 is left out of its default verification list and would have to be enabled on every
/// endpoint; a box makes a handshake per connection, so the speed of either makes no difference.
public struct BoxIdentity: Sendable {
    /// The peer id: 32 lowercase hex digits derived from the public key.
    public let peerID: String
    public let privateKey: P256.Signing.PrivateKey
    /// The self-signed certificate (DER) that carries the public key in TLS. Only its key means anything: a peer
    /// checks the key against the id, never the signature, names or dates.
    public let certificateDER: [UInt8]

    static let keyFile = "box-key.pem"
    static let certificateFile = "box-cert.pem"

    /// An identity for `privateKey`, with a fresh certificate.
    public init(privateKey: P256.Signing.PrivateKey) throws {
        self.privateKey = privateKey
        peerID = PeerKeyID.id(of: privateKey.publicKey)
        certificateDER = try Self.makeCertificate(for: privateKey, peerID: peerID)
    }

    init(privateKey: P256.Signing.PrivateKey, certificateDER: [UInt8]) {
        self.privateKey = privateKey
        peerID = PeerKeyID.id(of: privateKey.publicKey)
        self.certificateDER = certificateDER
    }

    /// The box's identity from `stateDirectory`, made and saved there on first start.
    ///
    /// A key file that exists but cannot be read is an error, never replaced: it is the box's identity, and a new
    /// one makes the box a stranger to its neighbours (and, with households, to its household). The certificate is
    /// only a carrier of the key: a missing or unreadable one is made again from the key.
    public static func loadOrCreate(stateDirectory: String) throws(BoxIdentityError) -> BoxIdentity {
        let keyPath = stateDirectory + "/" + keyFile
        let certificatePath = stateDirectory + "/" + certificateFile
        let privateKey: P256.Signing.PrivateKey
        switch readFile(keyPath) {
        case .missing:
            privateKey = P256.Signing.PrivateKey()
            do {
                try AtomicFile.write(Data(privateKey.pemRepresentation.utf8), to: keyPath, mode: 0o600)
            } catch {
                throw .cannotWrite(path: keyPath, reason: "\(error)")
            }
        case .unreadable(let reason):
            throw .unreadableKey(path: keyPath, reason: reason)
        case .contents(let data):
            do {
                privateKey = try P256.Signing.PrivateKey(pemRepresentation: String(decoding: data, as: UTF8.self))
            } catch {
                throw .unreadableKey(path: keyPath, reason: "not a P-256 private key in PEM (\(error))")
            }
            // A key readable by others is no secret: narrowed to its owner, as it was written.
            chmod(keyPath, 0o600)
        }
        if case .contents(let data) = readFile(certificatePath),
            let der = try? PEMDocument(pemString: String(decoding: data, as: UTF8.self)).derBytes,
            case .success(let id) = PeerKeyVerification.verify(leaf: der, expecting: nil),
            id == PeerKeyID.id(of: privateKey.publicKey)
        {
            return BoxIdentity(privateKey: privateKey, certificateDER: der)
        }
        let identity: BoxIdentity
        do {
            identity = try BoxIdentity(privateKey: privateKey)
            try AtomicFile.write(Data(certificatePEM(identity.certificateDER).utf8), to: certificatePath)
        } catch {
            throw .cannotWrite(path: certificatePath, reason: "\(error)")
        }
        return identity
    }

    /// A self-signed certificate for `key`: valid from 2000 to the end of 9999 (RFC 5280's "no expiry"), so that a
    /// box whose clock is wrong (no battery-backed clock, no network time yet) never takes a neighbour's for
    /// expired, and without extensions: nothing checks them.
    static func makeCertificate(for key: P256.Signing.PrivateKey, peerID: String) throws -> [UInt8] {
        let name = try DistinguishedName { CommonName("mediapeer \(peerID)") }
        var generator = SystemRandomNumberGenerator()
        let serial = Certificate.SerialNumber(
            bytes: (0..<16).map { index in
                // Positive and without a leading zero byte.
                index == 0
                    ? UInt8.random(in: 1...0x7F, using: &generator) : UInt8.random(in: 0...255, using: &generator)
            })
        let certificate = try Certificate(
            version: .v3, serialNumber: serial, publicKey: .init(key.publicKey),
            notValidBefore: Date(timeIntervalSince1970: 946_684_800),
            notValidAfter: Date(timeIntervalSince1970: 253_402_300_799), issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256, extensions: Certificate.Extensions(),
            issuerPrivateKey: .init(key))
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }

    static func certificatePEM(_ der: [UInt8]) -> String {
        PEMDocument(type: "CERTIFICATE", derBytes: der).pemString + "\n"
    }

    private enum FileContents {
        case missing
        case unreadable(String)
        case contents(Data)
    }

    /// At most 64 KiB: both files are well under 1 KiB.
    private static func readFile(_ path: String) -> FileContents {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            return code == ENOENT ? .missing : .unreadable(String(cString: strerror(code)))
        }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 64 << 10)
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count >= 0 else { return .unreadable(String(cString: strerror(errno))) }
        guard count < bytes.count else { return .unreadable("larger than 64 KiB") }
        return .contents(Data(bytes.prefix(count)))
    }
}

/// Why the box's identity could not be loaded or made: each says what to do.
public enum BoxIdentityError: Error, Equatable, CustomStringConvertible {
    case unreadableKey(path: String, reason: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadableKey(let path, let reason):
            "the box key \(path) cannot be read: \(reason). It is this box's identity (its peer id derives from it): "
                + "restore it from a backup; or, to give the box a new identity that its neighbours will see as a "
                + "new box, move the file away and start again"
        case .cannotWrite(let path, let reason):
            "cannot write \(path): \(reason); check that state_dir exists and is writable by the daemon"
        }
    }
}
