import WireVocabulary

/// A container as Browse shows it.
struct DIDLContainer: Equatable {
    var id: String
    var parentID: String
    var title: String
    var upnpClass: String
    var childCount: Int
}

/// Writes DIDL-Lite documents: the `Result` of Browse and Search.
struct DIDLLite {
    /// `http://ADDRESS:PORT` of the request: every URL points at this box.
    var baseURL: String
    private var xml = """
        <DIDL-Lite xmlns="urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/" xmlns:dc="http://purl.org/dc/elements/1.1/" \
        xmlns:upnp="urn:schemas-upnp-org:metadata-1-0/upnp/" xmlns:dlna="urn:schemas-dlna-org:metadata-1-0/" \
        xmlns:sec="http://www.sec.co.kr/">
        """

    init(baseURL: String) {
        self.baseURL = baseURL
    }

    var document: String { xml + "</DIDL-Lite>" }

    mutating func add(_ container: DIDLContainer) {
        xml += """
            <container id="\(e(container.id))" parentID="\(e(container.parentID))" restricted="1" searchable="1" \
            childCount="\(container.childCount)"><dc:title>\(e(container.title))</dc:title>\
            <upnp:class>\(container.upnpClass)</upnp:class></container>
            """
    }

    mutating func add(_ item: MediaTreeItem, parentID: String) {
        xml += "<item id=\"i/\(item.id.hex)\" parentID=\"\(e(parentID))\" restricted=\"1\">"
        xml += "<dc:title>\(e(item.title))</dc:title><upnp:class>\(Self.upnpClass(of: item.kind))</upnp:class>"
        if let artist = item.artist, !artist.isEmpty {
            xml += "<upnp:artist>\(e(artist))</upnp:artist><dc:creator>\(e(artist))</dc:creator>"
        }
        if let album = item.album, !album.isEmpty { xml += "<upnp:album>\(e(album))</upnp:album>" }
        if let date = item.date, !date.isEmpty { xml += "<dc:date>\(e(date))</dc:date>" }
        let thumbnailURL = "\(baseURL)/thumbnails/\(item.id.hex).jpg"
        if item.hasThumbnail {
            xml += "<upnp:albumArtURI dlna:profileID=\"JPEG_TN\">\(e(thumbnailURL))</upnp:albumArtURI>"
        }
        var attributes = " size=\"\(max(0, item.size))\""
        if let milliseconds = item.durationMilliseconds, milliseconds >= 0 {
            attributes += " duration=\"\(Self.duration(milliseconds))\""
        }
        if let width = item.width, let height = item.height, width > 0, height > 0 {
            attributes += " resolution=\"\(width)x\(height)\""
        }
        let protocolInfo = DLNAProfile.protocolInfo(mimeType: item.mimeType)
        xml += "<res\(attributes) protocolInfo=\"\(e(protocolInfo))\">\(e(Self.mediaURL(baseURL, item)))</res>"
        for subtitle in item.subtitles {
            let url = "\(baseURL)/media/\(subtitle.id.hex).\(subtitle.fileExtension)"
            xml += "<res protocolInfo=\"http-get:*:\(e(subtitle.mimeType)):*\">\(e(url))</res>"
            xml += "<sec:CaptionInfoEx sec:type=\"\(e(subtitle.fileExtension))\">\(e(url))</sec:CaptionInfoEx>"
        }
        if item.hasThumbnail {
            xml += "<res protocolInfo=\"http-get:*:image/jpeg:\(DLNAProfile.thumbnailFlags)\">\(e(thumbnailURL))</res>"
        }
        xml += "</item>"
    }

    /// `BASEURL/media/ID.ext`, the player endpoint's URL of a title.
    static func mediaURL(_ baseURL: String, _ item: MediaTreeItem) -> String {
        let suffix = item.fileExtension.map { "." + $0 } ?? ""
        return "\(baseURL)/media/\(item.id.hex)\(suffix)"
    }

    static func upnpClass(of kind: MediaKind) -> String {
        switch kind {
        case .audio: "object.item.audioItem.musicTrack"
        case .image: "object.item.imageItem.photo"
        default: "object.item.videoItem"
        }
    }

    /// `H:MM:SS.mmm`, as DLNA wants it.
    static func duration(_ milliseconds: Int64) -> String {
        let hours = milliseconds / 3_600_000
        let minutes = milliseconds / 60_000 % 60
        let seconds = milliseconds / 1000 % 60
        let fraction = milliseconds % 1000
        return "\(hours):\(pad(minutes, 2)):\(pad(seconds, 2)).\(pad(fraction, 3))"
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    private func e(_ text: String) -> String { XMLText.escape(text) }
}

/// The DLNA part of `protocolInfo`: profile names where they are certain, operations and flags.
enum DLNAProfile {
    /// Byte seek (`OP=01`: the player endpoint serves ranges), not converted; streaming, background and
    /// connection-stall transfer modes, DLNA 1.5.
    static let streamingFlags = "DLNA.ORG_OP=01;DLNA.ORG_CI=0;DLNA.ORG_FLAGS=01700000000000000000000000000000"
    /// Photos: interactive and background transfer modes.
    static let imageFlags = "DLNA.ORG_OP=01;DLNA.ORG_CI=0;DLNA.ORG_FLAGS=00f00000000000000000000000000000"
    static let thumbnailFlags =
        "DLNA.ORG_PN=JPEG_TN;DLNA.ORG_OP=01;DLNA.ORG_CI=0;DLNA.ORG_FLAGS=00f00000000000000000000000000000"

    /// The MIME types the index gives titles (MediaProbe's sniffers), for GetProtocolInfo.
    static let servedMimeTypes = [
        "video/mp4", "video/x-matroska", "video/webm", "video/quicktime", "video/x-msvideo", "video/mpeg",
        "video/mp2t", "video/x-ms-wmv", "video/3gpp", "video/x-m4v", "audio/mpeg", "audio/mp4", "audio/aac",
        "audio/flac", "audio/ogg", "audio/wav", "audio/x-ms-wma", "image/jpeg", "image/png", "image/gif",
        "image/webp", "image/bmp", "image/tiff", "image/heic",
    ]

    static func protocolInfo(mimeType: String) -> String {
        let flags = mimeType.hasPrefix("image/") ? imageFlags : streamingFlags
        let profile = mimeType == "audio/mpeg" ? "DLNA.ORG_PN=MP3;" : ""
        return "http-get:*:\(mimeType):\(profile)\(flags)"
    }

    /// ConnectionManager's `SourceProtocolInfo`: what this box serves, subtitles and thumbnails included.
    static var sourceProtocolInfo: String {
        (servedMimeTypes.map(protocolInfo(mimeType:)) + [
            "http-get:*:image/jpeg:\(thumbnailFlags)", "http-get:*:text/srt:*", "http-get:*:text/vtt:*",
        ]).joined(separator: ",")
    }
}
