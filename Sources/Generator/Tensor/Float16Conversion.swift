// Bit-exact conversions between Float (IEEE binary32) and the two 16-bit float formats that
// safetensors files carry: F16 (IEEE binary16) and BF16 (bfloat16, the top half of a binary32).
// Written with integer operations only, so the results are the same on every platform and do not
// depend on whether the compiler offers a `Float16` type.

/// Conversions between `Float` and the bit patterns of IEEE half precision (F16) and bfloat16
/// (BF16). Narrowing rounds to nearest, ties to even; infinities stay infinities, NaNs stay NaNs
/// (quiet, sign kept), and F16 subnormals are produced and read exactly.
public enum Float16Conversion {
    /// The F16 bit pattern nearest to `value` (round to nearest, ties to even). Values whose
    /// magnitude rounds above 65504 become infinity; values below half the smallest subnormal
    /// (2^-25) become a signed zero; NaN becomes a quiet NaN with the sign and the top payload bits.
    @inlinable
    public static func halfBits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF)
        let mantissa = bits & 0x7F_FFFF

        if exponent == 0xFF {
            // Infinity or NaN. NaN keeps its top 10 payload bits and is forced quiet.
            if mantissa == 0 { return sign | 0x7C00 }
            return sign | 0x7E00 | UInt16(truncatingIfNeeded: mantissa >> 13)
        }
        // Unbiased exponent of the binary32 value; binary16 normals cover [-14, 15].
        let e = exponent - 127
        if e > 15 { return sign | 0x7C00 }
        if e >= -14 {
            // Normal half: keep 10 mantissa bits, round the 13 dropped bits to nearest even.
            var half = UInt32((e + 15) << 10) | (mantissa >> 13)
            let dropped = mantissa & 0x1FFF
            if dropped > 0x1000 || (dropped == 0x1000 && (half & 1) == 1) {
                half += 1  // a carry into the exponent is correct, up to 0x7C00 = infinity
            }
            return sign | UInt16(truncatingIfNeeded: half)
        }
        // Subnormal half (or zero): value = m * 2^-24 with m in 0...1023 (1024 rounds up to the
        // smallest normal). The binary32 significand with its implicit bit is shifted right.
        if e < -25 { return sign }  // below 2^-25: rounds to zero (2^-25 itself ties to 0, even)
        let significand = mantissa | 0x80_0000  // exponent == 0 cannot reach here (e >= -25)
        let shift = UInt32(-e - 14 + 13)  // 14...24
        var half = significand >> shift
        let dropped = significand & ((1 << shift) - 1)
        let halfway = UInt32(1) << (shift - 1)
        if dropped > halfway || (dropped == halfway && (half & 1) == 1) {
            half += 1
        }
        return sign | UInt16(truncatingIfNeeded: half)
    }

    /// The exact `Float` value of an F16 bit pattern (every binary16 value is representable).
    @inlinable
    public static func float(fromHalfBits h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0x1F {
            // Infinity or NaN (payload kept in the top mantissa bits).
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        if exponent != 0 {
            return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
        }
        if mantissa == 0 { return Float(bitPattern: sign) }
        // Subnormal: normalise the mantissa. value = mantissa * 2^-24.
        var m = mantissa
        var e: UInt32 = 113  // biased binary32 exponent of 2^-14
        while m & 0x400 == 0 {
            m <<= 1
            e -= 1
        }
        return Float(bitPattern: sign | (e << 23) | ((m & 0x3FF) << 13))
    }

    /// The BF16 bit pattern nearest to `value` (round to nearest, ties to even on the 16 dropped
    /// bits). Overflow past the largest BF16 finite value becomes infinity; NaN becomes a quiet NaN
    /// with its sign and top payload bits.
    @inlinable
    public static func bfloat16Bits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if bits & 0x7F80_0000 == 0x7F80_0000 && bits & 0x7F_FFFF != 0 {
            return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040
        }
        let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    /// The exact `Float` value of a BF16 bit pattern.
    @inlinable
    public static func float(fromBFloat16Bits b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }
}
