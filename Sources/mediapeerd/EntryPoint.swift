import MediapeerDaemon

@main
enum EntryPoint {
    // An async context, so ArgumentParser's async entry point is the one chosen.
    static func main() async { await Daemon.main(nil) }
}
