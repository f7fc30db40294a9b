/// The JSON of households (`docs/PROTOCOL.md`, "Households"): rosters, and the two requests of pairing.

/// One signed change to a household's roster: a box added or removed, by a member whose key signed it. A roster holds
/// the latest record of each box that was ever in it; a removal stays as a tombstone, so that an older roster that
/// still lists the box cannot bring it back.
public struct RosterRecord: Sendable, Codable, Equatable {
    public enum Action: String, Sendable, Codable {
        case add, remove
    }

    /// The peer id of the box added or removed.
    public var subject: String
    /// Its friendly name when it was added (shown only).
    public var name: String
    public var action: Action
    /// Counts the changes to this subject: a record replaces one of a lower generation; at the same generation a
    /// removal wins (two members acted on the same box without seeing each other's change).
    public var generation: Int
    /// The peer id of the member that made the change; its key is ``authorKey``.
    public var author: String
    /// The author's P-256 public key, SubjectPublicKeyInfo DER in base64: its peer id must be ``author``.
    public var authorKey: String
    /// ECDSA P-256 SHA-256 over the record's fields and the household id, raw (r ‖ s) in base64.
    public var signature: String

    public init(
        subject: String, name: String, action: Action, generation: Int, author: String, authorKey: String,
        signature: String
    ) {
        self.subject = subject
        self.name = name
        self.action = action
        self.generation = generation
        self.author = author
        self.authorKey = authorKey
        self.signature = signature
    }
}

/// A household's roster as it travels and as `state_dir/household` keeps it.
public struct RosterDocument: Sendable, Codable, Equatable {
    /// 16 lowercase hex digits, made by the box that founded the household; announced in TXT `h`.
    public var household: String
    public var records: [RosterRecord]

    public init(household: String, records: [RosterRecord]) {
        self.household = household
        self.records = records
    }
}

/// `POST /v1/household/pairing/hello`: a box that was given a pairing code asks the member for its nonce.
public struct PairingHello: Sendable, Codable, Equatable {
    /// 32 random bytes, hex.
    public var joinerNonce: String
    /// The joiner's friendly name, for the roster.
    public var name: String

    public init(joinerNonce: String, name: String) {
        self.joinerNonce = joinerNonce
        self.name = name
    }
}

/// The member's answer to a ``PairingHello``.
public struct PairingChallenge: Sendable, Codable, Equatable {
    /// 32 random bytes, hex.
    public var memberNonce: String

    public init(memberNonce: String) {
        self.memberNonce = memberNonce
    }
}

/// `POST /v1/household/pairing/proof`: the joiner proves it knows the code.
public struct PairingProof: Sendable, Codable, Equatable {
    /// HMAC-SHA256 keyed with the code over both proven ids and both nonces (role `joiner`), hex.
    public var proof: String

    public init(proof: String) {
        self.proof = proof
    }
}

/// The member's answer to a right ``PairingProof``: its own proof (role `member`), and the roster now listing the
/// joiner.
public struct PairingWelcome: Sendable, Codable, Equatable {
    public var proof: String
    public var roster: RosterDocument

    public init(proof: String, roster: RosterDocument) {
        self.proof = proof
        self.roster = roster
    }
}

/// `POST /v1/household/removed`: a member tells a box it removed that it is out (the box checks the signed
/// removal in the roster before it believes it).
public struct RemovalNotice: Sendable, Codable, Equatable {
    public var roster: RosterDocument

    public init(roster: RosterDocument) {
        self.roster = roster
    }
}
