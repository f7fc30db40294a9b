import NIOCore
import NIOSSL

/// The TLS side of a box's identity: every peer connection is mutual TLS 1.3, each end presenting its
/// self-signed certificate; each end accepts the other by its key alone (``PeerKeyVerification``).
extension BoxIdentity {
    /// The certificate and key as swift-nio-ssl takes them.
    public func tlsCredentials() throws -> (certificate: NIOSSLCertificate, privateKey: NIOSSLPrivateKey) {
        (
            try NIOSSLCertificate(bytes: certificateDER, format: .der),
            try NIOSSLPrivateKey(bytes: Array(privateKey.derRepresentation), format: .der)
        )
    }

    /// The peer API's server side: TLS 1.3 only, a client certificate required (a handshake without one fails),
    /// and every client key accepted at the TLS layer through ``verifyAnyBox(_:_:)``: who the client is, the
    /// request handlers learn from its key.
    public func serverTLSConfiguration() throws -> TLSConfiguration {
        let (certificate, key) = try tlsCredentials()
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(certificate)], privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv13
        configuration.certificateVerification = .noHostnameVerification
        // No system trust store: a box key is judged by ``verifyAnyBox(_:_:)`` alone, and a box may have no CA
        // bundle at all (the package does not need ca-certificates): loading the platform's failed the start there.
        configuration.trustRoots = .certificates([])
        // Closing is at once too: a stopping box closes its idle peer connections, and waiting for each client's
        // close_notify (5 s by default) held the whole stop that long. Bodies are framed by length either way.
        configuration.shutdownTimeout = .zero
        return configuration
    }

    /// The client side towards one box whose certificate is known (`trusting`, learnt by a probe that checked its
    /// key against the id): that certificate is the only trust root, and no host name is checked, so a server
    /// is accepted only if it proves the key of that certificate. With `trusting` nil: a probe's configuration,
    /// whose handler decides by a custom verification callback.
    public func clientTLSConfiguration(trusting certificate: NIOSSLCertificate?) throws -> TLSConfiguration {
        let (own, key) = try tlsCredentials()
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        configuration.certificateChain = [.certificate(own)]
        configuration.privateKey = .privateKey(key)
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .certificates(certificate.map { [$0] } ?? [])
        // A connection the client closes is gone at once, after its close_notify: waiting for the server's (5 s by
        // default) kept a stopped transfer (a fetch yielding to a play) streaming at full speed into a buffer nobody
        // read, and its pool slot taken, all that time. HTTP/1.1 frames every body by length, so the server's
        // close_notify would prove nothing a request needs.
        configuration.shutdownTimeout = .zero
        return configuration
    }

    /// A custom verification callback that accepts the peer when its leaf certificate's key has the id
    /// `expected` (any well-formed key when nil), and tells `decided` what it found.
    public static func verification(
        expecting expected: String?, decided: @escaping @Sendable (Result<String, PeerKeyRejection>) -> Void
    ) -> NIOSSLCustomVerificationCallback {
        { certificates, promise in
            let decision = PeerKeyVerification.verify(
                leaf: certificates.first.flatMap { try? $0.toDERBytes() }, expecting: expected)
            decided(decision)
            switch decision {
            case .success: promise.succeed(.certificateVerified)
            case .failure: promise.succeed(.failed)
            }
        }
    }
}
