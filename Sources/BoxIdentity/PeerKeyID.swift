import Crypto
import Foundation
import X509

/// A box's peer id, derived from its public key: the first 128 bits of the SHA-256 of the key's
/// SubjectPublicKeyInfo DER, as 32 lowercase hex digits.
///
/// 32 hex digits is the length random ids had, so every wire bound, column and CLI width stays as it was; 128 bits
/// leave a second preimage (another key with the same id) at 2^128 work, out of reach of any device on a LAN.
public enum PeerKeyID {
    /// The id of a P-256 public key.
    public static func id(of key: P256.Signing.PublicKey) -> String {
        id(ofSubjectPublicKeyInfo: key.derRepresentation)
    }

    /// The id of a key given as its SubjectPublicKeyInfo DER.
    public static func id(ofSubjectPublicKeyInfo der: some DataProtocol) -> String {
        let digest = SHA256.hash(data: der)
        return digest.prefix(16).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Whether `text` has the form of a peer id: 32 lowercase hex digits.
    public static func isWellFormed(_ text: String) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

/// Why a peer's certificate does not prove the id a box expected.
public enum PeerKeyRejection: Error, Equatable, CustomStringConvertible {
    /// The peer sent no certificate.
    case noCertificate
    /// The certificate is not DER X.509, or its key is not a P-256 key (the only kind boxes make).
    case unreadable(String)
    /// The key is fine but belongs to another box.
    case wrongKey(expected: String, presented: String)

    public var description: String {
        switch self {
        case .noCertificate: "the peer presented no certificate"
        case .unreadable(let reason): "the peer's certificate is unusable: \(reason)"
        case .wrongKey(let expected, let presented):
            "the peer's key is that of \(presented), not of \(expected): it is not the box it claims to be"
        }
    }
}

/// The decision a TLS endpoint takes on the certificate its peer presented, apart from TLS itself: TLS has
/// already checked that the peer holds the certificate's private key (TLS 1.3 CertificateVerify), so the
/// certificate's signature, issuer and dates carry no meaning here; only its key does.
public enum PeerKeyVerification {
    /// The id the leaf certificate `der` proves, if it is the one expected.
    ///
    /// - Parameter expected: the id the connection was made to reach; nil to learn whoever answers (a static peer
    ///   whose id is not known yet, or a server accepting any box).
    public static func verify(leaf der: [UInt8]?, expecting expected: String?) -> Result<String, PeerKeyRejection> {
        guard let der else { return .failure(.noCertificate) }
        let certificate: Certificate
        do {
            certificate = try Certificate(derEncoded: der)
        } catch {
            return .failure(.unreadable("not an X.509 certificate (\(error))"))
        }
        guard let key = P256.Signing.PublicKey(certificate.publicKey) else {
            return .failure(.unreadable("its key is not a P-256 key"))
        }
        let presented = PeerKeyID.id(of: key)
        if let expected, expected != presented { return .failure(.wrongKey(expected: expected, presented: presented)) }
        return .success(presented)
    }
}
