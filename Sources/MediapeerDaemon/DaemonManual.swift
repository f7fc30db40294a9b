extension Daemon {
    /// The help text's discussion, which is also the DESCRIPTION of mediapeerd(8) (packaging/make-manpages).
    static let discussion = """
        Without --config, mediapeerd reads /etc/mediapeer/mediapeer.toml, and runs on the defaults when that file \
        is missing. It runs in the foreground, logs to standard error (the journal under systemd), and tells \
        systemd when it is ready (Type=notify).

        SIGHUP (systemctl reload mediapeerd) reads the configuration again: media folders added to media_dirs \
        are scanned, removed ones are dropped from the index (their files are never touched). Other settings take \
        effect at the next restart. SIGTERM or SIGINT stop the daemon cleanly.

        Exit status: 0 after SIGTERM or SIGINT; 78 (EX_CONFIG) when the configuration is invalid, after printing \
        every problem; 73 (EX_CANTCREAT) when the state folder is not writable; 1 on any other error at startup.
        """
}
