import AsyncHTTPClient
import BoxIdentity
import Crypto
import Foundation
import NIOSSL
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What a load run needs: the victim, where to come from, how much, for how long at most.
struct LoadSettings: Sendable {
    var host: String
    var port: Int
    var source: String?
    var count: Int
    var duration: Int
    var object: String?
    var range: String?
    var workers: Int
    var stats: Stats
    /// players: the path asked for, and the file whose bytes it must give.
    var path: String? = nil
    var file: String? = nil
    /// players, slow-loris: how many consecutive source addresses from `source` the clients spread over.
    var sources = 1
}

struct LoadError: Error, CustomStringConvertible {
    var description: String
}

/// Bounded loads on plain sockets, so that each connection does exactly what a hostile client would (hold,
/// trickle, read slowly) and nothing a client library would add; against the TLS peer API they reach only the
/// connection limits and the TLS handshake. The locates go over mutual TLS, with a key of the load's own. Every run
/// stops after `duration` seconds.
enum Load {
    /// Opens `count` connections, each sending a request head announcing a 4000-byte body, then one body byte
    /// a second: what a slow-loris client with bodies does to a server's file descriptors.
    static func trickleConnections(_ settings: LoadSettings) throws {
        raiseDescriptorLimit(to: settings.count + 256)
        enum State { case connecting, trickling, closed }
        var sockets: [(fd: Int32, state: State)] = []
        var counters = ["attempted": 0, "connected": 0, "closed-by-server": 0, "failed": 0, "answered": 0]
        for _ in 0..<settings.count {
            counters["attempted", default: 0] += 1
            do {
                sockets.append((try openSocket(settings, nonblocking: true), .connecting))
            } catch {
                counters["failed", default: 0] += 1
            }
        }
        let head = Array(
            ("POST /v1/goodbye HTTP/1.1\r\nHost: victim\r\nContent-Type: application/json\r\n"
                + "Content-Length: 4000\r\n\r\n").utf8)
        let deadline = ContinuousClock.now + .seconds(settings.duration)
        var nextTrickle = ContinuousClock.now
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var polls = sockets.map { pollfd(fd: $0.fd, events: Int16(POLLIN | POLLOUT), revents: 0) }
            _ = poll(&polls, nfds_t(polls.count), 100)
            let trickle = ContinuousClock.now >= nextTrickle
            if trickle { nextTrickle = ContinuousClock.now + .seconds(1) }
            for index in sockets.indices where sockets[index].state != .closed {
                let fd = sockets[index].fd
                let events = Int32(polls[index].revents)
                func close(_ counter: String) {
                    counters[counter, default: 0] += 1
                    sockets[index].state = .closed
                    _ = Glibc.close(fd)
                }
                if sockets[index].state == .connecting {
                    if events & Int32(POLLERR | POLLHUP) != 0 {
                        close("failed")
                    } else if events & Int32(POLLOUT) != 0 {
                        counters["connected", default: 0] += 1
                        sockets[index].state = .trickling
                        guard send(fd, head, head.count, Int32(MSG_NOSIGNAL)) == head.count else {
                            close("closed-by-server")
                            continue
                        }
                    }
                    continue
                }
                if events & Int32(POLLIN) != 0 {
                    let got = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                    close(got > 0 ? "answered" : "closed-by-server")
                    continue
                }
                if events & Int32(POLLERR | POLLHUP) != 0 {
                    close("closed-by-server")
                    continue
                }
                if trickle, send(fd, [0x20], 1, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) < 0, errno != EAGAIN {
                    close("closed-by-server")
                }
            }
            counters["open"] = sockets.filter { $0.state == .trickling }.count
            settings.stats.set(counters)
        }
        for socket in sockets where socket.state != .closed { _ = Glibc.close(socket.fd) }
        counters["done"] = 1
        settings.stats.set(counters)
    }

    /// Opens `count` connections that each ask for the object (or `range` of it) and then read about 5 kB a
    /// second through a 4 KiB receive buffer, so each transfer holds its upload slot as long as the run lasts.
    /// Counts the status of every answer's head (`status-206`, `status-503`, …) and the requests still waiting.
    static func slowReaders(_ settings: LoadSettings) throws {
        guard let object = settings.object else { throw LoadError(description: "slow-readers needs --object") }
        var rangeHeader = ""
        if let range = settings.range { rangeHeader = "Range: \(range)\r\n" }
        let request = Array("GET /v1/objects/\(object) HTTP/1.1\r\nHost: victim\r\n\(rangeHeader)\r\n".utf8)
        struct Reader {
            var fd: Int32
            var head: [UInt8] = []
            var status: Int?
            var open = true
        }
        var readers: [Reader] = []
        var counters = ["connected": 0, "failed": 0, "closed": 0]
        for _ in 0..<settings.count {
            do {
                let fd = try openSocket(settings, nonblocking: false, receiveBuffer: 4096)
                guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else {
                    _ = close(fd)
                    counters["failed", default: 0] += 1
                    continue
                }
                readers.append(Reader(fd: fd))
                counters["connected", default: 0] += 1
            } catch {
                counters["failed", default: 0] += 1
            }
        }
        let deadline = ContinuousClock.now + .seconds(settings.duration)
        var tick = 0
        var buffer = [UInt8](repeating: 0, count: 1024)
        while ContinuousClock.now < deadline {
            var polls = readers.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            _ = poll(&polls, nfds_t(polls.count), 100)
            tick += 1
            for index in readers.indices where readers[index].open {
                // Heads are read as soon as they come; bodies 512 bytes a second per reader.
                guard readers[index].status == nil || tick % 10 == 0 else { continue }
                let wanted = readers[index].status == nil ? buffer.count : 512
                let got = recv(readers[index].fd, &buffer, wanted, Int32(MSG_DONTWAIT))
                if got == 0 || (got < 0 && errno != EAGAIN) {
                    readers[index].open = false
                    _ = close(readers[index].fd)
                    counters["closed", default: 0] += 1
                    continue
                }
                guard got > 0, readers[index].status == nil else { continue }
                readers[index].head += buffer[0..<got]
                if let status = statusCode(ofHead: readers[index].head) {
                    readers[index].status = status
                    counters["status-\(status)", default: 0] += 1
                }
            }
            counters["pending"] = readers.filter { $0.open && $0.status == nil }.count
            counters["reading"] = readers.filter { $0.open && $0.status == 206 || $0.open && $0.status == 200 }.count
            settings.stats.set(counters)
        }
        for reader in readers where reader.open { _ = close(reader.fd) }
        counters["done"] = 1
        settings.stats.set(counters)
    }

    /// Sends up to `count` locates, each with a query id never used before, over `workers` keep-alive TLS
    /// connections, as fast as the victim answers. Counts answers by status, and 429s that say `Retry-After: 1`.
    static func locates(_ settings: LoadSettings) async throws {
        guard let object = settings.object else { throw LoadError(description: "locates needs --object") }
        guard settings.source == nil else { throw LoadError(description: "locates cannot choose its source address") }
        // The peer API is mutual TLS: the load is a device with a key of its own, as any device can make. It does
        // not check the victim's key (it attacks whoever answers).
        let identity = try BoxIdentity(privateKey: P256.Signing.PrivateKey())
        let (certificate, key) = try identity.tlsCredentials()
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateChain = [.certificate(certificate)]
        tls.privateKey = .privateKey(key)
        tls.certificateVerification = .none
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = settings.workers
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let shared = LocateCounters()
        let started = ContinuousClock.now
        let deadline = started + .seconds(settings.duration)
        let run = UUID().uuidString.prefix(8)
        let base = "https://\(settings.host):\(settings.port)/v1/locate/\(object)?ttl=0&qid=q\(run)"
        await withTaskGroup(of: Void.self) { workers in
            for worker in 0..<settings.workers {
                workers.addTask {
                    var local: [String: Int] = [:]
                    func flush() {
                        let snapshot = shared.totals.withLock { totals in
                            totals.merge(local) { $0 + $1 }
                            return totals
                        }
                        local = [:]
                        settings.stats.set(snapshot)
                    }
                    while ContinuousClock.now < deadline {
                        let number = shared.issued.add(1, ordering: .relaxed).newValue
                        guard number <= settings.count else { break }
                        do {
                            let request = HTTPClientRequest(url: base + "-\(worker)-\(number)")
                            let response = try await http.execute(request, timeout: .seconds(10))
                            _ = try await response.body.collect(upTo: 1 << 20)
                            let status = Int(response.status.code)
                            local["status-\(status)", default: 0] += 1
                            if status == 429, response.headers.first(name: "Retry-After") == "1" {
                                local["retry-after-1", default: 0] += 1
                            }
                            local["answered", default: 0] += 1
                        } catch {
                            local["reconnects", default: 0] += 1
                        }
                        if number % 100 == 0 { flush() }
                    }
                    flush()
                }
            }
        }
        try? await http.shutdown()
        let elapsed = ContinuousClock.now - started
        settings.stats.set([
            "elapsed-ms": Int(
                elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000),
            "done": 1,
        ])
    }

    /// What the locate workers share.
    private final class LocateCounters: Sendable {
        let totals = Mutex<[String: Int]>([:])
        let issued = Atomic<Int>(0)
    }

    // MARK: - Sockets

    static func openSocket(_ settings: LoadSettings, nonblocking: Bool, receiveBuffer: Int32? = nil) throws
        -> Int32
    {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LoadError(description: "socket: \(String(cString: strerror(errno)))") }
        if var size = receiveBuffer {
            // Before connect, so the window the victim sees is small from the first byte.
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if let source = settings.source {
            var local = try address(source, port: 0)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0 else {
                _ = close(fd)
                throw LoadError(description: "bind \(source): \(String(cString: strerror(errno)))")
            }
        }
        if nonblocking { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        var remote = try address(settings.host, port: settings.port)
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 || (nonblocking && errno == EINPROGRESS) else {
            let reason = String(cString: strerror(errno))
            _ = close(fd)
            throw LoadError(description: "connect: \(reason)")
        }
        return fd
    }

    private static func address(_ host: String, port: Int) throws -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw LoadError(description: "not an IPv4 address: \(host)")
        }
        return address
    }

    static func raiseDescriptorLimit(to wanted: Int) {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        limit.rlim_cur = max(limit.rlim_cur, min(rlim_t(wanted), limit.rlim_max))
        _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    }

    /// The status code of a response head, once the whole head has arrived.
    static func statusCode(ofHead bytes: [UInt8]) -> Int? {
        guard let text = String(bytes: bytes, encoding: .isoLatin1), text.contains("\r\n\r\n") else { return nil }
        let parts = text.split(separator: " ", maxSplits: 2)
        return parts.count >= 2 ? Int(parts[1]) : nil
    }

    /// Reads one response (head and a Content-Length body) from a blocking socket.
    private static func readResponse(_ fd: Int32) -> (status: Int, retryAfter: String?)? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        var headEnd: Int?
        while headEnd == nil {
            let got = recv(fd, &buffer, buffer.count, 0)
            guard got > 0 else { return nil }
            data += buffer[0..<got]
            headEnd = data.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound
            guard data.count < 64 << 10 else { return nil }
        }
        guard let headEnd, let head = String(bytes: data[..<headEnd], encoding: .isoLatin1) else { return nil }
        var status: Int?
        var length = 0
        var retryAfter: String?
        for (number, line) in head.split(separator: "\r\n").enumerated() {
            if number == 0 {
                status = line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
                continue
            }
            let field = line.split(separator: ":", maxSplits: 1)
            guard field.count == 2 else { continue }
            let value = field[1].trimmingCharacters(in: .whitespaces)
            switch field[0].lowercased() {
            case "content-length": length = Int(value) ?? 0
            case "retry-after": retryAfter = value
            default: break
            }
        }
        var remaining = length - (data.count - headEnd)
        while remaining > 0 {
            let got = recv(fd, &buffer, min(buffer.count, remaining), 0)
            guard got > 0 else { return nil }
            remaining -= got
        }
        return status.map { ($0, retryAfter) }
    }
}
