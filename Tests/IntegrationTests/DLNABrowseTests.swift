import Foundation
import Testing
import WireVocabulary

/// A real UPnP control point (async-upnp-client's `upnp-client`) finds a box over SSDP in a simulated home, browses
/// its MediaServer to a title another box holds, and downloads it through the `res` URL; hostile SOAP gets faults.
@Suite(.serialized) struct DLNABrowseTests {
    @Test func aControlPointFindsABoxBrowsesToATitleOfAnotherBoxAndDownloadsItThroughTheResURL() throws {
        let home = try SimulatedHome(boxes: 3, tag: "db")
        try MediaFixtures.copy(MediaFixtures.film, to: home.box(2) + "/media/Films/film.mkv")
        try MediaFixtures.copy(MediaFixtures.song, to: home.box(2) + "/media/Music/song.mp3")
        for index in 1...2 { try home.startDaemon(index) }
        let film = try home.contentID(of: "Films/film.mkv", in: 2)
        try home.waitUntilListed(film, in: 1, heldBy: ["Box 2"])

        let found = try ControlPoint.search(home, from: 3, target: "urn:schemas-upnp-org:device:MediaServer:1")
        let location = try #require(found.first { $0["_host"] == "10.77.0.1" }?["LOCATION"], "\(found)")
        #expect(location == "http://10.77.0.1:8738/upnp/device.xml")

        let root = try DIDL(try Self.browse(home, location, "0"))
        let titles = Set(root.containers.map(\.title))
        #expect(titles.isSuperset(of: ["Videos", "Music", "Photos"]), "\(root.containers)")
        // Kodi hides a container whose childCount is 0: the counts are real.
        let videos = try #require(root.containers.first { $0.title == "Videos" })
        #expect(videos.childCount == 1)

        let listing = try DIDL(try Self.browse(home, location, videos.id))
        let item = try #require(listing.items.first { $0.title == "Fixture Film" }, "\(listing.items)")
        #expect(item.resURLs.first == "http://10.77.0.1:8738/media/\(film.hex).mkv")

        let copy = home.folder + "/via-dlna.mkv"
        let download = try home.exec(3, ["curl", "-sf", "-o", copy, try #require(item.resURLs.first)])
        #expect(download.status == 0, "\(download.stderr)\n\(home.log(1).suffix(2000))")
        #expect(try sha256(copy) == (try sha256(home.box(2) + "/media/Films/film.mkv")))
    }

    @Test func malformedOversizedAndEntityTrickSOAPGetsFaultsAndTheBoxGoesOn() throws {
        let home = try SimulatedHome(boxes: 2, tag: "dx")
        try home.startDaemon(1)
        let control = "http://10.77.0.1:8738/upnp/ContentDirectory/control"
        let action = "\"urn:schemas-upnp-org:service:ContentDirectory:1#Browse\""
        func post(_ body: String) throws -> (status: String, body: String) {
            let path = home.folder + "/soap-body.xml"
            try body.write(toFile: path, atomically: true, encoding: .utf8)
            let result = try home.exec(
                2,
                [
                    "curl", "-s", "-w", "\n%{http_code}", "-H", "SOAPACTION: \(action)", "-H",
                    "Content-Type: text/xml; charset=\"utf-8\"", "--data-binary", "@" + path, control,
                ])
            let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            return (String(lines.last ?? ""), lines.dropLast().joined(separator: "\n"))
        }
        let laughs = """
            <?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
            <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
            <u:Browse xmlns:u="urn:schemas-upnp-org:service:ContentDirectory:1"><ObjectID>&lol2;</ObjectID>
            </u:Browse></s:Body></s:Envelope>
            """
        let external = """
            <?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
            <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
            <u:Browse xmlns:u="urn:schemas-upnp-org:service:ContentDirectory:1"><ObjectID>&xxe;</ObjectID>
            </u:Browse></s:Body></s:Envelope>
            """
        for body in [laughs, external, "<s:Envelope><s:Body><u:Browse>", "not xml at all \u{1}\u{2}", ""] {
            let answer = try post(body)
            #expect(answer.status == "500", "\(answer)")
            #expect(answer.body.contains("<s:Fault>") && answer.body.contains("UPnPError"), "\(answer)")
            #expect(!answer.body.contains("root:"), "an external entity was read: \(answer.body)")
        }
        // A body larger than the MediaServer accepts is refused before it is read, with a SOAP fault.
        let oversized = try post(String(repeating: "<a>", count: 100_000))
        #expect(oversized.status == "500", "\(oversized)")
        #expect(oversized.body.contains("<errorCode>402</errorCode>"), "\(oversized)")
        #expect(try home.status(1).pid > 0)
        let description = try home.exec(2, ["curl", "-sf", "http://10.77.0.1:8738/upnp/device.xml"])
        #expect(description.status == 0 && description.stdout.contains("MediaServer:1"))
    }

    /// `upnp-client call-action … ContentDirectory/Browse`: the DIDL-Lite of the direct children of `objectID`.
    static func browse(_ home: SimulatedHome, _ location: String, _ objectID: String) throws -> String {
        try ControlPoint.requireInstalled()
        let result = try home.exec(
            3,
            [
                ControlPoint.binary, "call-action", location, "ContentDirectory/Browse", "ObjectID=\(objectID)",
                "BrowseFlag=BrowseDirectChildren", "Filter=*", "StartingIndex=0", "RequestedCount=100", "SortCriteria=",
            ],
            timeout: .seconds(30))
        guard result.status == 0,
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
            let out = object["out_parameters"] as? [String: Any], let didl = out["Result"] as? String
        else {
            throw TestFailure("upnp-client Browse \(objectID) failed: \(result.stdout) \(result.stderr)")
        }
        return didl
    }
}

/// The containers and items of a DIDL-Lite document, as a control point reads them (by pattern: the test links no
/// XML library).
struct DIDL {
    struct Container: CustomStringConvertible {
        var id: String, title: String, childCount: Int
        var description: String { "\(id) \(title) (\(childCount))" }
    }
    struct Item: CustomStringConvertible {
        var id: String, title: String, resURLs: [String]
        var description: String { "\(id) \(title) \(resURLs)" }
    }
    var containers: [Container] = []
    var items: [Item] = []

    init(_ text: String) throws {
        guard text.contains("<DIDL-Lite") else { throw TestFailure("not DIDL-Lite: \(text)") }
        for match in text.matches(of: #/<container\b([^>]*)>(.*?)</container>/#.dotMatchesNewlines()) {
            let attributes = String(match.1)
            containers.append(
                Container(
                    id: Self.attribute("id", in: attributes), title: Self.element("dc:title", in: String(match.2)),
                    childCount: Int(Self.attribute("childCount", in: attributes)) ?? -1))
        }
        for match in text.matches(of: #/<item\b([^>]*)>(.*?)</item>/#.dotMatchesNewlines()) {
            let body = String(match.2)
            items.append(
                Item(
                    id: Self.attribute("id", in: String(match.1)), title: Self.element("dc:title", in: body),
                    resURLs: body.matches(of: #/<res\b[^>]*>([^<]*)</res>/#).map { Self.unescaped(String($0.1)) }))
        }
    }

    private static func attribute(_ name: String, in text: String) -> String {
        for match in text.matches(of: #/([A-Za-z:]+)="([^"]*)"/#) where match.1 == name {
            return unescaped(String(match.2))
        }
        return ""
    }

    private static func element(_ name: String, in text: String) -> String {
        guard let start = text.range(of: "<\(name)>"),
            let end = text.range(of: "</\(name)>", range: start.upperBound..<text.endIndex)
        else { return "" }
        return unescaped(String(text[start.upperBound..<end.lowerBound]))
    }

    private static func unescaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
