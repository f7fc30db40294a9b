import WireVocabulary

/// The UPnP MediaServer: device and service descriptions, and the ContentDirectory and ConnectionManager controls
/// over the home's tree.
///
/// Events: `SUBSCRIBE` is answered with a SID and a 30-minute timeout (renewals and `UNSUBSCRIBE` too), but no
/// event is ever sent. Control points that subscribe (Kodi, Windows) need the subscription to succeed; they then
/// poll `SystemUpdateID` or browse again, as they do with MiniDLNA when its events are missed.
public struct MediaServerDevice: UPnPResponding {
    public let maxRequestBodyBytes = 16 * 1024
    /// The most objects one Browse or Search returns, whatever was asked: bounds each answer's size.
    static let maxPageSize = 500

    private let udn: String
    private let friendlyName: String
    private let modelName: String
    private let modelNumber: String
    private let tree: any MediaTreeSource
    private let systemUpdateID: @Sendable () async -> UInt32

    /// - parameter uuid: the device UUID (without `uuid:`), the same SSDP announces.
    /// - parameter systemUpdateID: reads the current SystemUpdateID (the catalog generation: it moves whenever
    ///   the home's objects change).
    public init(
        uuid: String, friendlyName: String, modelName: String, modelNumber: String, tree: any MediaTreeSource,
        systemUpdateID: @escaping @Sendable () async -> UInt32
    ) {
        self.udn = "uuid:" + uuid
        self.friendlyName = friendlyName
        self.modelName = modelName
        self.modelNumber = modelNumber
        self.tree = tree
        self.systemUpdateID = systemUpdateID
    }

    public func respond(to request: UPnPRequest) async -> UPnPAnswer {
        let path = request.path.hasPrefix("/") ? String(request.path.dropFirst()) : request.path
        switch (path, request.method) {
        case ("device.xml", "GET"), ("device.xml", "HEAD"):
            return document(
                Descriptions.device(
                    udn: udn, friendlyName: friendlyName, modelName: modelName, modelNumber: modelNumber))
        case ("ContentDirectory.xml", "GET"), ("ContentDirectory.xml", "HEAD"):
            return document(Descriptions.contentDirectory)
        case ("ConnectionManager.xml", "GET"), ("ConnectionManager.xml", "HEAD"):
            return document(Descriptions.connectionManager)
        case ("ContentDirectory/control", "POST"), ("ConnectionManager/control", "POST"):
            guard request.body.count <= maxRequestBodyBytes else { return oversizedControlFault }
            let service =
                path.hasPrefix("ContentDirectory")
                ? Descriptions.contentDirectoryType : Descriptions.connectionManagerType
            do throws(UPnPError) {
                var call = try SOAPCall.parse(body: request.body, soapAction: request.soapAction)
                // Any version of the service this URL controls (a control point may name ContentDirectory:2 and
                // use only what :1 has), or none at all from a sloppy one: the answer echoes what was named.
                if call.serviceType.isEmpty { call.serviceType = service }
                guard call.serviceType.hasPrefix(String(service.dropLast())) else { throw UPnPError.invalidAction }
                return try await control(call, service: service, baseURL: request.baseURL)
            } catch {
                return SOAPEnvelope.fault(error)
            }
        case ("ContentDirectory/event", "SUBSCRIBE"), ("ConnectionManager/event", "SUBSCRIBE"):
            return subscribe(request)
        case ("ContentDirectory/event", "UNSUBSCRIBE"), ("ConnectionManager/event", "UNSUBSCRIBE"):
            let sid = request.headers["sid"] ?? ""
            return plain(sid.hasPrefix("uuid:") ? 200 : 412)
        case ("device.xml", _), ("ContentDirectory.xml", _), ("ConnectionManager.xml", _),
            ("ContentDirectory/control", _), ("ConnectionManager/control", _), ("ContentDirectory/event", _),
            ("ConnectionManager/event", _):
            return plain(405)
        default:
            return plain(404)
        }
    }

    /// A control request (a `POST` to a control URL) gets the SOAP fault control points read, as for any other
    /// unreadable call: 402, the arguments could not be read. Anything else is no SOAP exchange: nil, a plain 413.
    public func answerToOversizedBody(_ request: UPnPRequest) -> UPnPAnswer? {
        let path = request.path.hasPrefix("/") ? String(request.path.dropFirst()) : request.path
        guard request.method == "POST", path == "ContentDirectory/control" || path == "ConnectionManager/control"
        else { return nil }
        return oversizedControlFault
    }

    private var oversizedControlFault: UPnPAnswer {
        SOAPEnvelope.fault(UPnPError.invalidArgs("the request body is larger than \(maxRequestBodyBytes) bytes"))
    }

    /// The same answer to `HEAD` as to `GET`: the endpoint sends a `HEAD` answer's length without its body.
    private func document(_ xml: String) -> UPnPAnswer {
        UPnPAnswer(status: 200, contentType: SOAPEnvelope.contentType, body: Array(xml.utf8))
    }

    private func plain(_ status: Int) -> UPnPAnswer {
        UPnPAnswer(status: status, contentType: "text/plain; charset=utf-8", body: [])
    }

    /// A new subscription (a `CALLBACK` and `NT: upnp:event`) or a renewal (a `SID`), never both.
    private func subscribe(_ request: UPnPRequest) -> UPnPAnswer {
        let timeout = ["TIMEOUT": "Second-1800"]
        if let sid = request.headers["sid"] {
            guard request.headers["callback"] == nil, request.headers["nt"] == nil else { return plain(400) }
            guard sid.hasPrefix("uuid:"), sid.utf8.count <= 64 else { return plain(412) }
            return UPnPAnswer(
                status: 200, contentType: "text/plain; charset=utf-8",
                headers: timeout.merging(["SID": sid]) { a, _ in a },
                body: [])
        }
        guard request.headers["nt"] == "upnp:event", let callback = request.headers["callback"],
            callback.hasPrefix("<http://")
        else { return plain(412) }
        var generator = SystemRandomNumberGenerator()
        let sid = "uuid:" + Self.randomUUID(&generator)
        return UPnPAnswer(
            status: 200, contentType: "text/plain; charset=utf-8", headers: timeout.merging(["SID": sid]) { a, _ in a },
            body: [])
    }

    static func randomUUID(_ generator: inout some RandomNumberGenerator) -> String {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        let hex = bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { hex[$0].joined() }.joined(separator: "-")
    }

    // MARK: Controls

    /// - parameter service: the service type of the control URL, version 1.
    private func control(_ call: SOAPCall, service: String, baseURL: String) async throws(UPnPError) -> UPnPAnswer {
        let reply = { (arguments: [(String, String)]) in
            SOAPEnvelope.response(serviceType: call.serviceType, action: call.action, arguments)
        }
        switch (service, call.action) {
        case (Descriptions.contentDirectoryType, "Browse"):
            return reply(try await browse(call.arguments, baseURL: baseURL))
        case (Descriptions.contentDirectoryType, "Search"):
            return reply(try await search(call.arguments, baseURL: baseURL))
        case (Descriptions.contentDirectoryType, "GetSearchCapabilities"):
            return reply([("SearchCaps", "dc:title,dc:creator,upnp:artist,upnp:album,upnp:genre,upnp:class,@refID")])
        case (Descriptions.contentDirectoryType, "GetSortCapabilities"):
            return reply([("SortCaps", "dc:title")])
        case (Descriptions.contentDirectoryType, "GetSystemUpdateID"):
            return reply([("Id", String(await systemUpdateID()))])
        case (Descriptions.contentDirectoryType, "X_GetFeatureList"):
            return reply([("FeatureList", Descriptions.featureList)])
        case (Descriptions.contentDirectoryType, "X_SetBookmark"):
            // Samsung TVs report where a play stopped; there is nothing to keep it in, and refusing it shows an
            // error on the TV.
            return reply([])
        case (Descriptions.connectionManagerType, "GetProtocolInfo"):
            return reply([("Source", DLNAProfile.sourceProtocolInfo), ("Sink", "")])
        case (Descriptions.connectionManagerType, "GetCurrentConnectionIDs"):
            return reply([("ConnectionIDs", "0")])
        case (Descriptions.connectionManagerType, "GetCurrentConnectionInfo"):
            guard let id = call.arguments["ConnectionID"] else { throw .invalidArgs("ConnectionID is missing") }
            guard Int(id.trimmingSpaces) == 0 else { throw .invalidConnectionReference }
            return reply([
                ("RcsID", "-1"), ("AVTransportID", "-1"), ("ProtocolInfo", ""), ("PeerConnectionManager", ""),
                ("PeerConnectionID", "-1"), ("Direction", "Output"), ("Status", "OK"),
            ])
        default:
            throw .invalidAction
        }
    }

    /// `StartingIndex` and `RequestedCount` (0: as many as allowed).
    private static func paging(_ arguments: [String: String]) throws(UPnPError) -> (offset: Int, limit: Int) {
        func number(_ name: String) throws(UPnPError) -> Int {
            guard let text = arguments[name] else { return 0 }
            guard let value = UInt32(text.trimmingSpaces) else { throw .invalidArgs("\(name) is not a number") }
            // A ui4 past Int.max (2^31 - 1 on armhf) asks for a page past every list's end: the same as Int.max.
            return Int(clamping: value)
        }
        let offset = try number("StartingIndex")
        let requested = try number("RequestedCount")
        return (offset, requested == 0 ? maxPageSize : min(requested, maxPageSize))
    }

    private func answer(_ didl: DIDLLite, returned: Int, total: Int) async -> [(String, String)] {
        [
            ("Result", didl.document), ("NumberReturned", String(returned)), ("TotalMatches", String(total)),
            ("UpdateID", String(await systemUpdateID())),
        ]
    }

    private func browse(_ arguments: [String: String], baseURL: String) async throws(UPnPError) -> [(String, String)] {
        guard let objectText = arguments["ObjectID"] else { throw .invalidArgs("ObjectID is missing") }
        guard let flag = arguments["BrowseFlag"] else { throw .invalidArgs("BrowseFlag is missing") }
        let (offset, limit) = try Self.paging(arguments)
        guard let object = MediaObjectID(objectText.trimmingSpaces) else { throw .noSuchObject }
        var didl = DIDLLite(baseURL: baseURL)
        do {
            switch flag.trimmingSpaces {
            case "BrowseMetadata":
                switch object {
                case .item(let id):
                    guard let item = try await tree.item(id) else { throw UPnPError.noSuchObject }
                    didl.add(item, parentID: MediaObjectID.shelf(.all(item.kind)).text)
                default:
                    guard let container = try await container(object) else { throw UPnPError.noSuchObject }
                    didl.add(container)
                }
                return await answer(didl, returned: 1, total: 1)
            case "BrowseDirectChildren":
                let (returned, total) = try await children(of: object, offset: offset, limit: limit, into: &didl)
                return await answer(didl, returned: returned, total: total)
            default:
                throw UPnPError.invalidArgs("BrowseFlag is neither BrowseMetadata nor BrowseDirectChildren")
            }
        } catch let error as UPnPError {
            throw error
        } catch {
            throw UPnPError(code: 501, description: "Action Failed: the index could not be read")
        }
    }

    private func search(_ arguments: [String: String], baseURL: String) async throws(UPnPError) -> [(String, String)] {
        guard let containerText = arguments["ContainerID"] else { throw .invalidArgs("ContainerID is missing") }
        guard let criteria = arguments["SearchCriteria"] else { throw .invalidArgs("SearchCriteria is missing") }
        let (offset, limit) = try Self.paging(arguments)
        guard let container = MediaObjectID(containerText.trimmingSpaces) else { throw .noSuchContainer }
        var didl = DIDLLite(baseURL: baseURL)
        guard var query = try SearchCriteria.parse(criteria) else {
            return await answer(didl, returned: 0, total: 0)
        }
        query.kinds.formIntersection(Self.kinds(under: container))
        guard !query.kinds.isEmpty else { return await answer(didl, returned: 0, total: 0) }
        do {
            let page = try await tree.search(query, offset: offset, limit: limit)
            for item in page.elements { didl.add(item, parentID: MediaObjectID.shelf(.all(item.kind)).text) }
            return await answer(didl, returned: page.elements.count, total: page.total)
        } catch {
            throw UPnPError(code: 501, description: "Action Failed: the index could not be read")
        }
    }

    /// The kinds of item a search from `container` can find.
    private static func kinds(under container: MediaObjectID) -> Set<MediaKind> {
        switch container {
        case .music, .groups(.artists), .groups(.albums), .shelf(.artist), .shelf(.album): [.audio]
        case .photos, .groups(.months), .shelf(.month): [.image]
        case .shelf(.all(let kind)): [kind]
        case .item: []
        default: Set(MediaKind.titles)
        }
    }

    // MARK: The tree

    private static let rootChildren: [MediaObjectID] = [
        .shelf(.all(.video)), .music, .photos, .groups(.boxes),
    ]
    private static let musicChildren: [MediaObjectID] = [
        .shelf(.all(.audio)), .groups(.artists), .groups(.albums),
    ]
    private static let photoChildren: [MediaObjectID] = [.shelf(.all(.image)), .groups(.months)]

    private static let storageFolder = "object.container.storageFolder"

    /// A container's description with its child count; nil when it does not exist (an empty group).
    private func container(_ object: MediaObjectID) async throws -> DIDLContainer? {
        func make(_ title: String, _ count: Int, _ upnpClass: String = Self.storageFolder) -> DIDLContainer {
            DIDLContainer(
                id: object.text, parentID: object.parentText, title: title, upnpClass: upnpClass, childCount: count)
        }
        switch object {
        case .root: return make("root", Self.rootChildren.count)
        case .music: return make("Music", Self.musicChildren.count)
        case .photos: return make("Photos", Self.photoChildren.count)
        case .groups(let grouping):
            let count = try await tree.groups(grouping, offset: 0, limit: 0).total
            let titles: [MediaGrouping: String] = [
                .artists: "By artist", .albums: "By album", .months: "By date", .boxes: "By box",
            ]
            return make(titles[grouping] ?? "", count)
        case .shelf(.all(let kind)):
            let count = try await tree.items(in: .all(kind), offset: 0, limit: 0).total
            let title = kind == .audio ? "All tracks" : kind == .image ? "All photos" : "Videos"
            return make(title, count)
        case .shelf(let shelf):
            guard let (grouping, key) = Self.group(of: shelf),
                let group = try await tree.group(grouping, key: key)
            else { return nil }
            return make(Self.title(of: group, grouping), group.itemCount, Self.upnpClass(of: grouping))
        case .item:
            return nil
        }
    }

    private static func group(of shelf: MediaShelf) -> (MediaGrouping, String)? {
        switch shelf {
        case .artist(let key): (.artists, key)
        case .album(let key): (.albums, key)
        case .month(let key): (.months, key)
        case .box(let key): (.boxes, key)
        case .all: nil
        }
    }

    private static func title(of group: MediaGroup, _ grouping: MediaGrouping) -> String {
        guard group.title.isEmpty else { return group.title }
        switch grouping {
        case .artists: return "Unknown artist"
        case .albums: return "Unknown album"
        case .months: return "Undated"
        case .boxes: return group.key
        }
    }

    private static func upnpClass(of grouping: MediaGrouping) -> String {
        switch grouping {
        case .artists: "object.container.person.musicArtist"
        case .albums: "object.container.album.musicAlbum"
        case .months: "object.container.album.photoAlbum"
        case .boxes: storageFolder
        }
    }

    /// Adds a page of a container's children; returns how many, and the total.
    private func children(of object: MediaObjectID, offset: Int, limit: Int, into didl: inout DIDLLite)
        async throws -> (Int, Int)
    {
        let fixed: [MediaObjectID]
        switch object {
        case .root: fixed = Self.rootChildren
        case .music: fixed = Self.musicChildren
        case .photos: fixed = Self.photoChildren
        case .groups(let grouping):
            let page = try await tree.groups(grouping, offset: offset, limit: limit)
            for group in page.elements {
                let child = MediaObjectID.shelf(MediaObjectID.shelf(of: grouping, key: group.key))
                didl.add(
                    DIDLContainer(
                        id: child.text, parentID: object.text, title: Self.title(of: group, grouping),
                        upnpClass: Self.upnpClass(of: grouping), childCount: group.itemCount))
            }
            return (page.elements.count, page.total)
        case .shelf(let shelf):
            let page = try await tree.items(in: shelf, offset: offset, limit: limit)
            // An empty shelf of a group that does not exist (an artist nobody has, a box gone offline) is no
            // object at all; asked only then, so paging a large shelf costs no count per page.
            if page.total == 0, let (grouping, key) = Self.group(of: shelf),
                try await tree.group(grouping, key: key) == nil
            {
                throw UPnPError.noSuchObject
            }
            for item in page.elements { didl.add(item, parentID: object.text) }
            return (page.elements.count, page.total)
        case .item:
            throw UPnPError.noSuchContainer
        }
        let page = fixed.dropFirst(offset).prefix(limit)
        for child in page {
            guard let container = try await container(child) else { continue }
            didl.add(container)
        }
        return (page.count, fixed.count)
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(
            self.drop(while: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).reversed()
                .drop(while: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).reversed())
    }
}
