import Foundation
import WireVocabulary

/// What the playback tests need of a simulated home: real multi-chunk media made by ffmpeg, the player URLs of
/// the boxes, and players (curl, ffprobe, ffmpeg) run inside a box.
extension SimulatedHome {
    /// Box `index`'s address in the simulated home (`scripts/home-sim`: 10.77.0.i).
    func address(_ index: Int) -> String { "10.77.0.\(index)" }

    /// The URL a player on the LAN uses to play `id` through box `index`.
    func mediaURL(_ id: ContentID, through index: Int, fileExtension: String? = nil) -> String {
        "http://\(address(index)):8738/media/\(id.hex)" + (fileExtension.map { "." + $0 } ?? "")
    }

    /// A real video of `seconds` seconds made by ffmpeg, written into the media folders of `boxes` (moved in whole).
    /// `arguments` choose the codec and container options; the file name's extension chooses the container.
    @discardableResult
    func addRealVideo(_ name: String, seconds: Int, arguments: [String], to boxes: [Int]) throws -> String {
        let staging = folder + "/staging-" + name
        if !FileManager.default.fileExists(atPath: staging) {
            guard let ffmpeg = Command.which("ffmpeg") else { throw TestFailure("ffmpeg is not installed") }
            let result = try Command.run(
                ffmpeg,
                [
                    "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
                    "-f", "lavfi", "-i", "sine=frequency=440", "-t", String(seconds),
                ] + arguments
                    + ["-metadata", "title=\(name)", staging],
                timeout: .seconds(300))
            guard result.status == 0 else { throw TestFailure("ffmpeg \(name) failed: \(result.stderr)") }
        }
        for index in boxes {
            try FileManager.default.createDirectory(atPath: box(index) + "/media", withIntermediateDirectories: true)
            let hidden = box(index) + "/media/." + name
            try? FileManager.default.removeItem(atPath: hidden)
            try FileManager.default.copyItem(atPath: staging, toPath: hidden)
            try FileManager.default.moveItem(atPath: hidden, toPath: box(index) + "/media/" + name)
        }
        return staging
    }

    /// ffprobe's duration of a URL or file, in seconds, run inside box `index`.
    func probedDuration(_ url: String, in index: Int) throws -> Double {
        let result = try exec(
            index, ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", url],
            timeout: .seconds(120))
        guard result.status == 0, let seconds = Double(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            throw TestFailure("ffprobe \(url) failed (\(result.status)): \(result.stderr)")
        }
        return seconds
    }
}
