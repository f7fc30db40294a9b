/// A UPnP control error: the `UPnPError` of a SOAP fault.
struct UPnPError: Error, Equatable, Sendable {
    var code: Int
    var description: String

    static let invalidAction = UPnPError(code: 401, description: "Invalid Action")
    static let invalidArgs = UPnPError(code: 402, description: "Invalid Args")
    static let actionFailed = UPnPError(code: 501, description: "Action Failed")
    static let noSuchObject = UPnPError(code: 701, description: "No such object")
    static let invalidConnectionReference = UPnPError(code: 706, description: "Invalid connection reference")
    static let invalidSearchCriteria = UPnPError(code: 708, description: "Unsupported or invalid search criteria")
    static let noSuchContainer = UPnPError(code: 710, description: "No such container")

    static func invalidArgs(_ detail: String) -> UPnPError {
        UPnPError(code: 402, description: "Invalid Args: \(detail)")
    }
}

/// One control request: the action called on a service, and its arguments.
struct SOAPCall: Equatable, Sendable {
    /// `urn:schemas-upnp-org:service:ContentDirectory:1`.
    var serviceType: String
    var action: String
    var arguments: [String: String]

    /// Reads a SOAP envelope: the action from the `SOAPACTION` header (`"SERVICE#ACTION"`) and the body's element,
    /// which must agree; its arguments are the action element's children.
    static func parse(body: [UInt8], soapAction: String?) throws(UPnPError) -> SOAPCall {
        let envelope: XMLElement
        do {
            envelope = try XMLReader.read(body)
        } catch {
            throw UPnPError(code: 401, description: "Invalid Action: unreadable SOAP body (\(error))")
        }
        guard envelope.localName == "Envelope", let soapBody = envelope.child("Body"),
            let actionElement = soapBody.children.first
        else { throw UPnPError(code: 401, description: "Invalid Action: no SOAP envelope with a body") }
        var serviceType = actionElement.namespace ?? ""
        if let header = soapAction {
            let trimmed = header.trimmingQuotesAndSpaces
            guard let hash = trimmed.lastIndex(of: "#") else {
                throw UPnPError(code: 401, description: "Invalid Action: SOAPACTION has no #")
            }
            let headerAction = String(trimmed[trimmed.index(after: hash)...])
            guard headerAction == actionElement.localName else {
                throw UPnPError(code: 401, description: "Invalid Action: SOAPACTION and body name different actions")
            }
            serviceType = String(trimmed[..<hash])
        }
        var arguments: [String: String] = [:]
        for argument in actionElement.children {
            guard arguments.updateValue(argument.text, forKey: argument.localName) == nil else {
                throw UPnPError.invalidArgs("\(argument.localName) given twice")
            }
        }
        return SOAPCall(serviceType: serviceType, action: actionElement.localName, arguments: arguments)
    }
}

/// Writes SOAP answers and faults.
enum SOAPEnvelope {
    static let contentType = "text/xml; charset=\"utf-8\""

    /// The answer to `action`: its out arguments in order, each value escaped here.
    static func response(serviceType: String, action: String, _ arguments: [(String, String)]) -> UPnPAnswer {
        var body = "<u:\(action)Response xmlns:u=\"\(XMLText.escape(serviceType))\">"
        for (name, value) in arguments { body += "<\(name)>\(XMLText.escape(value))</\(name)>" }
        body += "</u:\(action)Response>"
        return UPnPAnswer(status: 200, contentType: contentType, headers: ["EXT": ""], body: Array(wrap(body).utf8))
    }

    /// A fault as UPnP controls send it: `s:Client`, `UPnPError`, status 500.
    static func fault(_ error: UPnPError) -> UPnPAnswer {
        let body = """
            <s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>\
            <UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>\(error.code)</errorCode>\
            <errorDescription>\(XMLText.escape(error.description))</errorDescription></UPnPError>\
            </detail></s:Fault>
            """
        return UPnPAnswer(status: 500, contentType: contentType, headers: ["EXT": ""], body: Array(wrap(body).utf8))
    }

    private static func wrap(_ body: String) -> String {
        """
        <?xml version="1.0" encoding="utf-8"?>
        <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" \
        s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>\(body)</s:Body></s:Envelope>
        """
    }
}

extension String {
    fileprivate var trimmingQuotesAndSpaces: Substring {
        var text = self[...]
        while let first = text.first, first == "\"" || first == " " { text = text.dropFirst() }
        while let last = text.last, last == "\"" || last == " " { text = text.dropLast() }
        return text
    }
}
