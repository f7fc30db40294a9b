import BoxIdentity
import Crypto
import Foundation
import PeerWire

/// A household's roster: the latest signed record of every box that was ever in it (``RosterRecord``), one per box.
///
/// Rosters merge as a join: for each box the record of the highest generation wins, a removal winning at equal
/// generations, so any two members that have seen the same records hold the same roster whatever the order they
/// saw them in, and a removed box cannot come back through a roster older than its removal. Only signed records
/// whose authors are members are taken (``merge(_:from:)``).
public struct Roster: Sendable, Equatable {
    public let householdID: String
    /// The latest record of each box, by peer id.
    public private(set) var records: [String: RosterRecord]

    /// At most this many records, tombstones included: far more boxes than a home holds, so a roster stays a few
    /// tens of KiB whatever a member sends.
    public static let maxRecords = 256
    /// Names are shown only: cut to this many bytes of UTF-8.
    public static let maxNameBytes = 255

    /// A new household of one: `founder`, who adds itself.
    public static func found(by founder: BoxIdentity, name: String) -> Roster {
        var roster = Roster(householdID: Self.newHouseholdID(), records: [:])
        let record = RosterSigning.sign(
            household: roster.householdID, subject: founder.peerID, name: name, action: .add, generation: 1,
            by: founder)
        roster.records[founder.peerID] = record
        return roster
    }

    init(householdID: String, records: [String: RosterRecord]) {
        self.householdID = householdID
        self.records = records
    }

    /// The roster `document` describes, with every record checked: its signature, its author's key, and that its
    /// author is a member in the roster itself (the founder adds itself). A joiner takes the roster of the member
    /// that proved the pairing code this way, and a box reads its own file so.
    public init(verifying document: RosterDocument) throws(HouseholdError) {
        guard Self.isHouseholdID(document.household) else {
            throw .invalidRoster("the household id is not 16 lowercase hex digits")
        }
        guard document.records.count <= Self.maxRecords else {
            throw .invalidRoster("more than \(Self.maxRecords) records")
        }
        var records: [String: RosterRecord] = [:]
        for record in document.records {
            try RosterSigning.verify(record, household: document.household)
            guard records[record.subject] == nil else {
                throw .invalidRoster("two records for \(record.subject)")
            }
            records[record.subject] = record
        }
        let roster = Roster(householdID: document.household, records: records)
        for record in document.records where !roster.isMember(record.author) && record.author != record.subject {
            // A record by a box that is no longer a member stays valid if it was made while it was one: it can be
            // told apart only by the author's own record, which must then be a removal made after it.
            guard let authorRecord = records[record.author], authorRecord.action == .remove else {
                throw .invalidRoster("\(record.subject)'s record is signed by \(record.author), who was never a member")
            }
        }
        self = roster
    }

    public var document: RosterDocument {
        RosterDocument(
            household: householdID, records: records.values.sorted { $0.subject < $1.subject })
    }

    /// The member ids and names, by id.
    public var members: [String: String] {
        records.values.filter { $0.action == .add }.reduce(into: [:]) { $0[$1.subject] = $1.name }
    }

    public func isMember(_ peerID: String) -> Bool {
        records[peerID]?.action == .add
    }

    /// Moves whenever the roster changes: the sum of its records' generations, and a digest of them, so that two
    /// rosters with the same sum but different records still differ. Announced, and compared by members, who pull
    /// a roster whose tag differs from their own.
    public var tag: String {
        let version = records.values.reduce(0) { $0 + $1.generation }
        var hasher = SHA256()
        for record in records.values.sorted(by: { $0.subject < $1.subject }) {
            hasher.update(data: Data("\(record.subject) \(record.action.rawValue) \(record.generation)\n".utf8))
        }
        let digest = hasher.finalize().prefix(4).map { String(format: "%02x", $0) }.joined()
        return "\(version)-\(digest)"
    }

    /// `member` adds (or adds again, after a removal) the box `subject`.
    public mutating func add(_ subject: String, name: String, by member: BoxIdentity) throws(HouseholdError) {
        guard isMember(member.peerID) else { throw .notAMember(member.peerID) }
        guard PeerKeyID.isWellFormed(subject) else { throw .invalidRoster("\(subject) is not a peer id") }
        if isMember(subject) { return }
        guard records[subject] != nil || records.count < Self.maxRecords else {
            throw .full(Self.maxRecords)
        }
        records[subject] = RosterSigning.sign(
            household: householdID, subject: subject, name: name, action: .add,
            generation: (records[subject]?.generation ?? 0) + 1, by: member)
    }

    /// `member` removes `subject` (itself, to leave). The record stays, as a tombstone.
    public mutating func remove(_ subject: String, by member: BoxIdentity) throws(HouseholdError) {
        guard isMember(member.peerID) else { throw .notAMember(member.peerID) }
        guard let current = records[subject], current.action == .add else { throw .notAMember(subject) }
        records[subject] = RosterSigning.sign(
            household: householdID, subject: subject, name: current.name, action: .remove,
            generation: current.generation + 1, by: member)
    }

    /// Takes in what `document`, sent by the box `sender`, knows that this roster does not.
    ///
    /// Refused whole when `sender` is not a member here, the document is of another household, or any record is
    /// unsigned, forged or too many. Records whose author is not a member (here, or through a record taken in the
    /// same merge) are left out. Returns whether anything changed.
    @discardableResult
    public mutating func merge(_ document: RosterDocument, from sender: String) throws(HouseholdError) -> Bool {
        guard isMember(sender) else { throw .notAMember(sender) }
        guard document.household == householdID else {
            throw .invalidRoster("the roster is of household \(document.household), not \(householdID)")
        }
        guard document.records.count <= Self.maxRecords else {
            throw .invalidRoster("more than \(Self.maxRecords) records")
        }
        for record in document.records {
            try RosterSigning.verify(record, household: householdID)
        }
        var merged = records
        var pending = document.records.filter { record in
            guard let current = merged[record.subject] else { return true }
            return Self.supersedes(record, current)
        }
        // An author is believed once it is a member: here, or through a record of this merge signed by one.
        var progressed = true
        while progressed {
            progressed = false
            for (index, record) in pending.enumerated().reversed() where merged[record.author]?.action == .add {
                if let current = merged[record.subject], !Self.supersedes(record, current) {
                    pending.remove(at: index)
                    continue
                }
                merged[record.subject] = record
                pending.remove(at: index)
                progressed = true
            }
        }
        guard merged.count <= Self.maxRecords else { throw .full(Self.maxRecords) }
        let changed = merged != records
        records = merged
        return changed
    }

    /// Whether `record` replaces `current` (of the same subject): a higher generation, or a removal at the same one.
    static func supersedes(_ record: RosterRecord, _ current: RosterRecord) -> Bool {
        if record.generation != current.generation { return record.generation > current.generation }
        return record.action == .remove && current.action == .add
    }

    static func newHouseholdID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    public static func isHouseholdID(_ text: String) -> Bool {
        text.utf8.count == 16 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

/// The signatures of roster records.
enum RosterSigning {
    static func sign(
        household: String, subject: String, name: String, action: RosterRecord.Action, generation: Int,
        by author: BoxIdentity
    ) -> RosterRecord {
        let name = bounded(name)
        var record = RosterRecord(
            subject: subject, name: name, action: action, generation: generation, author: author.peerID,
            authorKey: author.privateKey.publicKey.derRepresentation.base64EncodedString(), signature: "")
        // P-256 signing fails only on a broken key, which BoxIdentity never holds.
        let signature = try? author.privateKey.signature(for: signedBytes(record, household: household))
        record.signature = signature?.rawRepresentation.base64EncodedString() ?? ""
        return record
    }

    static func verify(_ record: RosterRecord, household: String) throws(HouseholdError) {
        guard PeerKeyID.isWellFormed(record.subject), PeerKeyID.isWellFormed(record.author) else {
            throw .invalidRoster("a record names something that is not a peer id")
        }
        guard record.generation >= 1, record.generation < Int(Int32.max) else {
            throw .invalidRoster("\(record.subject)'s record has generation \(record.generation)")
        }
        guard record.name.utf8.count <= Roster.maxNameBytes else {
            throw .invalidRoster("\(record.subject)'s name is longer than \(Roster.maxNameBytes) bytes")
        }
        guard record.authorKey.utf8.count <= 256, record.signature.utf8.count <= 256,
            let keyBytes = Data(base64Encoded: record.authorKey),
            let key = try? P256.Signing.PublicKey(derRepresentation: keyBytes),
            PeerKeyID.id(of: key) == record.author
        else {
            throw .invalidRoster("\(record.subject)'s record carries no key of its author \(record.author)")
        }
        guard let signatureBytes = Data(base64Encoded: record.signature),
            let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signatureBytes),
            key.isValidSignature(signature, for: signedBytes(record, household: household))
        else {
            throw .invalidRoster("\(record.subject)'s record is not signed by its author \(record.author)")
        }
    }

    /// What is signed: every field but the signature, and the household, so that a record cannot be moved to
    /// another household's roster.
    static func signedBytes(_ record: RosterRecord, household: String) -> Data {
        Data(
            ([
                "mediapeer roster record 1", household, record.subject, record.action.rawValue,
                String(record.generation), record.author, record.name,
            ]
            .joined(separator: "\n")).utf8)
    }

    /// At most ``Roster/maxNameBytes`` bytes, cut at a scalar boundary, without control characters.
    static func bounded(_ name: String) -> String {
        var result = ""
        var bytes = 0
        for scalar in name.unicodeScalars {
            let replaced: Unicode.Scalar =
                scalar.properties.generalCategory == .control ? "\u{FFFD}" : scalar
            let length = String(replaced).utf8.count
            guard bytes + length <= Roster.maxNameBytes else { break }
            result.unicodeScalars.append(replaced)
            bytes += length
        }
        return result
    }
}

/// Why a household change or message was refused; each says what to do.
public enum HouseholdError: Error, Equatable, CustomStringConvertible {
    case invalidRoster(String)
    case notAMember(String)
    case full(Int)

    public var description: String {
        switch self {
        case .invalidRoster(let reason): "the roster is not valid: \(reason)"
        case .notAMember(let id): "\(id) is not a member of the household"
        case .full(let limit): "the roster is full (\(limit) boxes, removed ones included)"
        }
    }
}
