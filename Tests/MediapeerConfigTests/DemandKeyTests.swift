import MediapeerConfig
import Testing

/// `demand_half_life`: how fast plays, fetches and served requests fade.
@Suite("Demand key")
struct DemandKeyTests {
    @Test func theDefaultHalfLifeIsSevenDays() throws {
        #expect(try parsed("").demandHalfLife == .seconds(7 * 86_400))
    }

    @Test(
        arguments: [
            (#"demand_half_life = "3d""#, Duration.seconds(3 * 86_400)),
            (#"demand_half_life = "12h""#, Duration.seconds(12 * 3600)),
            ("demand_half_life = 3600", Duration.seconds(3600)),
        ] as [(String, Duration)])
    func demandHalfLifeForms(text: String, halfLife: Duration) throws {
        #expect(try parsed(text).demandHalfLife == halfLife)
    }

    @Test func aHalfLifeOfZeroIsRejected() {
        #expect(
            messages(#"demand_half_life = "0""#) == [
                #"test.toml:1: demand_half_life: demand cannot fade in no time; give a duration such as "7d""#
            ])
    }
}
