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
