/// The corpus's random number generator: SplitMix64 (Steele, Lea & Flood 2014, the seeding
/// generator of Java's `SplittableRandom`), implemented here so that a clip is a pure function of
/// its family and seed on every platform and Swift version (the standard library's generator is
/// not seedable). Floats are made from the top 24 bits, so they are exact and platform-independent.
public struct SceneRNG: RandomNumberGenerator, Sendable {
    /// The 64-bit state; advanced by the golden-ratio increment on every draw.
    public private(set) var state: UInt64

    /// Starts the sequence at `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// Starts an independent stream for `(seed, stream)`: used to give each family, and each
    /// frame's grain, its own sequence without the streams overlapping in practice.
    public init(seed: UInt64, stream: UInt64) {
        var mixer = SceneRNG(seed: stream &* 0xD6E8_FEB8_6659_FD93 ^ 0x5851_F42D_4C95_7F2D)
        state = seed ^ mixer.next()
        _ = next()
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform Float in [0, 1).
    public mutating func unit() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A uniform Float in [`low`, `high`).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * unit()
    }

    /// A uniform integer in 0..<`count` (`count` must be positive).
    public mutating func int(_ count: Int) -> Int {
        precondition(count > 0, "SceneRNG.int needs a positive count, got \(count)")
        return Int(next() % UInt64(count))
    }

    /// A uniform integer in the closed range.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + int(range.upperBound - range.lowerBound + 1)
    }

    /// True with probability `p`.
    public mutating func chance(_ p: Float) -> Bool {
        unit() < p
    }

    /// +1 or -1 with equal probability.
    public mutating func sign() -> Float {
        next() & 1 == 0 ? 1 : -1
    }

    /// One element of a non-empty array, uniformly.
    public mutating func pick<T>(_ items: [T]) -> T {
        items[int(items.count)]
    }
}
