/// The device description and the two service descriptions (SCPD), as MiniDLNA publishes them.
enum Descriptions {
    static let contentDirectoryType = "urn:schemas-upnp-org:service:ContentDirectory:1"
    static let connectionManagerType = "urn:schemas-upnp-org:service:ConnectionManager:1"

    /// `device.xml`.
    static func device(udn: String, friendlyName: String, modelName: String, modelNumber: String) -> String {
        func service(_ type: String, _ id: String, _ name: String) -> String {
            """
            <service><serviceType>\(type)</serviceType><serviceId>urn:upnp-org:serviceId:\(id)</serviceId>\
            <SCPDURL>/upnp/\(name).xml</SCPDURL><controlURL>/upnp/\(name)/control</controlURL>\
            <eventSubURL>/upnp/\(name)/event</eventSubURL></service>
            """
        }
        let e = XMLText.escape
        return """
            <?xml version="1.0" encoding="utf-8"?>
            <root xmlns="urn:schemas-upnp-org:device-1-0" xmlns:dlna="urn:schemas-dlna-org:device-1-0" \
            xmlns:sec="http://www.sec.co.kr/dlna"><specVersion><major>1</major><minor>0</minor></specVersion>\
            <device><deviceType>urn:schemas-upnp-org:device:MediaServer:1</deviceType>\
            <dlna:X_DLNADOC>DMS-1.50</dlna:X_DLNADOC><friendlyName>\(e(friendlyName))</friendlyName>\
            <manufacturer>mediapeer</manufacturer><modelDescription>mediapeer home media server</modelDescription>\
            <modelName>\(e(modelName))</modelName><modelNumber>\(e(modelNumber))</modelNumber>\
            <UDN>\(e(udn))</UDN>\
            <sec:ProductCap>smi,DCM10,getMediaInfo.sec,getCaptionInfo.sec</sec:ProductCap>\
            <sec:X_ProductCap>smi,DCM10,getMediaInfo.sec,getCaptionInfo.sec</sec:X_ProductCap>\
            <serviceList>\(service(contentDirectoryType, "ContentDirectory", "ContentDirectory"))\
            \(service(connectionManagerType, "ConnectionManager", "ConnectionManager"))</serviceList>\
            </device></root>
            """
    }

    private struct Argument {
        var name: String
        var out: Bool
        var variable: String
    }

    private struct Variable {
        var name: String
        var type: String
        var events = false
        var allowed: [String] = []
    }

    private static func `in`(_ name: String, _ variable: String) -> Argument {
        Argument(name: name, out: false, variable: variable)
    }

    private static func out(_ name: String, _ variable: String) -> Argument {
        Argument(name: name, out: true, variable: variable)
    }

    private static func scpd(actions: [(String, [Argument])], variables: [Variable]) -> String {
        var xml = """
            <?xml version="1.0" encoding="utf-8"?>
            <scpd xmlns="urn:schemas-upnp-org:service-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>\
            <actionList>
            """
        for (name, arguments) in actions {
            xml += "<action><name>\(name)</name>"
            if !arguments.isEmpty {
                xml += "<argumentList>"
                for argument in arguments {
                    xml += """
                        <argument><name>\(argument.name)</name><direction>\(argument.out ? "out" : "in")</direction>\
                        <relatedStateVariable>\(argument.variable)</relatedStateVariable></argument>
                        """
                }
                xml += "</argumentList>"
            }
            xml += "</action>"
        }
        xml += "</actionList><serviceStateTable>"
        for variable in variables {
            xml += "<stateVariable sendEvents=\"\(variable.events ? "yes" : "no")\"><name>\(variable.name)</name>"
            xml += "<dataType>\(variable.type)</dataType>"
            if !variable.allowed.isEmpty {
                xml += "<allowedValueList>"
                for value in variable.allowed { xml += "<allowedValue>\(value)</allowedValue>" }
                xml += "</allowedValueList>"
            }
            xml += "</stateVariable>"
        }
        return xml + "</serviceStateTable></scpd>"
    }

    /// `ContentDirectory.xml`, with Samsung's `X_GetFeatureList` and `X_SetBookmark` as MiniDLNA lists them.
    static let contentDirectory: String = {
        let paging = [
            `in`("Filter", "A_ARG_TYPE_Filter"), `in`("StartingIndex", "A_ARG_TYPE_Index"),
            `in`("RequestedCount", "A_ARG_TYPE_Count"), `in`("SortCriteria", "A_ARG_TYPE_SortCriteria"),
            out("Result", "A_ARG_TYPE_Result"), out("NumberReturned", "A_ARG_TYPE_Count"),
            out("TotalMatches", "A_ARG_TYPE_Count"), out("UpdateID", "A_ARG_TYPE_UpdateID"),
        ]
        return scpd(
            actions: [
                ("GetSearchCapabilities", [out("SearchCaps", "SearchCapabilities")]),
                ("GetSortCapabilities", [out("SortCaps", "SortCapabilities")]),
                ("GetSystemUpdateID", [out("Id", "SystemUpdateID")]),
                (
                    "Browse",
                    [`in`("ObjectID", "A_ARG_TYPE_ObjectID"), `in`("BrowseFlag", "A_ARG_TYPE_BrowseFlag")] + paging
                ),
                (
                    "Search",
                    [`in`("ContainerID", "A_ARG_TYPE_ObjectID"), `in`("SearchCriteria", "A_ARG_TYPE_SearchCriteria")]
                        + paging
                ),
                ("X_GetFeatureList", [out("FeatureList", "A_ARG_TYPE_Featurelist")]),
                (
                    "X_SetBookmark",
                    [
                        `in`("CategoryType", "A_ARG_TYPE_CategoryType"), `in`("RID", "A_ARG_TYPE_RID"),
                        `in`("ObjectID", "A_ARG_TYPE_ObjectID"), `in`("PosSecond", "A_ARG_TYPE_PosSec"),
                    ]
                ),
            ],
            variables: [
                Variable(name: "TransferIDs", type: "string", events: true),
                Variable(name: "A_ARG_TYPE_ObjectID", type: "string"),
                Variable(name: "A_ARG_TYPE_Result", type: "string"),
                Variable(name: "A_ARG_TYPE_SearchCriteria", type: "string"),
                Variable(
                    name: "A_ARG_TYPE_BrowseFlag", type: "string",
                    allowed: ["BrowseMetadata", "BrowseDirectChildren"]),
                Variable(name: "A_ARG_TYPE_Filter", type: "string"),
                Variable(name: "A_ARG_TYPE_SortCriteria", type: "string"),
                Variable(name: "A_ARG_TYPE_Index", type: "ui4"),
                Variable(name: "A_ARG_TYPE_Count", type: "ui4"),
                Variable(name: "A_ARG_TYPE_UpdateID", type: "ui4"),
                Variable(name: "SearchCapabilities", type: "string"),
                Variable(name: "SortCapabilities", type: "string"),
                Variable(name: "SystemUpdateID", type: "ui4", events: true),
                Variable(name: "A_ARG_TYPE_Featurelist", type: "string"),
                Variable(name: "A_ARG_TYPE_CategoryType", type: "ui4"),
                Variable(name: "A_ARG_TYPE_RID", type: "ui4"),
                Variable(name: "A_ARG_TYPE_PosSec", type: "ui4"),
            ])
    }()

    /// `ConnectionManager.xml`.
    static let connectionManager: String = scpd(
        actions: [
            ("GetProtocolInfo", [out("Source", "SourceProtocolInfo"), out("Sink", "SinkProtocolInfo")]),
            ("GetCurrentConnectionIDs", [out("ConnectionIDs", "CurrentConnectionIDs")]),
            (
                "GetCurrentConnectionInfo",
                [
                    `in`("ConnectionID", "A_ARG_TYPE_ConnectionID"), out("RcsID", "A_ARG_TYPE_RcsID"),
                    out("AVTransportID", "A_ARG_TYPE_AVTransportID"), out("ProtocolInfo", "A_ARG_TYPE_ProtocolInfo"),
                    out("PeerConnectionManager", "A_ARG_TYPE_ConnectionManager"),
                    out("PeerConnectionID", "A_ARG_TYPE_ConnectionID"), out("Direction", "A_ARG_TYPE_Direction"),
                    out("Status", "A_ARG_TYPE_ConnectionStatus"),
                ]
            ),
        ],
        variables: [
            Variable(name: "SourceProtocolInfo", type: "string", events: true),
            Variable(name: "SinkProtocolInfo", type: "string", events: true),
            Variable(name: "CurrentConnectionIDs", type: "string", events: true),
            Variable(
                name: "A_ARG_TYPE_ConnectionStatus", type: "string",
                allowed: ["OK", "ContentFormatMismatch", "InsufficientBandwidth", "UnreliableChannel", "Unknown"]),
            Variable(name: "A_ARG_TYPE_ConnectionManager", type: "string"),
            Variable(name: "A_ARG_TYPE_Direction", type: "string", allowed: ["Input", "Output"]),
            Variable(name: "A_ARG_TYPE_ProtocolInfo", type: "string"),
            Variable(name: "A_ARG_TYPE_ConnectionID", type: "i4"),
            Variable(name: "A_ARG_TYPE_AVTransportID", type: "i4"),
            Variable(name: "A_ARG_TYPE_RcsID", type: "i4"),
        ])

    /// Samsung's feature list: which containers hold each kind (the TV's "basic view").
    static let featureList = """
        <?xml version="1.0" encoding="utf-8"?>
        <Features xmlns="urn:schemas-upnp-org:av:avs" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
        xsi:schemaLocation="urn:schemas-upnp-org:av:avs http://www.upnp.org/schemas/av/avs.xsd">\
        <Feature name="samsung.com_BASICVIEW" version="1">\
        <container id="m/all" type="object.item.audioItem"/><container id="v" type="object.item.videoItem"/>\
        <container id="p/all" type="object.item.imageItem"/></Feature></Features>
        """
}
