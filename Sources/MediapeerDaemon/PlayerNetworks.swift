import MediapeerConfig
import SSDP
import Synchronization

/// `allowed_networks` as the running daemon holds it: the player endpoint asks it once per connection and SSDP once
/// per search, and a reload (SIGHUP) replaces it without either closing its socket.
final class PlayerNetworks: Sendable {
    private let current: Mutex<AllowedNetworks>

    init(_ networks: AllowedNetworks) {
        current = Mutex(networks)
    }

    var networks: AllowedNetworks { current.withLock { $0 } }

    /// Whether the client at `clientIP` (as a socket gives it) may use the player endpoint.
    @Sendable func allows(clientIP: String) -> Bool {
        current.withLock { $0.allows(address: clientIP) }
    }

    /// Whether an SSDP search from `sender` may be answered.
    @Sendable func allows(sender: SSDP.IPv4Address) -> Bool {
        current.withLock { $0.allows(.v4(sender.value)) }
    }

    /// Replaces the networks; true when they changed.
    func update(_ networks: AllowedNetworks) -> Bool {
        current.withLock { current in
            guard current != networks else { return false }
            current = networks
            return true
        }
    }
}
