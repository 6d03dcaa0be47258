/// Philox4x32-10, the counter-based random generator of Salmon, Moraes, Dror and Shaw,
/// "Parallel Random Numbers: As Easy as 1, 2, 3" (SC 2011), as in the Random123 library.
/// It is the project's one source of randomness: the same seed gives the same numbers on every
/// machine, because everything, including the logarithm and sine/cosine used for normal samples,
/// is computed with IEEE-754 basic operations only (no libm, no Foundation randomness).
///
/// Stream layout (following cuRAND's `curand_init(seed, subsequence, offset)`): the 64-bit
/// key is `seed` (low word first); the 128-bit counter is `(block low, block high, stream low,
/// stream high)`. Each counter value gives one block of four 32-bit words, consumed in order.
/// So seed 0, stream 0 starts with Random123's known answer for counter 0, key 0.
///
/// Independent streams: `Philox(seed:stream:)` or `forked(stream:)` give non-overlapping
/// sequences for per-frame noise or per-worker shuffling; `advance(by:)` skips ahead in O(1).
/// A stream's position is a 64-bit word count, so each stream yields 2^64 words (blocks
/// 0..<2^62) before it wraps around.
public struct Philox: RandomNumberGenerator, Sendable, Equatable {
    /// The key (seed) of this generator.
    public let seed: UInt64
    /// The stream id (the high 64 bits of the counter).
    public let stream: UInt64
    /// How many 32-bit words this generator has produced (or skipped) so far, modulo 2^64.
    public private(set) var offset: UInt64 = 0

    private var cachedBlock: UInt64 = 0
    private var hasCache = false
    private var w0: UInt32 = 0, w1: UInt32 = 0, w2: UInt32 = 0, w3: UInt32 = 0

    /// A generator for `seed` on stream `stream` (default 0), at offset 0.
    public init(seed: UInt64, stream: UInt64 = 0) {
        self.seed = seed
        self.stream = stream
    }

    /// Two generators are equal when they will produce the same words: same seed, stream and
    /// offset (the cached block does not matter).
    public static func == (a: Philox, b: Philox) -> Bool {
        a.seed == b.seed && a.stream == b.stream && a.offset == b.offset
    }

    /// A fresh generator with the same seed on another stream, at offset 0 (independent of how
    /// far `self` has advanced).
    public func forked(stream: UInt64) -> Philox {
        Philox(seed: seed, stream: stream)
    }

    /// Skips `words` 32-bit outputs in O(1), as if `nextUInt32()` had been called that many times.
    public mutating func advance(by words: UInt64) {
        offset &+= words
    }

    /// Philox4x32-10 applied to one counter and key: ten rounds of the Philox S-box with the
    /// Weyl key schedule (multipliers 0xD2511F53, 0xCD9E8D57; key increments 0x9E3779B9,
    /// 0xBB67AE85). Exposed for known-answer tests.
    @inlinable
    public static func block(counter: (UInt32, UInt32, UInt32, UInt32), key: (UInt32, UInt32))
        -> (UInt32, UInt32, UInt32, UInt32)
    {
        var (c0, c1, c2, c3) = counter
        var (k0, k1) = key
        for round in 0..<10 {
            if round > 0 {
                k0 &+= 0x9E37_79B9
                k1 &+= 0xBB67_AE85
            }
            let p0 = UInt64(0xD251_1F53) &* UInt64(c0)
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c2)
            let hi0 = UInt32(truncatingIfNeeded: p0 >> 32), lo0 = UInt32(truncatingIfNeeded: p0)
            let hi1 = UInt32(truncatingIfNeeded: p1 >> 32), lo1 = UInt32(truncatingIfNeeded: p1)
            (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
        }
        return (c0, c1, c2, c3)
    }

    /// The next 32 random bits.
    public mutating func nextUInt32() -> UInt32 {
        let word = wordAt(offset)
        offset &+= 1
        return word
    }

    /// The next 64 random bits: two 32-bit words, the first in the low half.
    public mutating func nextUInt64() -> UInt64 {
        let lo = UInt64(nextUInt32())
        let hi = UInt64(nextUInt32())
        return hi << 32 | lo
    }

    /// `RandomNumberGenerator` conformance; the same as `nextUInt64()`.
    public mutating func next() -> UInt64 { nextUInt64() }

    /// The word at position `position` of this stream (block `position / 4`, lane `position % 4`).
    mutating func wordAt(_ position: UInt64) -> UInt32 {
        let block = position >> 2
        if !hasCache || block != cachedBlock {
            let key = (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
            let counter = (UInt32(truncatingIfNeeded: block), UInt32(truncatingIfNeeded: block >> 32),
                           UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32))
            (w0, w1, w2, w3) = Philox.block(counter: counter, key: key)
            cachedBlock = block
            hasCache = true
        }
        switch position & 3 {
        case 0: return w0
        case 1: return w1
        case 2: return w2
        default: return w3
        }
    }

    /// One uniform `Float` in [0, 1): the top 24 bits of one 32-bit word times 2^-24, so every
    /// value is a multiple of 2^-24 and all of them are equally likely.
    public mutating func uniformFloat() -> Float {
        Float(nextUInt32() >> 8) * 0x1p-24
    }

    /// `count` uniform `Float`s in [0, 1), one 32-bit word each (see `uniformFloat()`).
    public mutating func uniform(count: Int) -> [Float] {
        precondition(count >= 0, "uniform(count:) needs count >= 0, got \(count)")
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            withWords(count) { words, start in
                for i in 0..<words.count { out[start + i] = Float(words[i] >> 8) * 0x1p-24 }
            }
            initialized = count
        }
    }

    /// Feeds the next `count` words to `body` in chunks of at most 4096, with each chunk's index
    /// in the whole sequence. Whole blocks are computed straight into the chunk.
    private mutating func withWords(_ count: Int, _ body: (UnsafeBufferPointer<UInt32>, Int) -> Void) {
        let chunk = 4096
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: chunk) { buffer in
            var done = 0
            while done < count {
                let n = min(chunk, count - done)
                fill(UnsafeMutableBufferPointer(rebasing: buffer[0..<n]))
                body(UnsafeBufferPointer(rebasing: buffer[0..<n]), done)
                done += n
            }
        }
    }

    /// Fills `buffer` with the next `buffer.count` words, exactly as repeated `nextUInt32()`.
    private mutating func fill(_ buffer: UnsafeMutableBufferPointer<UInt32>) {
        let n = buffer.count
        var i = 0
        while i < n && offset & 3 != 0 {
            buffer[i] = nextUInt32()
            i += 1
        }
        let key = (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        let s0 = UInt32(truncatingIfNeeded: stream), s1 = UInt32(truncatingIfNeeded: stream >> 32)
        while n - i >= 4 {
            let block = offset >> 2
            let w = Philox.block(counter: (UInt32(truncatingIfNeeded: block), UInt32(truncatingIfNeeded: block >> 32), s0, s1),
                                 key: key)
            buffer[i] = w.0
            buffer[i + 1] = w.1
            buffer[i + 2] = w.2
            buffer[i + 3] = w.3
            i += 4
            offset &+= 4
        }
        while i < n {
            buffer[i] = nextUInt32()
            i += 1
        }
    }

    /// `count` normal samples with the given mean and standard deviation, by the Box-Muller
    /// transform in pairs. Each pair takes two 32-bit words a, b:
    /// u1 = (a + 0.5) / 2^32 in (0, 1), u2 = b / 2^32 in [0, 1), r = sqrt(-2 ln u1),
    /// θ = 2π u2, and the pair is (r cos θ, r sin θ), cosine first. For an odd `count` the last
    /// sine is dropped (its words are still consumed). Computed in Double with the deterministic
    /// `ln`, `sin`, `cos` of `DeterministicMath`, then `mean + std * z` is rounded once to Float.
    public mutating func normal(count: Int, mean: Float = 0, std: Float = 1) -> [Float] {
        precondition(count >= 0, "normal(count:) needs count >= 0, got \(count)")
        let m = Double(mean), s = Double(std)
        let pairs = (count + 1) / 2
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            withWords(2 * pairs) { words, start in
                // Chunks hold an even number of words, so pairs never straddle two chunks.
                for p in 0..<(words.count / 2) {
                    let (z0, z1) = Philox.boxMuller(words[2 * p], words[2 * p + 1])
                    let index = start + 2 * p
                    out[index] = Float(m + s * z0)
                    if index + 1 < count { out[index + 1] = Float(m + s * z1) }
                }
            }
            initialized = count
        }
    }

    /// One Box-Muller pair of standard normals (see `normal(count:mean:std:)`).
    public mutating func nextNormalPair() -> (Double, Double) {
        Philox.boxMuller(nextUInt32(), nextUInt32())
    }

    /// The Box-Muller pair (r cos θ, r sin θ) for words a, b (see `normal(count:mean:std:)`).
    static func boxMuller(_ a: UInt32, _ b: UInt32) -> (Double, Double) {
        let u1 = (Double(a) + 0.5) * 0x1p-32
        let r = (-2 * DeterministicMath.log(u1)).squareRoot()
        let (sine, cosine) = DeterministicMath.sinCos(turns: b)
        return (r * cosine, r * sine)
    }

    /// A uniform integer in 0..<n without bias: Lemire's multiply-shift on one 64-bit draw, with
    /// rejection when the low half falls below 2^64 mod n (rare).
    public mutating func nextInt(below n: Int) -> Int {
        precondition(n > 0, "nextInt(below:) needs n > 0, got \(n)")
        let bound = UInt64(n)
        var m = nextUInt64().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold {
                m = nextUInt64().multipliedFullWidth(by: bound)
            }
        }
        return Int(m.high)
    }

    /// Shuffles `collection` in place with Fisher-Yates: for i from the last index down to 1,
    /// swap element i with element `nextInt(below: i + 1)`. Deterministic for a given generator
    /// state, unlike the standard library's `shuffle(using:)` whose algorithm may change.
    public mutating func shuffle<C: MutableCollection & RandomAccessCollection>(_ collection: inout C) {
        let n = collection.count
        guard n > 1 else { return }
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = nextInt(below: i + 1)
            if j != i {
                collection.swapAt(collection.index(collection.startIndex, offsetBy: i),
                                  collection.index(collection.startIndex, offsetBy: j))
            }
        }
    }

    /// A random permutation of 0..<count (`shuffle` applied to `Array(0..<count)`).
    public mutating func permutation(count: Int) -> [Int] {
        precondition(count >= 0, "permutation(count:) needs count >= 0, got \(count)")
        var p = Array(0..<count)
        shuffle(&p)
        return p
    }
}

/// Natural logarithm and sine/cosine from IEEE-754 basic operations only (+, -, *, /, sqrt) in
/// a fixed order, so that results are bit-identical on every platform, unlike libm whose last
/// bits differ between glibc, Darwin and musl. Accuracy is within a few ulps of Double, which
/// is far below Float's resolution where `Philox.normal` uses them.
public enum DeterministicMath {
    /// ln(x) for positive, finite, normal `x` (the only inputs Box-Muller needs). Writes
    /// x = m * 2^k with m in [sqrt(1/2), sqrt(2)), then ln m = 2 atanh(s), s = (m-1)/(m+1), by
    /// its odd series to s^25 (|s| <= 0.172, truncation error below 1e-19), plus k ln 2 with
    /// ln 2 split in two parts (fdlibm's constants) so that k * ln2Hi is exact.
    public static func log(_ x: Double) -> Double {
        precondition(x > 0 && x.isFinite && x.isNormal, "DeterministicMath.log needs a positive normal number, got \(x)")
        let bits = x.bitPattern
        var k = Int((bits >> 52) & 0x7FF) - 1023
        var m = Double(bitPattern: (bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000)  // [1, 2)
        if m > 1.4142135623730951 {
            m *= 0.5
            k += 1
        }
        let s = (m - 1) / (m + 1)
        let s2 = s * s
        // Horner evaluation of 1 + s2/3 + s2^2/5 + ... + s2^12/25. The reciprocals are quotients
        // of exact constants, so they are the same correctly rounded Doubles everywhere.
        var p = 1.0 / 25.0
        p = p * s2 + 1.0 / 23.0
        p = p * s2 + 1.0 / 21.0
        p = p * s2 + 1.0 / 19.0
        p = p * s2 + 1.0 / 17.0
        p = p * s2 + 1.0 / 15.0
        p = p * s2 + 1.0 / 13.0
        p = p * s2 + 1.0 / 11.0
        p = p * s2 + 1.0 / 9.0
        p = p * s2 + 1.0 / 7.0
        p = p * s2 + 1.0 / 5.0
        p = p * s2 + 1.0 / 3.0
        p = p * s2 + 1.0
        let ln2Hi = 6.93147180369123816490e-01  // 0x3FE62E42_FEE00000: trailing zeros
        let ln2Lo = 1.90821492927058770002e-10
        let kd = Double(k)
        return kd * ln2Hi + (2 * s * p + kd * ln2Lo)
    }

    /// (sin θ, cos θ) for θ = 2π · turns / 2^32. The quadrant comes from the top two bits and the
    /// rest is reduced exactly to g in [-1/2, 1/2) quarter turns, r = g · π/2 in [-π/4, π/4);
    /// sin r and cos r use their Taylor series to r^19 and r^20 (truncation error below 1e-19), then the
    /// quadrant rotates the pair.
    public static func sinCos(turns: UInt32) -> (sin: Double, cos: Double) {
        var quadrant = turns >> 30
        var g = Double(turns & 0x3FFF_FFFF) * 0x1p-30  // fraction of a quarter turn, exact
        if g >= 0.5 {
            g -= 1  // exact
            quadrant = (quadrant + 1) & 3
        }
        let r = g * 1.5707963267948966
        let r2 = r * r
        // sin r = r (1 - r2/(2·3) (1 - r2/(4·5) (1 - ...))), nested from the r^19 term.
        var sp = 1.0
        sp = 1 - r2 * (1.0 / 18.0 / 19.0) * sp
        sp = 1 - r2 * (1.0 / 16.0 / 17.0) * sp
        sp = 1 - r2 * (1.0 / 14.0 / 15.0) * sp
        sp = 1 - r2 * (1.0 / 12.0 / 13.0) * sp
        sp = 1 - r2 * (1.0 / 10.0 / 11.0) * sp
        sp = 1 - r2 * (1.0 / 8.0 / 9.0) * sp
        sp = 1 - r2 * (1.0 / 6.0 / 7.0) * sp
        sp = 1 - r2 * (1.0 / 4.0 / 5.0) * sp
        sp = 1 - r2 * (1.0 / 2.0 / 3.0) * sp
        let sine = r * sp
        // cos r = 1 - r2/(1·2) (1 - r2/(3·4) (1 - ...)), nested from the r^20 term.
        var cp = 1.0
        cp = 1 - r2 * (1.0 / 19.0 / 20.0) * cp
        cp = 1 - r2 * (1.0 / 17.0 / 18.0) * cp
        cp = 1 - r2 * (1.0 / 15.0 / 16.0) * cp
        cp = 1 - r2 * (1.0 / 13.0 / 14.0) * cp
        cp = 1 - r2 * (1.0 / 11.0 / 12.0) * cp
        cp = 1 - r2 * (1.0 / 9.0 / 10.0) * cp
        cp = 1 - r2 * (1.0 / 7.0 / 8.0) * cp
        cp = 1 - r2 * (1.0 / 5.0 / 6.0) * cp
        cp = 1 - r2 * (1.0 / 3.0 / 4.0) * cp
        cp = 1 - r2 * (1.0 / 1.0 / 2.0) * cp
        let cosine = cp
        switch quadrant {
        case 0: return (sine, cosine)
        case 1: return (cosine, -sine)
        case 2: return (-sine, -cosine)
        default: return (-cosine, sine)
        }
    }
}
