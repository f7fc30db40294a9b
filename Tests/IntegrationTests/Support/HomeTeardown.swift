import Dispatch
import Foundation
import Synchronization

/// Tears the simulated homes of this test process down when it is told to stop (SIGTERM from `timeout` or a CI
/// runner, SIGINT from Ctrl-C, SIGHUP from a closed terminal): a `SimulatedHome`'s `deinit` never runs then, and its
/// namespaces, avahi-daemons and daemons would outlive the run.
enum HomeTeardown {
    private static let live = Mutex<[String: String]>([:])

    /// Installed once, by the first home: the signals' default actions are replaced by a handler on a queue of its
    /// own, which runs `home-sim down` for each live home, then exits with the signal's status. The sources live
    /// as long as the process (a released source is cancelled); the array is never changed once made.
    nonisolated(unsafe) private static let sources: [any DispatchSourceSignal] = [SIGTERM, SIGINT, SIGHUP].map {
        number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: DispatchQueue(label: "home-teardown"))
        source.setEventHandler { tearDownAndExit(number) }
        source.resume()
        return source
    }

    /// `prefix`'s home is up, with its files in `folder`.
    static func register(prefix: String, folder: String) {
        _ = sources
        live.withLock { $0[prefix] = folder }
    }

    /// `prefix`'s home was torn down.
    static func unregister(prefix: String) {
        _ = live.withLock { $0.removeValue(forKey: prefix) }
    }

    private static func tearDownAndExit(_ number: Int32) -> Never {
        let homes = live.withLock { homes in
            defer { homes = [:] }
            return homes
        }
        for (prefix, folder) in homes {
            _ = try? Command.run(SimulatedHome.script, ["down", "--prefix", prefix], timeout: .seconds(60))
            try? FileManager.default.removeItem(atPath: folder)
        }
        exit(128 + number)
    }
}
