import ElapsedTime
import Testing

@testable import Household

@Suite struct PairingCodeTests {
    @Test func aCodeIsTwentyFourBase32CharactersInGroups() throws {
        let code = PairingCode.make(for: "7b88c3a2cb6b218e0c3f35fcca328448")
        #expect(code.description.count == 29)
        #expect(code.description.split(separator: "-").count == 6)
        #expect(PairingCode(typed: code.description) == code)
        #expect(PairingCode(typed: code.description.lowercased().replacingOccurrences(of: "-", with: " ")) == code)
    }

    @Test func theFirstGroupTellsWhichBoxPrintedIt() {
        let code = PairingCode.make(for: "7b88c3a2cb6b218e0c3f35fcca328448")
        #expect(code.mayBeFrom("7b88c000000000000000000000000000"))
        #expect(!code.mayBeFrom("7b88d3a2cb6b218e0c3f35fcca328448"))
    }

    @Test func twoCodesDiffer() {
        #expect(
            PairingCode.make(for: "00000000000000000000000000000000")
                != PairingCode.make(for: "00000000000000000000000000000000"))
    }

    @Test func aMistypedCodeIsRefused() {
        #expect(PairingCode(typed: "ABCD-EFGH") == nil)
        #expect(PairingCode(typed: "ABCD-EFGH-IJKL-MNOP-QRST-UVW1") == nil)
    }
}

@Suite struct PairingDeskTests {
    let member = "7b88c3a2cb6b218e0c3f35fcca328448"
    let joiner = "0c3f35fcca3284487b88c3a2cb6b218e"
    let start = ElapsedInstant(.zero)

    /// The joiner's side of one exchange: hello, then its proof made with `typed`.
    func join(
        _ desk: inout PairingDesk, typed: PairingCode, at now: ElapsedInstant
    ) throws(PairingRefusal) -> (proof: [UInt8], memberNonce: [UInt8], joinerNonce: [UInt8]) {
        let (memberNonce, joinerNonce) = (PairingProofs.nonce(), PairingProofs.nonce())
        try desk.hello(from: joiner, joinerNonce: joinerNonce, memberNonce: memberNonce, at: now)
        let proof = PairingProofs.proof(
            .joiner, code: typed, memberID: member, joinerID: joiner, memberNonce: memberNonce,
            joinerNonce: joinerNonce)
        return (try desk.prove(from: joiner, proof: proof, memberID: member, at: now), memberNonce, joinerNonce)
    }

    @Test func theRightCodeJoinsAndBothSidesProveIt() throws {
        var desk = PairingDesk()
        let code = PairingCode.make(for: member)
        desk.open(code, at: start)
        let (memberProof, memberNonce, joinerNonce) = try join(&desk, typed: code, at: start + .seconds(30))
        #expect(
            PairingProofs.isValid(
                memberProof, .member, code: code, memberID: member, joinerID: joiner, memberNonce: memberNonce,
                joinerNonce: joinerNonce))
        #expect(desk.state == .used)
        #expect(!desk.isOpen(at: start + .seconds(30)))
    }

    @Test func aWrongCodeCountsAgainstTheCodeAndThreeMakeItVoid() throws {
        var desk = PairingDesk()
        let code = PairingCode.make(for: member)
        desk.open(code, at: start)
        let wrong = PairingCode.make(for: member)
        #expect(throws: PairingRefusal.wrongCode(triesLeft: 2)) { try join(&desk, typed: wrong, at: start) }
        #expect(throws: PairingRefusal.wrongCode(triesLeft: 1)) { try join(&desk, typed: wrong, at: start) }
        #expect(throws: PairingRefusal.wrongCode(triesLeft: 0)) { try join(&desk, typed: wrong, at: start) }
        #expect(throws: PairingRefusal.void) { try join(&desk, typed: code, at: start) }
    }

    @Test func anExpiredCodeIsRefused() throws {
        var desk = PairingDesk()
        let code = PairingCode.make(for: member)
        desk.open(code, at: start)
        #expect(desk.isOpen(at: start + PairingDesk.defaultValidity))
        #expect(!desk.isOpen(at: start + PairingDesk.defaultValidity + .seconds(1)))
        #expect(throws: PairingRefusal.expired) {
            try join(&desk, typed: code, at: start + PairingDesk.defaultValidity + .seconds(1))
        }
    }

    @Test func aUsedCodeIsRefused() throws {
        var desk = PairingDesk()
        let code = PairingCode.make(for: member)
        desk.open(code, at: start)
        _ = try join(&desk, typed: code, at: start)
        #expect(throws: PairingRefusal.used) { try join(&desk, typed: code, at: start) }
    }

    @Test func withoutAnOpenCodeNothingIsAccepted() {
        var desk = PairingDesk()
        #expect(throws: PairingRefusal.noCode) {
            try join(&desk, typed: PairingCode.make(for: member), at: start)
        }
    }

    @Test func aProofWithoutHelloIsRefused() {
        var desk = PairingDesk()
        desk.open(PairingCode.make(for: member), at: start)
        #expect(throws: PairingRefusal.noHello) {
            try desk.prove(from: joiner, proof: [UInt8](repeating: 0, count: 32), memberID: member, at: start)
        }
    }

    @Test func aProofIsBoundToBothBoxes() {
        let code = PairingCode.make(for: member)
        let nonces = (PairingProofs.nonce(), PairingProofs.nonce())
        let proof = PairingProofs.proof(
            .joiner, code: code, memberID: member, joinerID: joiner, memberNonce: nonces.0, joinerNonce: nonces.1)
        #expect(
            !PairingProofs.isValid(
                proof, .joiner, code: code, memberID: member, joinerID: member, memberNonce: nonces.0,
                joinerNonce: nonces.1))
        #expect(
            !PairingProofs.isValid(
                proof, .member, code: code, memberID: member, joinerID: joiner, memberNonce: nonces.0,
                joinerNonce: nonces.1))
    }
}
