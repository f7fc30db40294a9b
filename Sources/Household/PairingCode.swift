import Crypto
import Foundation

/// A one-time pairing code: `mediapeerctl pair` prints it on a member, `mediapeerctl join` takes it on the new box.
///
/// 24 base32 characters (RFC 4648's alphabet) in six groups of four, `K7QP-ABCD-EFGH-IJKL-MNOP-QRST`: the first group
/// is the first 20 bits of the pairing box's peer id, to find it among the announced boxes (not secret), the other
/// 20 are 100 random bits. The whole code keys the HMAC proofs of pairing (``PairingProofs``), so a device that
/// captured an exchange would have to try 2^100 codes offline: infeasible, which the issue allows instead of a
/// PAKE. A code is typed by hand: case, spaces and dashes do not matter.
public struct PairingCode: Sendable, Hashable, CustomStringConvertible {
    /// The 24 characters, upper case, without separators.
    public let characters: String

    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    static let length = 24
    static let hintLength = 4

    /// A fresh code for the box `peerID`.
    public static func make(for peerID: String) -> PairingCode {
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<(length - hintLength)).map { _ in alphabet[Int.random(in: 0..<32, using: &generator)] }
        return PairingCode(validated: hint(of: peerID) + String(secret))
    }

    private init(validated: String) {
        characters = validated
    }

    /// The code as typed; nil unless it is 24 base32 characters once spaces and dashes are taken out.
    public init?(typed text: String) {
        let cleaned = text.uppercased().filter { $0 != "-" && $0 != " " }
        guard cleaned.count == Self.length, cleaned.allSatisfy({ Self.alphabet.contains($0) }) else { return nil }
        characters = cleaned
    }

    /// The first group: which box printed the code.
    public var hint: String { String(characters.prefix(Self.hintLength)) }

    /// Whether `peerID` is the box this code was printed on, as far as the hint tells (1 in a million others match).
    public func mayBeFrom(_ peerID: String) -> Bool {
        Self.hint(of: peerID) == hint
    }

    /// The first 20 bits of a peer id (its first 5 hex digits) as 4 base32 characters.
    static func hint(of peerID: String) -> String {
        let bits = UInt32(peerID.prefix(5), radix: 16) ?? 0
        return String((0..<hintLength).map { index in alphabet[Int((bits >> (15 - 5 * UInt32(index))) & 31)] })
    }

    public var description: String {
        stride(from: 0, to: Self.length, by: 4).map { start in
            let from = characters.index(characters.startIndex, offsetBy: start)
            return String(characters[from..<characters.index(from, offsetBy: 4)])
        }.joined(separator: "-")
    }
}

/// The proofs of knowing a pairing code: HMAC-SHA256 keyed with the code, over the role, both boxes' proven ids and
/// both nonces. Each box's id is the one its TLS key proved, so a proof made for one pair of boxes is worth nothing
/// to any other, and the nonces make it worth nothing in another exchange.
public enum PairingProofs {
    public enum Role: String, Sendable {
        case joiner, member
    }

    public static func proof(
        _ role: Role, code: PairingCode, memberID: String, joinerID: String, memberNonce: [UInt8],
        joinerNonce: [UInt8]
    ) -> [UInt8] {
        let key = SymmetricKey(data: Data(code.characters.utf8))
        return Array(
            HMAC<SHA256>.authenticationCode(
                for: message(role, memberID, joinerID, memberNonce, joinerNonce), using: key))
    }

    /// Compared in constant time.
    public static func isValid(
        _ proof: [UInt8], _ role: Role, code: PairingCode, memberID: String, joinerID: String, memberNonce: [UInt8],
        joinerNonce: [UInt8]
    ) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(
            proof, authenticating: message(role, memberID, joinerID, memberNonce, joinerNonce),
            using: SymmetricKey(data: Data(code.characters.utf8)))
    }

    private static func message(
        _ role: Role, _ memberID: String, _ joinerID: String, _ memberNonce: [UInt8], _ joinerNonce: [UInt8]
    ) -> Data {
        var data = Data("mediapeer pairing 1\n\(role.rawValue)\n\(memberID)\n\(joinerID)\n".utf8)
        data.append(contentsOf: memberNonce)
        data.append(contentsOf: joinerNonce)
        return data
    }

    /// 32 random bytes.
    public static func nonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}

/// Hex, both ways, for nonces and proofs on the wire.
public enum Hex {
    public static func encode(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// Nil unless `text` is exactly `count` bytes of hex.
    public static func decode(_ text: String, count: Int) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count == count * 2 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case 0x30...0x39: digit - 0x30
        case 0x61...0x66: digit - 0x61 + 10
        case 0x41...0x46: digit - 0x41 + 10
        default: nil
        }
    }
}
