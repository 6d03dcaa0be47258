import Foundation

/// A scalar binary function, specialised into the broadcast loops (no per-element closures).
protocol BinaryKernel {
    static func apply(_ a: Float, _ b: Float) -> Float
}

enum AddKernel: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a + b } }
enum SubKernel: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a - b } }
enum MulKernel: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a * b } }
enum DivKernel: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a / b } }

/// Element count per parallel chunk for cheap element-wise loops.
let elementwiseGrain = 1 << 15

/// Runs `K` over broadcast operands into a new tensor.
@inline(__always)
func broadcastBinary<K: BinaryKernel>(_ a: Tensor, _ b: Tensor, _: K.Type, op: String) -> Tensor {
    let pa = a.ptr, pb = b.ptr
    if a.shape == b.shape {
        let out = Tensor(uninitializedShape: a.shape)
        let po = out.ptr
        Parallel.forRange(a.count, grain: elementwiseGrain) { r in
            for i in r { po[i] = K.apply(pa[i], pb[i]) }
        }
        return out
    }
    let plan = BroadcastPlan(a.shape, b.shape, op: op)
    let out = Tensor(uninitializedShape: plan.outShape)
    let po = out.ptr
    let rows = plan.rows, inner = plan.inner
    let ia = plan.stridesA.last!, ib = plan.stridesB.last!
    Parallel.forRange(rows, grain: max(1, elementwiseGrain / max(inner, 1))) { range in
        for r in range {
            let (oa, ob) = plan.rowOffsets(r)
            let x = pa + oa, y = pb + ob, o = po + r * inner
            if ia == 1 && ib == 1 {
                for j in 0..<inner { o[j] = K.apply(x[j], y[j]) }
            } else if ia == 1 {
                let yv = y[0]
                for j in 0..<inner { o[j] = K.apply(x[j], yv) }
            } else if ib == 1 {
                let xv = x[0]
                for j in 0..<inner { o[j] = K.apply(xv, y[j]) }
            } else {
                let v = K.apply(x[0], y[0])
                for j in 0..<inner { o[j] = v }
            }
        }
    }
    return out
}

/// Applies `K` with a scalar right operand.
@inline(__always)
func scalarBinary<K: BinaryKernel>(_ a: Tensor, _ s: Float, _: K.Type) -> Tensor {
    let out = Tensor(uninitializedShape: a.shape)
    let pa = a.ptr, po = out.ptr
    Parallel.forRange(a.count, grain: elementwiseGrain) { r in
        for i in r { po[i] = K.apply(pa[i], s) }
    }
    return out
}

extension Tensor {
    /// Element-wise sum with broadcasting.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastBinary(a, b, AddKernel.self, op: "add")
        if shouldRecord(a, b) {
            let sa = a.shape, sb = b.shape
            out.record("add", [a, b], [
                a.requiresGrad ? { g in g.sumToShape(sa) } : nil,
                b.requiresGrad ? { g in g.sumToShape(sb) } : nil,
            ])
        }
        return out
    }

    /// Element-wise difference with broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastBinary(a, b, SubKernel.self, op: "sub")
        if shouldRecord(a, b) {
            let sa = a.shape, sb = b.shape
            out.record("sub", [a, b], [
                a.requiresGrad ? { g in g.sumToShape(sa) } : nil,
                b.requiresGrad ? { g in (-g).sumToShape(sb) } : nil,
            ])
        }
        return out
    }

    /// Element-wise product with broadcasting.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastBinary(a, b, MulKernel.self, op: "mul")
        if shouldRecord(a, b) {
            let sa = a.shape, sb = b.shape
            let da = a.detached(), db = b.detached()
            out.record("mul", [a, b], [
                a.requiresGrad ? { g in (g * db).sumToShape(sa) } : nil,
                b.requiresGrad ? { g in (g * da).sumToShape(sb) } : nil,
            ])
        }
        return out
    }

    /// Element-wise quotient with broadcasting.
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastBinary(a, b, DivKernel.self, op: "div")
        if shouldRecord(a, b) {
            let sa = a.shape, sb = b.shape
            let da = a.detached(), db = b.detached()
            out.record("div", [a, b], [
                a.requiresGrad ? { g in (g / db).sumToShape(sa) } : nil,
                b.requiresGrad ? { g in (-(g * da) / (db * db)).sumToShape(sb) } : nil,
            ])
        }
        return out
    }

    /// Adds a scalar.
    public static func + (a: Tensor, s: Float) -> Tensor {
        let out = scalarBinary(a, s, AddKernel.self)
        if shouldRecord(a) { out.record("addScalar", [a], [{ g in g }]) }
        return out
    }

    /// Adds a scalar.
    public static func + (s: Float, a: Tensor) -> Tensor { a + s }

    /// Subtracts a scalar.
    public static func - (a: Tensor, s: Float) -> Tensor { a + (-s) }

    /// Scalar minus tensor.
    public static func - (s: Float, a: Tensor) -> Tensor { (-a) + s }

    /// Multiplies by a scalar.
    public static func * (a: Tensor, s: Float) -> Tensor {
        let out = scalarBinary(a, s, MulKernel.self)
        if shouldRecord(a) { out.record("mulScalar", [a], [{ g in g * s }]) }
        return out
    }

    /// Multiplies by a scalar.
    public static func * (s: Float, a: Tensor) -> Tensor { a * s }

    /// Divides by a scalar.
    public static func / (a: Tensor, s: Float) -> Tensor { a * (1 / s) }

    /// Negation.
    public static prefix func - (a: Tensor) -> Tensor { a * -1 }

    /// Adds `other` (same element count) into this tensor's storage without recording
    /// gradients. Used for gradient accumulation and by optimizers.
    public func addInPlace(_ other: Tensor, scale: Float = 1) {
        precondition(other.count == count, "addInPlace: shapes \(shape) and \(other.shape) differ in size")
        let d = ptr, s = other.ptr
        Parallel.forRange(count, grain: elementwiseGrain) { r in
            if scale == 1 {
                for i in r { d[i] += s[i] }
            } else {
                for i in r { d[i] += scale * s[i] }
            }
        }
    }

    /// Multiplies this tensor's elements by `s` in place, without recording gradients.
    public func scaleInPlace(_ s: Float) {
        let d = ptr
        Parallel.forRange(count, grain: elementwiseGrain) { r in
            for i in r { d[i] *= s }
        }
    }
}
