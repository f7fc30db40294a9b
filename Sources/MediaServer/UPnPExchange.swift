/// One HTTP request to the UPnP MediaServer (a description or a control), as the player endpoint received it.
///
/// The MediaServer has no HTTP server of its own: the player endpoint, which TVs already reach for the titles,
/// hands it every request under `/upnp/` and sends back its ``UPnPAnswer``.
public struct UPnPRequest: Sendable, Equatable {
    /// `GET`, `HEAD`, `POST`, or another verb such as `SUBSCRIBE`.
    public var method: String
    /// The path after `/upnp/`, such as `device.xml` or `ContentDirectory/control`.
    public var path: String
    /// The `SOAPACTION` header of a control request, quotes included as sent.
    public var soapAction: String?
    /// Header fields with lower-cased names (`user-agent`, `content-type`, …); repeated fields joined by `, `.
    public var headers: [String: String]
    /// The body, already bounded by the endpoint (a larger one is refused before it gets here).
    public var body: [UInt8]
    /// The address the request arrived on (an IPv6 address in brackets): `res` URLs point there, so a TV gets
    /// back the address it already reaches this box by.
    public var serverAddress: String
    /// The player endpoint's port.
    public var serverPort: Int

    public init(
        method: String, path: String, soapAction: String?, headers: [String: String], body: [UInt8],
        serverAddress: String, serverPort: Int
    ) {
        self.method = method
        self.path = path
        self.soapAction = soapAction
        self.headers = headers
        self.body = body
        self.serverAddress = serverAddress
        self.serverPort = serverPort
    }

    /// The base of every URL given to this client: `http://ADDRESS:PORT`.
    public var baseURL: String { "http://\(serverAddress):\(serverPort)" }
}

/// The MediaServer's answer to a ``UPnPRequest``.
public struct UPnPAnswer: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    /// Extra header fields, such as `EXT` or `SID`.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, contentType: String, headers: [String: String] = [:], body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.headers = headers
        self.body = body
    }
}

/// What answers the requests under `/upnp/`.
public protocol UPnPResponding: Sendable {
    /// The largest request body accepted; the endpoint reads no more of a larger one.
    var maxRequestBodyBytes: Int { get }
    func respond(to request: UPnPRequest) async -> UPnPAnswer
    /// The answer to a request whose body was larger than ``maxRequestBodyBytes`` (its `body` is empty: the rest
    /// was not read), or nil when it is no control request and a plain 413 fits.
    func answerToOversizedBody(_ request: UPnPRequest) -> UPnPAnswer?
}
