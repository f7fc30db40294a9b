import Foundation
import Logging
import ServiceLifecycle

/// The sd_notify protocol: datagrams such as `READY=1` or `STATUS=…` to the socket systemd names in
/// `NOTIFY_SOCKET`. Without that variable (not started by systemd) every call does nothing.
struct SystemdNotifier: Sendable {
    private let socketPath: String?

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
    }

    var isActive: Bool { socketPath != nil }

    /// Sends one notification; failures are ignored, as sd_notify(3) callers do.
    func notify(_ message: String) {
        guard let socketPath else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        // An abstract socket is written with a leading "@" and addressed with a leading NUL byte.
        var path = Array(socketPath.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let bytes = Array(message.utf8)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bytes.withUnsafeBytes {
                    sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), socketAddress, length)
                }
            }
        }
    }

    /// Half of `WATCHDOG_USEC`, the interval at which systemd expects `WATCHDOG=1`, if the unit sets WatchdogSec.
    static func watchdogInterval(environment: [String: String] = ProcessInfo.processInfo.environment) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = Int64(text), microseconds > 0 else {
            return nil
        }
        if let pid = environment["WATCHDOG_PID"], Int32(pid) != getpid() { return nil }
        return .microseconds(microseconds / 2)
    }
}

/// Keeps systemd's watchdog fed while the index answers queries, and reports progress in `STATUS=`. It wakes only
/// at the watchdog interval the unit asked for (and never when not run under a watchdog).
struct SystemdWatchdogService: Service {
    let notifier: SystemdNotifier
    let interval: Duration
    let status: @Sendable () async -> String?

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { return }
            // A watchdog ping only when the daemon can still do real work: the status query reads the index.
            if let line = await status() {
                notifier.notify("WATCHDOG=1\nSTATUS=" + line)
            }
        }
    }
}
