import Testing
import WireVocabulary

@testable import MediaServer

/// A small home: two films (one with a subtitle), three tracks by two artists, two photos.
private let film = MediaTreeItem(
    id: contentID(1), kind: .video, title: "Big Buck <Bunny> & Co", mimeType: "video/mp4", size: 1000,
    fileExtension: "mp4", durationMilliseconds: 3_723_004, width: 1920, height: 1080,
    subtitles: [MediaSubtitle(id: contentID(9), mimeType: "text/srt", fileExtension: "srt")])
private let otherFilm = MediaTreeItem(
    id: contentID(2), kind: .video, title: "Sintel", mimeType: "video/x-matroska", size: 2000, fileExtension: "mkv")
private let tracks = [
    MediaTreeItem(
        id: contentID(3), kind: .audio, title: "One", mimeType: "audio/mpeg", size: 10, fileExtension: "mp3",
        artist: "Ann", album: "First", durationMilliseconds: 61_500),
    MediaTreeItem(
        id: contentID(4), kind: .audio, title: "Two", mimeType: "audio/mpeg", size: 10, artist: "Ann", album: "First"),
    MediaTreeItem(id: contentID(5), kind: .audio, title: "Three", mimeType: "audio/flac", size: 10, artist: "Bob"),
]
private let photos = [
    MediaTreeItem(
        id: contentID(6), kind: .image, title: "Beach", mimeType: "image/jpeg", size: 5, date: "2024-06-01T10:00:00",
        hasThumbnail: true),
    MediaTreeItem(id: contentID(7), kind: .image, title: "Snow", mimeType: "image/jpeg", size: 5, date: nil),
]

private let contentDirectory = "urn:schemas-upnp-org:service:ContentDirectory:1"
private let connectionManager = "urn:schemas-upnp-org:service:ConnectionManager:1"

@Suite struct MediaServerDeviceTests {
    let device = MediaServerDevice(
        uuid: "4d696e69-444c-164e-9d41-001122334455", friendlyName: "Living <Room>", modelName: "mediapeer",
        modelNumber: "1.0",
        tree: FakeTree(
            items: [film, otherFilm] + tracks + photos,
            boxes: [
                (id: "self", name: "Living Room", holds: [contentID(1), contentID(3)]),
                (id: "peer2", name: "Attic", holds: [contentID(2)]),
            ]),
        systemUpdateID: { 42 })

    // MARK: Helpers

    private func request(
        _ method: String, _ path: String, soapAction: String? = nil, headers: [String: String] = [:], body: String = ""
    ) -> UPnPRequest {
        UPnPRequest(
            method: method, path: path, soapAction: soapAction, headers: headers, body: Array(body.utf8),
            serverAddress: "192.168.1.5", serverPort: 8738)
    }

    private func envelope(_ action: String, _ service: String, _ arguments: [(String, String)]) -> String {
        let inner = arguments.map { "<\($0.0)>\($0.1)</\($0.0)>" }.joined()
        return """
            <?xml version="1.0" encoding="utf-8"?>
            <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" \
            s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>\
            <u:\(action) xmlns:u="\(service)">\(inner)</u:\(action)></s:Body></s:Envelope>
            """
    }

    /// Calls an action; returns the answer's status and its response (or fault) element.
    private func call(
        _ action: String, _ arguments: [(String, String)] = [], service: String = contentDirectory
    ) async throws -> (status: Int, element: XMLElement) {
        let path = service == contentDirectory ? "ContentDirectory/control" : "ConnectionManager/control"
        let answer = await device.respond(
            to: request(
                "POST", path, soapAction: "\"\(service)#\(action)\"", body: envelope(action, service, arguments)))
        let root = try XMLReader.read(answer.body)
        return (answer.status, try #require(root.child("Body")?.children.first))
    }

    private func browse(_ id: String, _ flag: String = "BrowseDirectChildren", start: Int = 0, count: Int = 0)
        async throws -> (didl: XMLElement, returned: Int, total: Int)
    {
        let (status, response) = try await call(
            "Browse",
            [
                ("ObjectID", id), ("BrowseFlag", flag), ("Filter", "*"), ("StartingIndex", String(start)),
                ("RequestedCount", String(count)), ("SortCriteria", ""),
            ])
        #expect(status == 200)
        #expect(response.child("UpdateID")?.text == "42")
        return try (
            didl(response), Int(try #require(response.child("NumberReturned")?.text)) ?? -1,
            Int(try #require(response.child("TotalMatches")?.text)) ?? -1
        )
    }

    private func didl(_ response: XMLElement) throws -> XMLElement {
        var limits = XMLReader.Limits()
        limits.maxBytes = 1 << 20
        limits.maxElements = 100_000
        return try XMLReader.read(Array(try #require(response.child("Result")?.text).utf8), limits: limits)
    }

    private func faultCode(_ element: XMLElement) -> String? {
        element.child("detail")?.child("UPnPError")?.child("errorCode")?.text
    }

    // MARK: Descriptions

    @Test func theDeviceDescriptionNamesTheMediaServerAndItsServices() async throws {
        let answer = await device.respond(to: request("GET", "device.xml"))
        #expect(answer.status == 200)
        let device = try #require(try XMLReader.read(answer.body).child("device"))
        #expect(device.child("deviceType")?.text == "urn:schemas-upnp-org:device:MediaServer:1")
        #expect(device.child("X_DLNADOC")?.text == "DMS-1.50")
        #expect(device.child("friendlyName")?.text == "Living <Room>")
        #expect(device.child("manufacturer")?.text == "mediapeer")
        #expect(device.child("UDN")?.text == "uuid:4d696e69-444c-164e-9d41-001122334455")
        let services = try #require(device.child("serviceList")).children
        #expect(services.map { $0.child("serviceType")?.text } == [contentDirectory, connectionManager])
        #expect(
            services.map { $0.child("controlURL")?.text } == [
                "/upnp/ContentDirectory/control", "/upnp/ConnectionManager/control",
            ])
        #expect(
            services.map { $0.child("SCPDURL")?.text } == [
                "/upnp/ContentDirectory.xml", "/upnp/ConnectionManager.xml",
            ])
    }

    @Test func theServiceDescriptionsListTheirActions() async throws {
        for (path, actions) in [
            (
                "ContentDirectory.xml",
                [
                    "GetSearchCapabilities", "GetSortCapabilities", "GetSystemUpdateID", "Browse", "Search",
                    "X_GetFeatureList", "X_SetBookmark",
                ]
            ),
            ("ConnectionManager.xml", ["GetProtocolInfo", "GetCurrentConnectionIDs", "GetCurrentConnectionInfo"]),
        ] {
            let answer = await device.respond(to: request("GET", path))
            let scpd = try XMLReader.read(answer.body)
            #expect(scpd.child("actionList")?.children.map { $0.child("name")?.text } == actions)
            // Every argument names a state variable the table declares.
            let variables = Set(scpd.child("serviceStateTable")?.children.compactMap { $0.child("name")?.text } ?? [])
            for action in scpd.child("actionList")?.children ?? [] {
                for argument in action.child("argumentList")?.children ?? [] {
                    #expect(variables.contains(argument.child("relatedStateVariable")?.text ?? ""))
                }
            }
        }
    }

    @Test func unknownPathsAre404AndWrongMethods405() async {
        #expect(await device.respond(to: request("GET", "nothing.xml")).status == 404)
        #expect(await device.respond(to: request("POST", "device.xml")).status == 405)
        #expect(await device.respond(to: request("GET", "ContentDirectory/control")).status == 405)
    }

    // MARK: Browse

    @Test func theRootListsVideosMusicPhotosAndBoxesWithTheirChildCounts() async throws {
        let (didl, returned, total) = try await browse("0")
        #expect(returned == 4)
        #expect(total == 4)
        let containers = didl.children
        #expect(containers.map { $0.attributes["id"] } == ["v", "m", "p", "b"])
        #expect(containers.map { $0.child("title")?.text } == ["Videos", "Music", "Photos", "By box"])
        #expect(containers.map { $0.attributes["childCount"] } == ["2", "3", "2", "2"])
        #expect(containers.allSatisfy { $0.attributes["parentID"] == "0" })
    }

    @Test func theRootsMetadataIsOneContainer() async throws {
        let (didl, returned, total) = try await browse("0", "BrowseMetadata")
        #expect((returned, total) == (1, 1))
        #expect(didl.children.first?.attributes["parentID"] == "-1")
        #expect(didl.children.first?.attributes["childCount"] == "4")
    }

    @Test func artistsAreContainersCountingTheirTracks() async throws {
        let (didl, _, total) = try await browse("m/artist")
        #expect(total == 2)
        #expect(didl.children.map { $0.attributes["id"] } == ["m/artist/Ann", "m/artist/Bob"])
        #expect(didl.children.map { $0.attributes["childCount"] } == ["2", "1"])
        #expect(didl.children.first?.child("class")?.text == "object.container.person.musicArtist")
        let (tracks, _, trackTotal) = try await browse("m/artist/Ann")
        #expect(trackTotal == 2)
        #expect(tracks.children.map { $0.child("title")?.text } == ["One", "Two"])
        #expect(tracks.children.allSatisfy { $0.attributes["parentID"] == "m/artist/Ann" })
    }

    @Test func photosAreGroupedByMonthWithTheUndatedApart() async throws {
        let (didl, _, _) = try await browse("p/date")
        #expect(Set(didl.children.map { $0.attributes["id"] }) == ["p/2024-06", "p/undated"])
        let (june, _, total) = try await browse("p/2024-06")
        #expect(total == 1)
        #expect(june.children.first?.child("date")?.text == "2024-06-01T10:00:00")
    }

    @Test func boxesAreNamedAndListTheirTitles() async throws {
        let (didl, _, _) = try await browse("b")
        #expect(didl.children.map { $0.child("title")?.text } == ["Living Room", "Attic"])
        let (attic, _, total) = try await browse("b/peer2")
        #expect(total == 1)
        #expect(attic.children.first?.child("title")?.text == "Sintel")
    }

    @Test func aVideoItemCarriesItsResourceSubtitleAndEscapedTitle() async throws {
        let (didl, _, _) = try await browse("v")
        let item = try #require(didl.children.first)
        #expect(item.localName == "item")
        #expect(item.attributes["id"] == "i/" + film.id.hex)
        #expect(item.child("title")?.text == "Big Buck <Bunny> & Co")
        #expect(item.child("class")?.text == "object.item.videoItem")
        let resources = item.children.filter { $0.localName == "res" }
        #expect(resources.count == 2)
        #expect(resources[0].text == "http://192.168.1.5:8738/media/\(film.id.hex).mp4")
        #expect(resources[0].attributes["duration"] == "1:02:03.004")
        #expect(resources[0].attributes["resolution"] == "1920x1080")
        #expect(resources[0].attributes["size"] == "1000")
        #expect(resources[0].attributes["protocolInfo"]?.hasPrefix("http-get:*:video/mp4:DLNA.ORG_OP=01") == true)
        #expect(resources[1].attributes["protocolInfo"] == "http-get:*:text/srt:*")
        #expect(resources[1].text == "http://192.168.1.5:8738/media/\(contentID(9).hex).srt")
        #expect(item.child("CaptionInfoEx")?.text == resources[1].text)
    }

    @Test func aPhotoWithAThumbnailHasAThumbnailResource() async throws {
        let (didl, _, _) = try await browse("p/all")
        let beach = try #require(didl.children.first { $0.child("title")?.text == "Beach" })
        let thumbnail = try #require(beach.children.last { $0.localName == "res" })
        #expect(thumbnail.text == "http://192.168.1.5:8738/thumbnails/\(contentID(6).hex).jpg")
        #expect(thumbnail.attributes["protocolInfo"]?.contains("DLNA.ORG_PN=JPEG_TN") == true)
        let snow = try #require(didl.children.first { $0.child("title")?.text == "Snow" })
        #expect(snow.children.filter { $0.localName == "res" }.count == 1)
    }

    @Test func pagingReturnsTheRequestedSliceAndTheTotal() async throws {
        let (first, returned, total) = try await browse("m/all", start: 0, count: 2)
        #expect((returned, total) == (2, 3))
        let (rest, restReturned, _) = try await browse("m/all", start: 2, count: 2)
        #expect(restReturned == 1)
        #expect(Set((first.children + rest.children).map { $0.attributes["id"] }).count == 3)
        let (_, pastEnd, pastTotal) = try await browse("m/all", start: 10, count: 2)
        #expect((pastEnd, pastTotal) == (0, 3))
    }

    @Test func anItemsMetadataNamesItsKindsContainerAsParent() async throws {
        let (didl, returned, _) = try await browse("i/" + tracks[0].id.hex, "BrowseMetadata")
        #expect(returned == 1)
        #expect(didl.children.first?.attributes["parentID"] == "m/all")
        #expect(didl.children.first?.child("artist")?.text == "Ann")
        #expect(didl.children.first?.child("album")?.text == "First")
    }

    @Test(arguments: ["i/zz", "x", "m/artist/Nobody", "b/gone", "i/" + String(repeating: "ab", count: 32), "p/2024-6"])
    func anUnknownOrMalformedObjectIsFault701(_ id: String) async throws {
        let (status, fault) = try await call(
            "Browse",
            [("ObjectID", id), ("BrowseFlag", "BrowseMetadata"), ("StartingIndex", "0"), ("RequestedCount", "0")]
        )
        #expect(status == 500)
        #expect(fault.localName == "Fault")
        #expect(fault.child("faultcode")?.text == "s:Client")
        #expect(faultCode(fault) == "701")
    }

    @Test(arguments: ["m/artist/Nobody", "b/gone", "m/album/None"])
    func browsingTheChildrenOfAGroupThatDoesNotExistIsFault701(_ id: String) async throws {
        let (status, fault) = try await call("Browse", [("ObjectID", id), ("BrowseFlag", "BrowseDirectChildren")])
        #expect(status == 500)
        #expect(faultCode(fault) == "701")
    }

    @Test func aPrettyPrintedSamsungStyleEnvelopeIsUnderstood() async throws {
        let body = """
            <?xml version="1.0" encoding="utf-8"?>
            <s:Envelope s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"
                xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
              <s:Body>
                <u:Browse xmlns:u="urn:schemas-upnp-org:service:ContentDirectory:1">
                  <ObjectID> m/artist </ObjectID>
                  <BrowseFlag>BrowseDirectChildren</BrowseFlag>
                  <Filter>dc:title,upnp:class</Filter>
                  <StartingIndex>0</StartingIndex>
                  <RequestedCount>1</RequestedCount>
                  <SortCriteria>+dc:title</SortCriteria>
                </u:Browse>
              </s:Body>
            </s:Envelope>
            """
        let answer = await device.respond(
            to: request(
                "POST", "ContentDirectory/control", soapAction: "\"\(contentDirectory)#Browse\"",
                headers: ["user-agent": "SEC_HHP_[TV] Samsung/1.0 DLNADOC/1.50"], body: body))
        #expect(answer.status == 200)
        let response = try #require(try XMLReader.read(answer.body).child("Body")?.children.first)
        #expect(response.child("NumberReturned")?.text == "1")
        #expect(response.child("TotalMatches")?.text == "2")
    }

    @Test func browsingTheChildrenOfAnItemIsFault710() async throws {
        let (status, fault) = try await call(
            "Browse", [("ObjectID", "i/" + film.id.hex), ("BrowseFlag", "BrowseDirectChildren")])
        #expect(status == 500)
        #expect(faultCode(fault) == "710")
    }

    @Test(arguments: [
        [("BrowseFlag", "BrowseMetadata")], [("ObjectID", "0")], [("ObjectID", "0"), ("BrowseFlag", "Everything")],
        [("ObjectID", "0"), ("BrowseFlag", "BrowseMetadata"), ("StartingIndex", "-1")],
        [("ObjectID", "0"), ("BrowseFlag", "BrowseMetadata"), ("RequestedCount", "many")],
    ])
    func missingOrInvalidArgumentsAreFault402(_ arguments: [(String, String)]) async throws {
        let (status, fault) = try await call("Browse", arguments)
        #expect(status == 500)
        #expect(faultCode(fault) == "402")
    }

    // MARK: Search and the other actions

    @Test func searchFindsTitleWordsAmongAKind() async throws {
        let (status, response) = try await call(
            "Search",
            [
                ("ContainerID", "0"),
                (
                    "SearchCriteria",
                    "upnp:class derivedfrom &quot;object.item.videoItem&quot; and dc:title contains &quot;buck&quot;"
                ),
                ("Filter", "*"), ("StartingIndex", "0"), ("RequestedCount", "10"), ("SortCriteria", ""),
            ])
        #expect(status == 200)
        #expect(response.child("TotalMatches")?.text == "1")
        #expect(try didl(response).children.first?.attributes["id"] == "i/" + film.id.hex)
    }

    @Test func searchUnderMusicFindsOnlyTracks() async throws {
        let (_, response) = try await call(
            "Search", [("ContainerID", "m"), ("SearchCriteria", "*"), ("StartingIndex", "0"), ("RequestedCount", "0")])
        #expect(response.child("TotalMatches")?.text == "3")
    }

    @Test func anUnsupportedSearchIsFault708() async throws {
        let (status, fault) = try await call(
            "Search", [("ContainerID", "0"), ("SearchCriteria", "dc:date &gt; &quot;2020&quot;")])
        #expect(status == 500)
        #expect(faultCode(fault) == "708")
    }

    @Test func theCapabilitiesAndUpdateIDAreAnswered() async throws {
        #expect(try await call("GetSearchCapabilities").element.child("SearchCaps")?.text.contains("dc:title") == true)
        #expect(try await call("GetSortCapabilities").element.child("SortCaps")?.text == "dc:title")
        #expect(try await call("GetSystemUpdateID").element.child("Id")?.text == "42")
    }

    @Test func samsungsFeatureListNamesTheContainerOfEachKind() async throws {
        let (status, response) = try await call("X_GetFeatureList")
        #expect(status == 200)
        let features = try XMLReader.read(Array(try #require(response.child("FeatureList")?.text).utf8))
        let containers = try #require(features.child("Feature")).children
        #expect(containers.map { $0.attributes["id"] } == ["m/all", "v", "p/all"])
    }

    @Test func samsungsBookmarkIsAccepted() async throws {
        let (status, response) = try await call(
            "X_SetBookmark",
            [("CategoryType", "0"), ("RID", "0"), ("ObjectID", "i/" + film.id.hex), ("PosSecond", "12")])
        #expect(status == 200)
        #expect(response.localName == "X_SetBookmarkResponse")
    }

    @Test func theProtocolInfoListsWhatTheBoxServes() async throws {
        let (status, response) = try await call("GetProtocolInfo", service: connectionManager)
        #expect(status == 200)
        let source = try #require(response.child("Source")?.text).split(separator: ",")
        #expect(source.contains { $0.hasPrefix("http-get:*:video/x-matroska:DLNA.ORG_OP=01") })
        #expect(source.contains { $0.hasPrefix("http-get:*:audio/mpeg:DLNA.ORG_PN=MP3") })
        #expect(source.contains("http-get:*:text/srt:*"))
        #expect(response.child("Sink")?.text == "")
    }

    @Test func connectionZeroIsTheOnlyConnection() async throws {
        #expect(
            try await call("GetCurrentConnectionIDs", service: connectionManager).element.child("ConnectionIDs")?.text
                == "0")
        let info = try await call("GetCurrentConnectionInfo", [("ConnectionID", "0")], service: connectionManager)
        #expect(info.element.child("Direction")?.text == "Output")
        let other = try await call("GetCurrentConnectionInfo", [("ConnectionID", "7")], service: connectionManager)
        #expect(faultCode(other.element) == "706")
    }

    // MARK: Faults and events

    @Test func anUnknownActionIsFault401() async throws {
        let (status, fault) = try await call("NoSuchAction", [("ObjectID", "v")])
        #expect(status == 500)
        #expect(faultCode(fault) == "401")
    }

    /// Players cannot authenticate, so the MediaServer is read-only: every action of ContentDirectory and
    /// ConnectionManager that would change something is an invalid action, and the tree stays as it was.
    @Test(arguments: [
        ("CreateObject", contentDirectory, [("ContainerID", "v"), ("Elements", "<DIDL-Lite/>")]),
        ("DestroyObject", contentDirectory, [("ObjectID", "v")]),
        ("UpdateObject", contentDirectory, [("ObjectID", "v"), ("CurrentTagValue", ""), ("NewTagValue", "")]),
        ("MoveObject", contentDirectory, [("ObjectID", "v"), ("NewParentID", "0")]),
        ("ImportResource", contentDirectory, [("SourceURI", "http://x/"), ("DestinationURI", "http://y/")]),
        ("ExportResource", contentDirectory, [("SourceURI", "http://x/"), ("DestinationURI", "http://y/")]),
        ("DeleteResource", contentDirectory, [("ResourceURI", "http://x/")]),
        ("StopTransferResource", contentDirectory, [("TransferID", "1")]),
        ("CreateReference", contentDirectory, [("ContainerID", "v"), ("ObjectID", "v")]),
        ("PrepareForConnection", connectionManager, [("RemoteProtocolInfo", "http-get:*:*:*")]),
        ("ConnectionComplete", connectionManager, [("ConnectionID", "0")]),
    ])
    func everyActionThatWouldChangeSomethingIsFault401(
        action: String, service: String, arguments: [(String, String)]
    ) async throws {
        let before = try await browse("0")
        let (status, fault) = try await call(action, arguments, service: service)
        #expect(status == 500)
        #expect(faultCode(fault) == "401")
        let after = try await browse("0")
        #expect(after.total == before.total)
        #expect(after.didl.children.map { $0.attributes["id"] } == before.didl.children.map { $0.attributes["id"] })
    }

    @Test(arguments: [
        "not xml", "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a SYSTEM \"file:///etc/passwd\">]><x>&a;</x>",
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body/></s:Envelope>",
        "<s:Envelope xmlns:s=\"x\"><s:Body><u:Browse xmlns:u=\"urn:schemas-upnp-org:service:ContentDirectory:1\">"
            + "<ObjectID>&xxe;</ObjectID></u:Browse></s:Body></s:Envelope>",
    ])
    func aMalformedOrHostileBodyIsASOAPFault(_ body: String) async throws {
        let answer = await device.respond(
            to: request(
                "POST", "ContentDirectory/control", soapAction: "\"\(contentDirectory)#Browse\"", body: body))
        #expect(answer.status == 500)
        let fault = try #require(try XMLReader.read(answer.body).child("Body")?.child("Fault"))
        #expect(faultCode(fault) == "401")
    }

    @Test func anOversizedBodyIsFault402() async throws {
        let body = envelope("Browse", contentDirectory, [("Filter", String(repeating: "x", count: 20_000))])
        let answer = await device.respond(
            to: request("POST", "ContentDirectory/control", soapAction: "\"\(contentDirectory)#Browse\"", body: body))
        #expect(answer.status == 500)
        let fault = try #require(try XMLReader.read(answer.body).child("Body")?.child("Fault"))
        #expect(faultCode(fault) == "402")
    }

    @Test(arguments: ["ContentDirectory/control", "ConnectionManager/control", "/ContentDirectory/control"])
    func anOversizedControlRequestLeftUnreadIsFault402(_ path: String) throws {
        let answer = try #require(
            device.answerToOversizedBody(
                request("POST", path, soapAction: "\"\(contentDirectory)#Browse\"", body: "")))
        #expect(answer.status == 500)
        #expect(answer.contentType == "text/xml; charset=\"utf-8\"")
        let fault = try #require(try XMLReader.read(answer.body).child("Body")?.child("Fault"))
        #expect(faultCode(fault) == "402")
    }

    @Test(arguments: [
        ("GET", "ContentDirectory/control"), ("POST", "device.xml"), ("SUBSCRIBE", "ContentDirectory/event"),
    ])
    func anOversizedRequestThatIsNoControlHasNoSOAPAnswer(_ method: String, _ path: String) {
        #expect(device.answerToOversizedBody(request(method, path, soapAction: nil, body: "")) == nil)
    }

    @Test func anActionSentToTheWrongServiceIsFault401() async throws {
        let answer = await device.respond(
            to: request(
                "POST", "ConnectionManager/control", soapAction: "\"\(contentDirectory)#Browse\"",
                body: envelope("Browse", contentDirectory, [("ObjectID", "0"), ("BrowseFlag", "BrowseMetadata")])))
        #expect(answer.status == 500)
    }

    @Test func aSOAPActionThatDisagreesWithTheBodyIsFault401() async throws {
        let answer = await device.respond(
            to: request(
                "POST", "ContentDirectory/control", soapAction: "\"\(contentDirectory)#Search\"",
                body: envelope("Browse", contentDirectory, [("ObjectID", "0"), ("BrowseFlag", "BrowseMetadata")])))
        #expect(answer.status == 500)
    }

    @Test func vlcsUnprefixedDefaultNamespaceBodyIsUnderstood() async throws {
        let body = """
            <?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>\
            <Browse xmlns="urn:schemas-upnp-org:service:ContentDirectory:1"><ObjectID>0</ObjectID>\
            <BrowseFlag>BrowseDirectChildren</BrowseFlag><Filter>*</Filter><StartingIndex>0</StartingIndex>\
            <RequestedCount>0</RequestedCount><SortCriteria></SortCriteria></Browse></s:Body></s:Envelope>
            """
        let answer = await device.respond(
            to: request("POST", "ContentDirectory/control", soapAction: "\(contentDirectory)#Browse", body: body))
        #expect(answer.status == 200)
    }

    @Test func aLaterVersionOfTheServiceIsAnsweredInItsOwnName() async throws {
        let version2 = "urn:schemas-upnp-org:service:ContentDirectory:2"
        let answer = await device.respond(
            to: request(
                "POST", "ContentDirectory/control", soapAction: "\"\(version2)#GetSystemUpdateID\"",
                body: envelope("GetSystemUpdateID", version2, [])))
        #expect(answer.status == 200)
        let response = try #require(try XMLReader.read(answer.body).child("Body")?.children.first)
        #expect(response.namespace == version2)
    }

    @Test func aBodyWithoutNamespaceOrSOAPActionIsTakenForTheControlURLsService() async throws {
        let body = """
            <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetSystemUpdateID/></s:Body>\
            </s:Envelope>
            """
        let answer = await device.respond(to: request("POST", "ContentDirectory/control", body: body))
        #expect(answer.status == 200)
    }

    /// Bytes changed, dropped and repeated at random (seeded) in a valid Browse: every answer is an answer or a
    /// SOAP fault, and always well-formed.
    @Test func mutatedEnvelopesGetAnAnswerOrAFaultNeverACrash() async throws {
        let valid = Array(
            envelope(
                "Browse", contentDirectory,
                [
                    ("ObjectID", "m/artist/Ann"), ("BrowseFlag", "BrowseDirectChildren"), ("Filter", "*"),
                    ("StartingIndex", "0"), ("RequestedCount", "10"), ("SortCriteria", ""),
                ]
            ).utf8)
        var generator = SplitMix64(seed: 10)
        let alphabet = Array("<>/&;#x\"'=:! ?[]-AaZz0179".utf8) + [0x00, 0xC3, 0xFF]
        for _ in 0..<1500 {
            var body = valid
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<body.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: body[index] = alphabet.randomElement(using: &generator)!
                case 1: body.remove(at: index)
                default: body.insert(contentsOf: body[index..<min(body.count, index + 8)], at: index)
                }
            }
            var mutated = request(
                "POST", "ContentDirectory/control", soapAction: "\"\(contentDirectory)#Browse\"")
            mutated.body = body
            let answer = await device.respond(to: mutated)
            #expect(answer.status == 200 || answer.status == 500)
            var limits = XMLReader.Limits()
            limits.maxBytes = 1 << 20
            #expect(throws: Never.self) { try XMLReader.read(answer.body, limits: limits) }
        }
    }

    @Test func aSubscriptionGetsASIDAndATimeoutAndCanBeRenewed() async {
        let answer = await device.respond(
            to: request(
                "SUBSCRIBE", "ContentDirectory/event",
                headers: ["callback": "<http://192.168.1.9:1234/events>", "nt": "upnp:event"]))
        #expect(answer.status == 200)
        let sid = answer.headers["SID"] ?? ""
        #expect(sid.hasPrefix("uuid:") && sid.count == 41)
        #expect(answer.headers["TIMEOUT"] == "Second-1800")
        let renewal = await device.respond(to: request("SUBSCRIBE", "ContentDirectory/event", headers: ["sid": sid]))
        #expect(renewal.headers["SID"] == sid)
        let bad = await device.respond(
            to: request("SUBSCRIBE", "ContentDirectory/event", headers: ["nt": "upnp:event"]))
        #expect(bad.status == 412)
        #expect(
            await device.respond(to: request("UNSUBSCRIBE", "ContentDirectory/event", headers: ["sid": sid])).status
                == 200)
    }
}

/// A small seeded generator, so a failing mutation is found again.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
