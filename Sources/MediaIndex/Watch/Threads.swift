import CSystemShims

#if canImport(Glibc)
    import Glibc
#endif

/// Starts a detached OS thread. The index's long-lived loops (inotify, worker, hasher) block in the kernel, which
/// Swift concurrency's cooperative pool must never do.
func startThread(name: String, lowPriority: Bool = false, _ body: @escaping @Sendable () -> Void) {
    final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        let name: String
        let lowPriority: Bool
        init(_ body: @escaping @Sendable () -> Void, name: String, lowPriority: Bool) {
            self.body = body
            self.name = name
            self.lowPriority = lowPriority
        }
    }
    let box = Unmanaged.passRetained(Box(body, name: name, lowPriority: lowPriority)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(
        &thread, nil,
        { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            mediapeer_set_thread_name(String(box.name.prefix(15)))
            if box.lowPriority {
                // Linux applies nice per thread: only the hasher yields, the control API stays responsive.
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(mediapeer_gettid()), 19)
                _ = mediapeer_set_thread_io_idle()
            }
            box.body()
            return nil
        }, box)
    precondition(result == 0, "pthread_create failed: \(result)")
    pthread_detach(thread)
}
