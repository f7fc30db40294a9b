import Foundation

/// Steele, Lea and Flood's SplitMix64: a tiny generator whose whole state is one 64-bit word, so a run is replayed
/// from its printed seed on any machine (the system generator cannot be seeded).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// A uniform double in [0, 1) from the top 53 bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal deviate (Box–Muller; the second deviate is dropped to keep the state one word).
    public mutating func nextGaussian() -> Double {
        let first = max(nextUnit(), 0x1.0p-60)
        let second = nextUnit()
        return (-2 * log(first)).squareRoot() * cos(2 * Double.pi * second)
    }

    /// A Poisson deviate by Knuth's product of uniforms (fine for the small means a workload uses).
    public mutating func nextPoisson(mean: Double) -> Int {
        let limit = exp(-mean)
        var count = 0
        var product = nextUnit()
        while product > limit {
            count += 1
            product *= nextUnit()
        }
        return count
    }

    /// An independent generator for one part of the workload, so adding draws to one part leaves the others alone.
    public func derived(_ stream: UInt64) -> SplitMix64 {
        var mixer = SplitMix64(seed: state ^ (stream &* 0xD1B5_4A32_D192_ED03))
        return SplitMix64(seed: mixer.next())
    }
}
