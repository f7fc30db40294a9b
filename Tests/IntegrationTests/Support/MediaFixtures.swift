import Foundation

/// Real media files made by Debian's ffmpeg, once per test run, then copied into each test's media folder.
enum MediaFixtures {
    static let folder: String = {
        let folder = folderPath
        do {
            try make(in: folder)
        } catch {
            fatalError("cannot make media fixtures with ffmpeg (scripts/install-deps installs it): \(error)")
        }
        // They go with the process that made them, however it was started (each simulated-home suite runs in a
        // process of its own, the fault suite in another): otherwise every run left them in the temporary folder.
        atexit { try? FileManager.default.removeItem(atPath: MediaFixtures.folderPath) }
        return folder
    }()

    /// This process's fixture folder.
    private static var folderPath: String { NSTemporaryDirectory() + "mediapeer-fixtures-\(getpid())" }

    /// The fixtures and what a media browser should see in each.
    static let song = "Bohemian Sunrise.mp3"  // title "Bohemian Sunrise", artist "The Testers", album "Fixtures"
    static let photo = "beach.jpg"  // 320x240
    static let clip = "clip.mp4"  // 2 s, 320x240, h264 + aac
    static let film = "film.mkv"  // 2 s, 320x240, title "Fixture Film"
    static let drawing = "drawing.png"  // 64x48
    static let tone = "tone.wav"  // 1 s

    private static func make(in folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        guard let ffmpeg = Command.which("ffmpeg") else { throw TestFailure("ffmpeg is not installed") }
        let common = ["-hide_banner", "-loglevel", "error", "-y"]
        let video = [
            "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440", "-t", "2",
        ]
        let jobs: [[String]] = [
            [
                "-f", "lavfi", "-i", "sine=frequency=660", "-t", "3", "-c:a", "libmp3lame", "-b:a", "64k",
                "-metadata", "title=Bohemian Sunrise", "-metadata", "artist=The Testers", "-metadata", "album=Fixtures",
                "-metadata", "track=4", "-metadata", "genre=Rock", "-metadata", "date=2019", folder + "/" + song,
            ],
            ["-f", "lavfi", "-i", "testsrc=size=320x240", "-frames:v", "1", folder + "/" + photo],
            video + ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", folder + "/" + clip],
            video + [
                "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", "-metadata", "title=Fixture Film",
                folder + "/" + film,
            ],
            ["-f", "lavfi", "-i", "testsrc=size=64x48", "-frames:v", "1", folder + "/" + drawing],
            ["-f", "lavfi", "-i", "sine=frequency=220", "-t", "1", folder + "/" + tone],
        ]
        for job in jobs {
            let result = try Command.run(ffmpeg, common + job, timeout: .seconds(120))
            guard result.status == 0 else { throw TestFailure("ffmpeg \(job.last!) failed: \(result.stderr)") }
        }
    }

    /// Copies a fixture to `destination` (creating folders), as a user copying a file into the media folder would.
    static func copy(_ name: String, to destination: String) throws {
        let parent = (destination as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: destination) {
            try FileManager.default.removeItem(atPath: destination)
        }
        try FileManager.default.copyItem(atPath: folder + "/" + name, toPath: destination)
    }
}
