/// The control API's household routes (`mediapeerctl pair`, `join`, `household`, `leave`).
public enum HouseholdRoute {
    /// `GET`: the household (``HouseholdReport``).
    public static let household = "/v1/household"
    /// `POST`: opens a one-time pairing code (``PairingCodeAnswer``).
    public static let pair = "/v1/household/pair"
    /// `POST` with a ``JoinRequest``: joins the household of the box that printed the code (``HouseholdReport``).
    public static let join = "/v1/household/join"
    /// `POST` with a ``HouseholdRemoveRequest``: removes a box from the household (``HouseholdReport``).
    public static let remove = "/v1/household/remove"
    /// `POST`: this box leaves its household and returns to LAN mode (``HouseholdReport``).
    public static let leave = "/v1/household/leave"
}

/// Whom a box shares with: every box of the LAN, or its household.
public struct HouseholdReport: Sendable, Codable, Equatable {
    /// Nil in LAN mode.
    public var household: String?
    /// The roster's version (it moves whenever the roster changes).
    public var version: String?
    /// The members, this box included, by name; empty in LAN mode.
    public var members: [HouseholdMember]
    /// Whether a pairing code printed here can still be used (open, not expired, not used up).
    public var pairingCodeOpen: Bool

    public init(household: String?, version: String?, members: [HouseholdMember], pairingCodeOpen: Bool = false) {
        self.household = household
        self.version = version
        self.members = members
        self.pairingCodeOpen = pairingCodeOpen
    }

    /// One line for `mediapeerctl status`.
    public var summary: String {
        guard let household else { return "LAN mode: shares with every box on the network" }
        return "household \(household): shares only with its \(members.count) member\(members.count == 1 ? "" : "s")"
    }
}

public struct HouseholdMember: Sendable, Codable, Equatable {
    public var peerID: String
    public var name: String
    /// Whether the box answers this one now (always true for this box itself).
    public var online: Bool
    public var isThisBox: Bool

    public init(peerID: String, name: String, online: Bool, isThisBox: Bool) {
        self.peerID = peerID
        self.name = name
        self.online = online
        self.isThisBox = isThisBox
    }
}

/// `POST /v1/household/pair`'s answer.
public struct PairingCodeAnswer: Sendable, Codable, Equatable {
    /// `XXXX-XXXX-XXXX-XXXX-XXXX-XXXX`.
    public var code: String
    public var validSeconds: Int

    public init(code: String, validSeconds: Int) {
        self.code = code
        self.validSeconds = validSeconds
    }
}

public struct JoinRequest: Sendable, Codable, Equatable {
    public var code: String

    public init(code: String) {
        self.code = code
    }
}

public struct HouseholdRemoveRequest: Sendable, Codable, Equatable {
    /// A peer id, an id prefix of 4+ hex digits, or a member's name.
    public var box: String

    public init(box: String) {
        self.box = box
    }
}
