import MediapeerCLI

@main
enum EntryPoint {
    // An async context, so ArgumentParser's async entry point is the one chosen.
    static func main() async { await MediapeerCtl.main(nil) }
}
