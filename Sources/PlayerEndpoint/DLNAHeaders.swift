import HTTPTypes
import WireVocabulary

/// The DLNA response headers LG, Samsung and Sony TVs look for before they seek, as MiniDLNA sends them
/// (`upnphttp.c`, `SendResp_dlnafile`).
///
/// - `contentFeatures.dlna.org` (when asked with `getcontentFeatures.dlna.org: 1`): `DLNA.ORG_OP=01` (byte seeks,
///   no time seeks) for every kind, as MiniDLNA does, `DLNA.ORG_CI=0` (not transcoded), and the flags: DLNA 1.5,
///   connection stalling, background transfer, plus streaming transfer for audio and video (`01700000…`) or
///   interactive transfer for images (`00F00000…`). No `DLNA.ORG_PN`: the profile depends on codec levels the
///   index does not record, and a wrong profile makes TVs refuse a file they would play.
/// - `transferMode.dlna.org`: the mode the client asked for when it may use it (Streaming or Background for audio
///   and video, Interactive or Background for images; Samsung TVs also ask Interactive for video), else the kind's
///   own: Streaming for audio and video, Interactive for images.
/// - `CaptionInfo.sec` (Samsung, when asked with `getCaptionInfo.sec: 1`): the URL of the video's first subtitle.
enum DLNAHeaders {
    static let contentFeaturesRequest = HTTPField.Name("getcontentFeatures.dlna.org")!
    static let contentFeatures = HTTPField.Name("contentFeatures.dlna.org")!
    static let transferMode = HTTPField.Name("transferMode.dlna.org")!
    static let captionInfoRequest = HTTPField.Name("getCaptionInfo.sec")!
    static let captionInfo = HTTPField.Name("CaptionInfo.sec")!

    /// The `contentFeatures.dlna.org` value for a title of `kind`.
    static func contentFeatures(for kind: MediaKind) -> String {
        let flags = kind == .image ? "00F00000" : "01700000"
        return "DLNA.ORG_OP=01;DLNA.ORG_CI=0;DLNA.ORG_FLAGS=" + flags + String(repeating: "0", count: 24)
    }

    /// The transfer mode to answer for a title of `kind`, given the one the client asked for (if any).
    static func transferMode(for kind: MediaKind, requested: String?) -> String {
        let allowed = kind == .image ? ["Interactive", "Background"] : ["Streaming", "Background", "Interactive"]
        if let requested, let mode = allowed.first(where: { $0.lowercased() == requested.lowercased() }) {
            return mode
        }
        return kind == .image ? "Interactive" : "Streaming"
    }

    /// Adds the DLNA headers `request` asks for to `headers`; `baseURL` (`http://HOST:PORT`) is where subtitles are.
    static func add(
        to headers: inout HTTPFields, for title: PlayableTitle, request: HTTPFields, baseURL: String
    ) {
        headers[transferMode] = transferMode(for: title.kind, requested: request[transferMode])
        if request[contentFeaturesRequest] == "1" {
            headers[contentFeatures] = contentFeatures(for: title.kind)
        }
        if request[captionInfoRequest] == "1", title.kind == .video, let subtitle = title.subtitleIDs.first {
            headers[captionInfo] = "\(baseURL)/media/\(subtitle.hex).srt"
        }
    }
}
