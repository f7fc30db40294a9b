import Crypto

/// The UPnP device UUID of a box: a name-based UUID (RFC 9562 version 8, from SHA-256) of its peer id, so it stays
/// the same across restarts and reinstalls that keep the state folder, and differs between boxes. SSDP and the
/// MediaServer's device description must give the same one.
public enum UPnPDeviceIdentity {
    /// `xxxxxxxx-xxxx-8xxx-yxxx-xxxxxxxxxxxx`, lowercase, without the `uuid:` prefix.
    public static func uuid(peerID: String) -> String {
        var bytes = Array(SHA256.hash(data: Array(("mediapeer UPnP device " + peerID).utf8)).prefix(16))
        bytes[6] = bytes[6] & 0x0f | 0x80  // version 8
        bytes[8] = bytes[8] & 0x3f | 0x80  // RFC 9562 variant
        let hex = bytes.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
        }
        return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { hex[$0].joined() }.joined(separator: "-")
    }
}
