import Foundation

/// Branch-free scalar math that LLVM vectorises inside loops (libm calls do not).
enum FastMath {
    /// e^x with about 1 ulp error over the Float range (Cephes expf polynomial with
    /// Cody–Waite range reduction); inputs are clamped to [-87.3, 88.7].
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        let xc = Swift.min(Swift.max(x, -87.3), 88.7)
        // n = round(x / ln 2) via the 1.5·2^23 magic constant (no rounding instruction needed).
        let magic: Float = 12582912
        let t = xc * 1.44269504088896341 + magic
        let n = t - magic
        let r = xc - n * 0.693359375 + n * 2.12194440e-4
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let er = p * r * r + r + 1
        let bits = (t.bitPattern &- magic.bitPattern &+ 127) << 23
        return er * Float(bitPattern: bits)
    }

    /// Logistic sigmoid 1 / (1 + e^-x).
    @inline(__always)
    static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    /// tanh(x) = 2σ(2x) − 1.
    @inline(__always)
    static func tanh(_ x: Float) -> Float { 2 / (1 + exp(-2 * x)) - 1 }

    /// erf(x), Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5e-7).
    @inline(__always)
    static func erf(_ x: Float) -> Float {
        let ax = Swift.abs(x)
        let t = 1 / (1 + 0.3275911 * ax)
        var y: Float = 1.061405429
        y = y * t - 1.453152027
        y = y * t + 1.421413741
        y = y * t - 0.284496736
        y = y * t + 0.254829592
        let v = 1 - y * t * exp(-ax * ax)
        return x < 0 ? -v : v
    }
}

extension FastMath {
    /// Maximum of `n` floats (−∞ for n = 0), 16 lanes at a time.
    @inline(__always)
    static func max(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        if let fast = VectorKernels.max(p, n) { return fast }
        var i = 0
        var m = -Float.infinity
        if n >= 16 {
            var acc = SIMD16<Float>(repeating: -.infinity)
            while i + 16 <= n {
                let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
                acc.replace(with: v, where: v .> acc)
                i += 16
            }
            for l in 0..<16 { m = acc[l] > m ? acc[l] : m }
        }
        while i < n {
            m = p[i] > m ? p[i] : m
            i += 1
        }
        return m
    }

    /// Sum of `n` floats with 16 independent lanes.
    @inline(__always)
    static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var i = 0
        var acc = SIMD16<Float>(repeating: 0)
        while i + 16 <= n {
            acc += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
            i += 16
        }
        var s = acc.sum()
        while i < n {
            s += p[i]
            i += 1
        }
        return s
    }

    /// Dot product of `n` floats with 16 independent lanes.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var i = 0
        var acc = SIMD16<Float>(repeating: 0)
        while i + 16 <= n {
            acc += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
            i += 16
        }
        var s = acc.sum()
        while i < n {
            s += a[i] * b[i]
            i += 1
        }
        return s
    }

    /// p[i] = e^(p[i] − shift) for i < n; returns the sum of the results.
    @inline(__always)
    @discardableResult
    static func expShift(_ p: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
        if let fast = VectorKernels.expShiftSum(p, n, shift: shift) { return fast }
        for i in 0..<n { p[i] = exp(p[i] - shift) }
        return sum(p, n)
    }

    /// Replaces row `p` (n floats) by softmax(p) in place; returns log Σ exp, or +∞ when every
    /// entry is −∞ (the row is then set to zeros).
    @inline(__always)
    @discardableResult
    static func softmaxInPlace(_ p: UnsafeMutablePointer<Float>, _ n: Int, logSumExp: Bool = true) -> Float {
        let m = max(p, n)
        if m == -Float.infinity {
            p.update(repeating: 0, count: n)
            return .infinity
        }
        let s = expShift(p, n, shift: m)
        let inv = 1 / s
        for i in 0..<n { p[i] *= inv }
        return logSumExp ? m + Foundation.log(s) : 0
    }
}
