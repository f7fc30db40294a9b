import MediapeerCLI
import MediapeerDaemon

#if canImport(Glibc)
    import Glibc
#endif

/// The packaged binary: one executable for both commands, so the Swift runtime, Foundation, SwiftNIO and the
/// rest are on the box once (two static binaries would carry them twice). `/usr/bin/mediapeerd` and
/// `/usr/bin/mediapeerctl` are symlinks to it; it runs the command it was started as, or the one named by its
/// first argument (`mediapeer mediapeerctl status`), as busybox does.
@main
enum EntryPoint {
    static let commands = ["mediapeerd", "mediapeerctl"]

    // An async context, so ArgumentParser's async entry points are the ones chosen.
    static func main() async {
        let arguments = CommandLine.arguments
        let invokedAs = arguments.first.map { String($0.split(separator: "/").last ?? "") } ?? ""
        if commands.contains(invokedAs) {
            await run(invokedAs, arguments: Array(arguments.dropFirst()))
        } else if arguments.count > 1, commands.contains(arguments[1]) {
            await run(arguments[1], arguments: Array(arguments.dropFirst(2)))
        } else {
            let message =
                "mediapeer: run as mediapeerd or mediapeerctl (symlinks to this binary), or as "
                + "`mediapeer mediapeerd ARGS` / `mediapeer mediapeerctl ARGS`\n"
            _ = Array(message.utf8).withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            exit(64)  // EX_USAGE
        }
    }

    private static func run(_ command: String, arguments: [String]) async {
        if command == "mediapeerd" {
            await Daemon.main(arguments)
        } else {
            await MediapeerCtl.main(arguments)
        }
    }
}
