/// Bounds on what clients can make an ``HTTPService`` hold: connections, and the time a request may take to arrive.
///
/// ```swift
/// let limits = HTTPServiceLimits(maxConnections: 256, maxConnectionsPerAddress: 16, requestDeadline: .seconds(10))
/// ```
public struct HTTPServiceLimits: Sendable, Equatable {
    /// Connections open at once, from every client together; nil: no limit. A connection over it is closed as soon
    /// as it is accepted.
    public var maxConnections: Int?
    /// Connections open at once from one IP address; nil: no limit. Clients of a Unix socket have no address and
    /// are bounded by ``maxConnections`` alone.
    public var maxConnectionsPerAddress: Int?
    /// How long a request's head and body may take to arrive, counted from its first byte; nil: no limit. A request
    /// still arriving then is answered 408 (when no response has started) and its connection closed. The time
    /// between requests is the service's idle timeout, and the time taken to answer is not counted.
    public var requestDeadline: Duration?

    public init(maxConnections: Int? = nil, maxConnectionsPerAddress: Int? = nil, requestDeadline: Duration? = nil) {
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
        self.requestDeadline = requestDeadline
    }

    /// No limit at all.
    public static let none = HTTPServiceLimits()
}
