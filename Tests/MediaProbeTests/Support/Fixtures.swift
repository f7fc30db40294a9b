import Foundation
import TestChildProcess
import Testing

struct FixtureError: Error, CustomStringConvertible {
    let description: String
}

/// Runs `body` with a fresh temporary directory, removed afterwards.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = NSTemporaryDirectory() + "mediaprobe-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// Debian's ffmpeg, which makes the real media the tests read.
enum FFmpeg {
    static let path = "/usr/bin/ffmpeg"

    /// Runs ffmpeg quietly; throws with its error output if it fails, and
    /// with an explicit message if it is not installed (these tests must not pass vacuously).
    static func run(_ arguments: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw FixtureError(
                description:
                    "ffmpeg is not installed at \(path): the MediaProbe tests generate their media fixtures with it (apt-get install ffmpeg)"
            )
        }
        let log = NSTemporaryDirectory() + "mediaprobe-ffmpeg-" + UUID().uuidString + ".log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let process = try ChildProcess(
            path, ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"] + arguments, stderr: .file(log))
        guard process.waitUntilExit() == 0 else {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw FixtureError(description: "ffmpeg \(arguments.joined(separator: " ")) failed: \(output)")
        }
    }
}

/// The media fixtures, each made by one ffmpeg command from lavfi test sources.
enum Fixture: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case mp4, mp4FastStart, mov, mkv, webm, avi, wmv, mpegTS, mpegPS
    case mp3, flac, wav, m4a, ogg, opus
    case png, jpeg, gif, bmp, tiff, webp, webpLossless

    var fileName: String {
        switch self {
        case .mp4: "movie.mp4"
        case .mp4FastStart: "faststart.mp4"
        case .mov: "movie.mov"
        case .mkv: "movie.mkv"
        case .webm: "movie.webm"
        case .avi: "movie.avi"
        case .wmv: "movie.wmv"
        case .mpegTS: "movie.ts"
        case .mpegPS: "movie.mpg"
        case .mp3: "song.mp3"
        case .flac: "song.flac"
        case .wav: "song.wav"
        case .m4a: "song.m4a"
        case .ogg: "song.ogg"
        case .opus: "song.opus"
        case .png: "picture.png"
        case .jpeg: "picture.jpg"
        case .gif: "picture.gif"
        case .bmp: "picture.bmp"
        case .tiff: "picture.tiff"
        case .webp: "picture.webp"
        case .webpLossless: "lossless.webp"
        }
    }

    var testDescription: String { rawValue }

    /// Two seconds of a 320x240 test pattern and a sine tone.
    static let video = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine", "-t", "2"]
    private static let audio = ["-f", "lavfi", "-i", "sine", "-t", "2"]
    private static let image = ["-f", "lavfi", "-i", "testsrc=size=320x240", "-frames:v", "1"]

    var arguments: [String] {
        switch self {
        case .mp4: Self.video + ["-c:v", "libx264", "-c:a", "aac", "-metadata", "title=Test Movie"]
        case .mp4FastStart: Self.video + ["-c:v", "libx264", "-c:a", "aac", "-movflags", "+faststart"]
        case .mov: Self.video + ["-c:v", "libx264", "-c:a", "aac"]
        case .mkv: Self.video + ["-c:v", "libx264", "-c:a", "aac", "-metadata", "title=Matroska Movie"]
        case .webm: Self.video + ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-c:a", "libopus"]
        case .avi: Self.video + ["-c:v", "mpeg4", "-c:a", "libmp3lame"]
        case .wmv: Self.video + ["-c:v", "wmv2", "-c:a", "wmav2", "-metadata", "title=Windows Movie"]
        case .mpegTS: Self.video + ["-c:v", "libx264", "-c:a", "aac"]
        case .mpegPS: Self.video + ["-c:v", "mpeg2video", "-c:a", "mp2"]
        case .mp3:
            Self.audio + [
                "-metadata", "title=Sine Song", "-metadata", "artist=The Testers", "-metadata", "album=Fixtures",
                "-metadata", "track=3", "-metadata", "genre=Electronic", "-metadata", "date=2019",
            ]
        case .flac: Self.audio + ["-metadata", "title=Lossless Sine", "-metadata", "artist=The Testers"]
        case .wav: Self.audio
        case .m4a: Self.audio + ["-c:a", "aac", "-metadata", "title=AAC Sine"]
        case .ogg: Self.audio + ["-c:a", "libvorbis"]
        case .opus: Self.audio + ["-c:a", "libopus"]
        case .png, .jpeg, .gif, .bmp, .tiff: Self.image
        case .webp: Self.image + ["-c:v", "libwebp"]
        case .webpLossless: Self.image + ["-c:v", "libwebp", "-lossless", "1"]
        }
    }

    /// Makes the fixture in `directory` and returns its path.
    func make(in directory: String) throws -> String {
        let path = directory + "/" + fileName
        try FFmpeg.run(arguments + [path])
        return path
    }
}

func readBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

func writeBytes(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}
