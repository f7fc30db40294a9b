import ElapsedTime

/// The member side of pairing, as a pure state machine on instants it is given: the one open code, its expiry and
/// its tries, and the nonces handed to joiners.
///
/// One code is open at a time (a new `pair` replaces it). A code is good for ``validity`` from when it was printed,
/// for one join: a right proof uses it up, and ``maxTries`` wrong proofs make it void, so a device guessing online
/// gets three guesses at 2^100.
public struct PairingDesk: Sendable {
    public static let defaultValidity: Duration = .seconds(600)
    /// How long a code is good for after it was printed (tests shorten it).
    public let validity: Duration
    public static let maxTries = 3
    /// Joiners waiting between their hello and their proof, each with the nonce it was given; the oldest is
    /// forgotten beyond this.
    static let maxWaiting = 8

    public enum CodeState: Sendable, Equatable {
        case none
        case open(PairingCode, issuedAt: ElapsedInstant, triesLeft: Int)
        case used
        case void
    }

    public private(set) var state: CodeState = .none
    private var waiting: [(joiner: String, memberNonce: [UInt8], joinerNonce: [UInt8])] = []

    public init(validity: Duration = PairingDesk.defaultValidity) {
        self.validity = validity
    }

    /// Whether a code is open and unexpired at `now`.
    public func isOpen(at now: ElapsedInstant) -> Bool {
        guard case .open(_, let issuedAt, _) = state else { return false }
        return issuedAt.duration(to: now) <= validity
    }

    /// Opens `code` (replacing any open one).
    public mutating func open(_ code: PairingCode, at now: ElapsedInstant) {
        state = .open(code, issuedAt: now, triesLeft: Self.maxTries)
        waiting = []
    }

    /// A joiner said hello with its nonce: it is given `memberNonce` to prove the code with, if a code is open.
    public mutating func hello(
        from joiner: String, joinerNonce: [UInt8], memberNonce: [UInt8], at now: ElapsedInstant
    ) throws(PairingRefusal) {
        _ = try openCode(at: now)
        waiting.removeAll { $0.joiner == joiner }
        if waiting.count >= Self.maxWaiting { waiting.removeFirst() }
        waiting.append((joiner, memberNonce, joinerNonce))
    }

    /// A joiner's proof. Right: the code is used up, and the member's own proof is returned. Wrong: one try is
    /// counted against the code.
    public mutating func prove(
        from joiner: String, proof: [UInt8], memberID: String, at now: ElapsedInstant
    ) throws(PairingRefusal) -> [UInt8] {
        let (code, triesLeft) = try openCode(at: now)
        guard let pending = waiting.first(where: { $0.joiner == joiner }) else { throw .noHello }
        guard
            PairingProofs.isValid(
                proof, .joiner, code: code, memberID: memberID, joinerID: joiner, memberNonce: pending.memberNonce,
                joinerNonce: pending.joinerNonce)
        else {
            waiting.removeAll { $0.joiner == joiner }
            if triesLeft <= 1 {
                state = .void
                throw .wrongCode(triesLeft: 0)
            }
            if case .open(_, let issuedAt, _) = state {
                state = .open(code, issuedAt: issuedAt, triesLeft: triesLeft - 1)
            }
            throw .wrongCode(triesLeft: triesLeft - 1)
        }
        state = .used
        waiting = []
        return PairingProofs.proof(
            .member, code: code, memberID: memberID, joinerID: joiner, memberNonce: pending.memberNonce,
            joinerNonce: pending.joinerNonce)
    }

    private mutating func openCode(at now: ElapsedInstant) throws(PairingRefusal) -> (PairingCode, Int) {
        switch state {
        case .none: throw .noCode
        case .used: throw .used
        case .void: throw .void
        case .open(let code, let issuedAt, let triesLeft):
            // Left open: every later try is told the code expired, not that there is none.
            guard issuedAt.duration(to: now) <= validity else {
                waiting = []
                throw .expired
            }
            return (code, triesLeft)
        }
    }
}

/// Why a member refused a pairing step; each tells the person at the new box what to do.
public enum PairingRefusal: Error, Equatable, CustomStringConvertible {
    case noCode
    case expired
    case used
    case void
    case noHello
    case wrongCode(triesLeft: Int)

    public var description: String {
        switch self {
        case .noCode: "no pairing code is open on that box: run `mediapeerctl pair` there"
        case .expired: "the pairing code has expired (codes last 10 minutes): run `mediapeerctl pair` again"
        case .used: "the pairing code was already used: run `mediapeerctl pair` again for another box"
        case .void: "the pairing code is void after 3 wrong tries: run `mediapeerctl pair` again"
        case .noHello: "the pairing exchange was not started: run `mediapeerctl join` again"
        case .wrongCode(let triesLeft):
            triesLeft == 0
                ? "wrong pairing code; it is now void: run `mediapeerctl pair` again"
                : "wrong pairing code (\(triesLeft) \(triesLeft == 1 ? "try" : "tries") left): check it and join again"
        }
    }
}
