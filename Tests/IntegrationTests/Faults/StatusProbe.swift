import ControlWire
import Foundation

/// `GET /v1/status` straight over box's control socket, without starting `mediapeerctl`: a poll costs a
/// millisecond instead of a process, so a fault aimed at a moment of the scan lands within a batch of it.
enum StatusProbe {
    /// The daemon's status, or nil when nothing answers on `socket` (yet, or any more).
    static func status(socket path: String) -> DaemonStatus? {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: bytes)
            buffer[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET /v1/status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)
        guard write(descriptor, request, request.count) == request.count else { return nil }
        var response: [UInt8] = []
        var block = [UInt8](repeating: 0, count: 16384)
        while response.count < 1 << 20 {
            let count = read(descriptor, &block, block.count)
            guard count > 0 else { break }
            response += block[0..<count]
        }
        return decode(response)
    }

    /// The JSON body of a complete HTTP/1.1 200 response (a `Content-Length` body or a chunked one).
    static func decode(_ response: [UInt8]) -> DaemonStatus? {
        let separator = Array("\r\n\r\n".utf8)
        guard let end = response.firstRange(of: separator) else { return nil }
        let head = String(decoding: response[..<end.lowerBound], as: UTF8.self).lowercased()
        guard head.hasPrefix("http/1.1 200") else { return nil }
        var body = Array(response[end.upperBound...])
        if head.contains("transfer-encoding: chunked") {
            var unchunked: [UInt8] = []
            var rest = body[...]
            while let line = rest.firstRange(of: Array("\r\n".utf8)),
                let size = Int(String(decoding: rest[..<line.lowerBound], as: UTF8.self), radix: 16), size > 0,
                rest.count >= line.upperBound - rest.startIndex + size
            {
                unchunked += rest[line.upperBound..<(line.upperBound + size)]
                rest = rest[(line.upperBound + size)...].dropFirst(2)
            }
            body = unchunked
        }
        return try? ControlJSON.decoder().decode(DaemonStatus.self, from: Data(body))
    }
}
