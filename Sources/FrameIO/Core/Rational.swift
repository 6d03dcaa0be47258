/// A rational number such as a frame rate (30000/1001) or a time base (1/90000).
public struct Rational: Sendable, Codable, Hashable, CustomStringConvertible {
    /// Numerator.
    public var num: Int32
    /// Denominator (positive for a valid value).
    public var den: Int32

    /// Creates `num/den`.
    public init(_ num: Int32, _ den: Int32) {
        self.num = num
        self.den = den
    }

    /// The value as a Double (`nan` when the denominator is 0).
    public var doubleValue: Double { den == 0 ? .nan : Double(num) / Double(den) }

    /// The reciprocal `den/num`.
    public var inverted: Rational { Rational(den, num) }

    /// `num/den`, or just `num` when `den == 1`.
    public var description: String { den == 1 ? "\(num)" : "\(num)/\(den)" }

    /// Parses "30", "30000/1001" or "29.97" (decimals become a /1000 or /1001 rational as FFmpeg
    /// does for the NTSC rates). Returns nil for anything else or a non-positive value.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 2, let n = Int32(parts[0]), let d = Int32(parts[1]), n > 0, d > 0 {
            self.init(n, d)
            return
        }
        guard parts.count == 1, let value = Double(text), value > 0, value.isFinite, value < 1_000_000 else { return nil }
        if value.rounded() == value {
            self.init(Int32(value), 1)
        } else {
            let ntsc = value * 1001 / 1000
            if abs(ntsc.rounded() - ntsc) < 1e-3 {
                self.init(Int32(ntsc.rounded()) * 1000, 1001)
            } else {
                self.init(Int32((value * 1000).rounded()), 1000)
            }
        }
    }
}
