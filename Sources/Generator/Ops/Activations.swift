import Foundation

/// A scalar function with its derivative, specialised into the element-wise loops.
protocol UnaryKernel {
    /// f(x).
    static func forward(_ x: Float) -> Float
    /// f'(x) given x and y = f(x).
    static func derivative(_ x: Float, _ y: Float) -> Float
    /// Optional vectorised forward over a whole range; returns false to use `forward`.
    static func forwardBulk(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) -> Bool
    /// Optional vectorised backward gx = g·f′(x) over a range; returns false to use `derivative`.
    static func backwardBulk(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>, _ n: Int) -> Bool
}

extension UnaryKernel {
    @inline(__always) static func forwardBulk(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) -> Bool { false }
    @inline(__always) static func backwardBulk(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>, _ n: Int) -> Bool { false }
}

enum SiLUKernel: UnaryKernel {
    @inline(__always) static func forward(_ x: Float) -> Float { x / (1 + FastMath.exp(-x)) }
    @inline(__always) static func forwardBulk(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) -> Bool {
        VectorKernels.silu(x, y, n)
    }
    @inline(__always) static func backwardBulk(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>, _ n: Int) -> Bool {
        VectorKernels.siluBackward(x, g, gx, n)
    }
    @inline(__always) static func derivative(_ x: Float, _ y: Float) -> Float {
        let s = 1 / (1 + FastMath.exp(-x))
        return s + y * (1 - s)
    }
}

enum GELUKernel: UnaryKernel {
    @inline(__always) static func forward(_ x: Float) -> Float { 0.5 * x * (1 + FastMath.erf(x * 0.70710678118654752)) }
    @inline(__always) static func forwardBulk(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) -> Bool {
        VectorKernels.gelu(x, y, n)
    }
    @inline(__always) static func backwardBulk(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>, _ n: Int) -> Bool {
        VectorKernels.geluBackward(x, g, gx, n)
    }
    @inline(__always) static func derivative(_ x: Float, _ y: Float) -> Float {
        let cdf = 0.5 * (1 + FastMath.erf(x * 0.70710678118654752))
        let pdf = 0.39894228040143268 * FastMath.exp(-0.5 * x * x)
        return cdf + x * pdf
    }
}

enum ReLUKernel: UnaryKernel {
    @inline(__always) static func forward(_ x: Float) -> Float { Swift.max(x, 0) }
    @inline(__always) static func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : 0 }
}

enum SigmoidKernel: UnaryKernel {
    @inline(__always) static func forward(_ x: Float) -> Float { FastMath.sigmoid(x) }
    @inline(__always) static func derivative(_ x: Float, _ y: Float) -> Float { y * (1 - y) }
}

enum TanhKernel: UnaryKernel {
    @inline(__always) static func forward(_ x: Float) -> Float { FastMath.tanh(x) }
    @inline(__always) static func derivative(_ x: Float, _ y: Float) -> Float { 1 - y * y }
}

enum ExpKernel: UnaryKernel {
    @inline(__always) static func forward(_ x: Float) -> Float { FastMath.exp(x) }
    @inline(__always) static func derivative(_ x: Float, _ y: Float) -> Float { y }
}

enum LogKernel: UnaryKernel {
    @inline(__always) static func forward(_ x: Float) -> Float { Foundation.log(x) }
    @inline(__always) static func derivative(_ x: Float, _ y: Float) -> Float { 1 / x }
}

enum SqrtKernel: UnaryKernel {
    @inline(__always) static func forward(_ x: Float) -> Float { x.squareRoot() }
    @inline(__always) static func derivative(_ x: Float, _ y: Float) -> Float { 0.5 / y }
}

enum SquareKernel: UnaryKernel {
    @inline(__always) static func forward(_ x: Float) -> Float { x * x }
    @inline(__always) static func derivative(_ x: Float, _ y: Float) -> Float { 2 * x }
}

enum SinKernel: UnaryKernel {
    @inline(__always) static func forward(_ x: Float) -> Float { Foundation.sin(x) }
    @inline(__always) static func derivative(_ x: Float, _ y: Float) -> Float { Foundation.cos(x) }
}

enum CosKernel: UnaryKernel {
    @inline(__always) static func forward(_ x: Float) -> Float { Foundation.cos(x) }
    @inline(__always) static func derivative(_ x: Float, _ y: Float) -> Float { -Foundation.sin(x) }
}

extension Tensor {
    /// Applies kernel `K` element-wise, recording its derivative when needed.
    @inline(__always)
    func unary<K: UnaryKernel>(_: K.Type, _ op: StaticString) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        let px = ptr, py = out.ptr
        Parallel.forRange(count, grain: elementwiseGrain / 4) { r in
            if !K.forwardBulk(px + r.lowerBound, py + r.lowerBound, r.count) {
                for i in r { py[i] = K.forward(px[i]) }
            }
        }
        if Tensor.shouldRecord(self) {
            let x = detached(), y = out.detached()
            out.record(op, [self], [{ g in
                let gx = Tensor(uninitializedShape: x.shape)
                let pg = g.ptr, pxx = x.ptr, pyy = y.ptr, po = gx.ptr
                Parallel.forRange(x.count, grain: elementwiseGrain / 4) { r in
                    if !K.backwardBulk(pxx + r.lowerBound, pg + r.lowerBound, po + r.lowerBound, r.count) {
                        for i in r { po[i] = pg[i] * K.derivative(pxx[i], pyy[i]) }
                    }
                }
                return gx
            }])
        }
        return out
    }

    /// SiLU (swish): x · σ(x).
    public func silu() -> Tensor { unary(SiLUKernel.self, "silu") }
    /// GELU with the exact erf form: x · Φ(x) (erf to 1.5e-7 absolute).
    public func gelu() -> Tensor { unary(GELUKernel.self, "gelu") }
    /// max(x, 0).
    public func relu() -> Tensor { unary(ReLUKernel.self, "relu") }
    /// Logistic sigmoid.
    public func sigmoid() -> Tensor { unary(SigmoidKernel.self, "sigmoid") }
    /// Hyperbolic tangent.
    public func tanh() -> Tensor { unary(TanhKernel.self, "tanh") }
    /// e^x.
    public func exp() -> Tensor { unary(ExpKernel.self, "exp") }
    /// Natural logarithm.
    public func log() -> Tensor { unary(LogKernel.self, "log") }
    /// Square root.
    public func sqrt() -> Tensor { unary(SqrtKernel.self, "sqrt") }
    /// x².
    public func square() -> Tensor { unary(SquareKernel.self, "square") }
    /// sin(x) (radians).
    public func sin() -> Tensor { unary(SinKernel.self, "sin") }
    /// cos(x) (radians).
    public func cos() -> Tensor { unary(CosKernel.self, "cos") }
}
