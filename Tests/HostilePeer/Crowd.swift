import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A crowd in front of one box: many well-behaved players at once, and slow-loris clients beside them.
extension Load {
    /// `count` players, all started at once, each fetching a seeded range of `file` (the same file the victim serves
    /// at `path`) over its own connection, spread over `sources` consecutive source addresses from `source`. A
    /// player the victim turns away (closed before an answer, or a 503) tries again a little later, as a TV
    /// does, until it is served or the run's `duration` is over. Counts `served` (bytes identical to the file's),
    /// `wrong-bytes`, `turned-away`, `unserved` (gave up at the deadline) and `done`.
    static func players(_ settings: LoadSettings) throws {
        guard let path = settings.path, let file = settings.file else {
            throw LoadError(description: "players needs --path and --file")
        }
        let content = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        guard !content.isEmpty else { throw LoadError(description: "\(file) is empty") }
        raiseDescriptorLimit(to: settings.count + 256)
        let deadline = ContinuousClock.now + .seconds(settings.duration)
        let sources = try sourceAddresses(settings)
        let stats = settings.stats
        stats.set(["served": 0, "wrong-bytes": 0, "turned-away": 0, "unserved": 0])
        let group = DispatchGroup()
        for client in 0..<settings.count {
            var seed = UInt64(client) &* 0x9E37_79B9_7F4A_7C15 | 1
            seed ^= seed >> 29
            let length = min(content.count, 16 << 10 + Int(seed % UInt64(112 << 10)))
            let start = Int((seed >> 20) % UInt64(content.count - length + 1))
            let request = Array(
                ("GET \(path) HTTP/1.1\r\nHost: victim\r\nRange: bytes=\(start)-\(start + length - 1)\r\n"
                    + "Connection: close\r\n\r\n").utf8)
            let expected = Array(content[start..<(start + length)])
            var clientSettings = settings
            clientSettings.source = sources.isEmpty ? nil : sources[client % sources.count]
            let thread = Thread { [clientSettings] in
                defer { group.leave() }
                while ContinuousClock.now < deadline {
                    switch fetchOnce(clientSettings, request: request, expected: expected) {
                    case .served:
                        stats.add("served")
                        return
                    case .wrongBytes:
                        stats.add("wrong-bytes")
                        return
                    case .turnedAway:
                        stats.add("turned-away")
                        usleep(useconds_t(100_000 + client % 16 * 25_000))
                    }
                }
                stats.add("unserved")
            }
            thread.stackSize = 256 << 10
            group.enter()
            thread.start()
        }
        group.wait()
        stats.set(["done": 1])
    }

    private enum PlayerOutcome { case served, wrongBytes, turnedAway }

    /// One attempt: connect, ask, read the answer to its end (the request says `Connection: close`).
    private static func fetchOnce(_ settings: LoadSettings, request: [UInt8], expected: [UInt8]) -> PlayerOutcome {
        guard let fd = try? openSocket(settings, nonblocking: false) else { return .turnedAway }
        defer { _ = close(fd) }
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return .turnedAway }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while response.count <= expected.count + 64 << 10 {
            let got = recv(fd, &buffer, buffer.count, 0)
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { break }
            response += buffer[0..<got]
        }
        guard let headEnd = response.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound,
            let status = statusCode(ofHead: Array(response[..<headEnd]))
        else { return .turnedAway }
        guard status == 206 else { return status == 503 || status == 429 ? .turnedAway : .wrongBytes }
        return Array(response[headEnd...]) == expected ? .served : .wrongBytes
    }

    /// `count` slow-loris connections, spread over the source addresses like the players: each sends a request
    /// head one byte a second and, once the victim cuts it off, connects again, until `duration` is over.
    /// Counts `cut-off` (closed by the victim), `answered` (the victim answered a head that never ended),
    /// `longest-held-s` (the longest a connection lived), `open` and `done`.
    static func slowLoris(_ settings: LoadSettings) throws {
        raiseDescriptorLimit(to: settings.count + 256)
        let sources = try sourceAddresses(settings)
        let head = Array("GET /playlist.m3u HTTP/1.1\r\nHost: victim\r\nUser-Agent: loris\r\nX-Wait: ".utf8)
        struct Loris {
            var fd: Int32 = -1
            var sent = 0
            var since = ContinuousClock.now
        }
        var lorises = [Loris](repeating: Loris(), count: settings.count)
        var counters = ["cut-off": 0, "answered": 0, "longest-held-s": 0, "connect-failed": 0]
        func connect(_ index: Int) {
            var own = settings
            own.source = sources.isEmpty ? nil : sources[index % sources.count]
            guard let fd = try? openSocket(own, nonblocking: true) else {
                counters["connect-failed", default: 0] += 1
                lorises[index].fd = -1
                return
            }
            lorises[index] = Loris(fd: fd, sent: 0, since: .now)
        }
        for index in lorises.indices { connect(index) }
        let deadline = ContinuousClock.now + .seconds(settings.duration)
        var nextByte = ContinuousClock.now
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var polls = lorises.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            _ = poll(&polls, nfds_t(polls.count), 100)
            let sendNow = ContinuousClock.now >= nextByte
            if sendNow { nextByte = .now + .seconds(1) }
            for index in lorises.indices {
                let fd = lorises[index].fd
                guard fd >= 0 else {
                    if sendNow { connect(index) }
                    continue
                }
                var ended: String?
                if Int32(polls[index].revents) & Int32(POLLIN | POLLERR | POLLHUP) != 0 {
                    let got = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                    if got > 0 { ended = "answered" } else if got == 0 || errno != EAGAIN { ended = "cut-off" }
                } else if sendNow {
                    let byte = head[lorises[index].sent % head.count]
                    if send(fd, [byte], 1, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) == 1 {
                        lorises[index].sent += 1
                    } else if errno != EAGAIN && errno != EINPROGRESS && errno != ENOTCONN {
                        ended = "cut-off"
                    }
                }
                guard let ended else { continue }
                counters[ended, default: 0] += 1
                let held = Int((ContinuousClock.now - lorises[index].since).components.seconds)
                counters["longest-held-s"] = max(counters["longest-held-s"] ?? 0, held)
                _ = close(fd)
                lorises[index].fd = -1
            }
            counters["open"] = lorises.filter { $0.fd >= 0 }.count
            settings.stats.set(counters)
        }
        for loris in lorises where loris.fd >= 0 { _ = close(loris.fd) }
        counters["open"] = 0
        counters["done"] = 1
        settings.stats.set(counters)
    }

    /// `sources` consecutive IPv4 addresses from `source` (its last byte counting up); empty without `source`.
    private static func sourceAddresses(_ settings: LoadSettings) throws -> [String] {
        guard let source = settings.source else { return [] }
        let parts = source.split(separator: ".").compactMap { Int($0) }
        guard parts.count == 4, parts[3] + settings.sources <= 255 else {
            throw LoadError(description: "--source \(source) with --sources \(settings.sources) leaves its /24")
        }
        return (0..<settings.sources).map { "\(parts[0]).\(parts[1]).\(parts[2]).\(parts[3] + $0)" }
    }
}
