import CSystemShims
import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Tells when a file system is mounted or unmounted (a USB drive plugged in after the daemon started): the kernel
/// marks `/proc/self/mountinfo` with POLLPRI at each change of the mount table, so a thread sleeps in poll(2) and
/// wakes only then (no timer). inotify says nothing when a drive is mounted over a watched folder.
final class MountWatcher: Sendable {
    private let onChange: @Sendable () -> Void
    /// Written to stop the thread.
    private let wakeFD: Int32
    private let done = Atomic<Bool>(false)
    private let running = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    init(onChange: @escaping @Sendable () -> Void) {
        self.onChange = onChange
        wakeFD = mediapeer_eventfd()
    }

    deinit {
        if wakeFD >= 0 { close(wakeFD) }
    }

    /// Starts watching; without /proc (or an eventfd) it does nothing: a rescan still finds a drive mounted late.
    func start() {
        let mounts = mediapeer_open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC, 0)
        guard mounts >= 0, wakeFD >= 0 else {
            if mounts >= 0 { close(mounts) }
            return
        }
        running.store(true, ordering: .releasing)
        startThread(name: "mounts") { [self] in
            run(mounts)
            close(mounts)
            finished.signal()
        }
    }

    private func run(_ mounts: Int32) {
        var descriptors = [
            pollfd(fd: mounts, events: Int16(POLLPRI), revents: 0),
            pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0),
        ]
        while !done.load(ordering: .acquiring) {
            descriptors[0].revents = 0
            descriptors[1].revents = 0
            let ready = poll(&descriptors, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            if descriptors[1].revents != 0 { return }
            // The poll itself acknowledges the change; nothing needs reading.
            if descriptors[0].revents & Int16(POLLPRI | POLLERR) != 0 { onChange() }
        }
    }

    /// Stops the thread and waits for it, so `onChange` is never called afterwards.
    func stop() {
        done.store(true, ordering: .releasing)
        guard running.load(ordering: .acquiring) else { return }
        var one: UInt64 = 1
        _ = write(wakeFD, &one, MemoryLayout<UInt64>.size)
        finished.wait()
    }
}
