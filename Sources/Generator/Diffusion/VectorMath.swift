// Element-wise arithmetic on flat Float arrays for the schedulers and samplers. Coefficients are
// computed in Double by the callers and applied here in Float, one pass per output, through
// unsafe buffers so the loops vectorise.

/// Internal helpers; not part of the public API.
enum VectorMath {
    /// Returns `a * x + b * y` element-wise.
    static func combine(_ a: Float, _ x: [Float], _ b: Float, _ y: [Float]) -> [Float] {
        precondition(x.count == y.count, "element-wise combine: counts differ (\(x.count) vs \(y.count))")
        return [Float](unsafeUninitializedCapacity: x.count) { out, initialized in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeBufferPointer { yp in
                    for i in 0..<xp.count { out[i] = a * xp[i] + b * yp[i] }
                }
            }
            initialized = x.count
        }
    }

    /// Returns `a * x + b * y + c * z` element-wise.
    static func combine(_ a: Float, _ x: [Float], _ b: Float, _ y: [Float], _ c: Float, _ z: [Float]) -> [Float] {
        precondition(x.count == y.count && x.count == z.count,
                     "element-wise combine: counts differ (\(x.count), \(y.count), \(z.count))")
        return [Float](unsafeUninitializedCapacity: x.count) { out, initialized in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeBufferPointer { yp in
                    z.withUnsafeBufferPointer { zp in
                        for i in 0..<xp.count { out[i] = a * xp[i] + b * yp[i] + c * zp[i] }
                    }
                }
            }
            initialized = x.count
        }
    }

    /// Returns `(x - b * y) / a` element-wise, the form diffusers uses to recover x0 from epsilon.
    static func subtractScaledThenDivide(_ x: [Float], _ b: Float, _ y: [Float], _ a: Float) -> [Float] {
        precondition(x.count == y.count, "element-wise combine: counts differ (\(x.count) vs \(y.count))")
        return [Float](unsafeUninitializedCapacity: x.count) { out, initialized in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeBufferPointer { yp in
                    for i in 0..<xp.count { out[i] = (xp[i] - b * yp[i]) / a }
                }
            }
            initialized = x.count
        }
    }

    /// Clamps every element to `[-limit, limit]`.
    static func clamp(_ x: [Float], _ limit: Float) -> [Float] {
        x.map { min(max($0, -limit), limit) }
    }

    /// Mean of squared differences, accumulated in Double.
    static func meanSquaredError(_ x: [Float], _ y: [Float]) -> Double {
        precondition(x.count == y.count, "mean squared error: counts differ (\(x.count) vs \(y.count))")
        guard !x.isEmpty else { return 0 }
        var sum = 0.0
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                for i in 0..<xp.count {
                    let d = Double(xp[i] - yp[i])
                    sum += d * d
                }
            }
        }
        return sum / Double(x.count)
    }
}
