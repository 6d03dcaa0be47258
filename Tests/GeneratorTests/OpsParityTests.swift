import XCTest
@testable import Generator

/// Forward outputs and gradients against PyTorch (float64 reference, committed in
/// Fixtures/ops/ops.safetensors by Scripts/make_op_fixtures.py). Tolerances: outputs
/// rtol 1e-4 / atol 1e-5, gradients rtol 1e-3 / atol 1e-4.
final class OpsParityTests: XCTestCase {
    static var fixtures: [String: Tensor] = [:]

    override class func setUp() {
        super.setUp()
        fixtures = (try? FixtureFile.load("ops/ops.safetensors")) ?? [:]
    }

    func f(_ key: String, grad: Bool = false) -> Tensor {
        guard let t = Self.fixtures[key] else {
            XCTFail("fixture ops.safetensors lacks \(key)")
            return Tensor(0)
        }
        return grad ? t.copy().requiringGrad() : t
    }

    /// Runs `body` on the case's inputs, compares output and the gradients of `names`.
    func check(_ name: String, _ names: [String], _ body: ([Tensor]) -> Tensor, file: StaticString = #filePath, line: UInt = #line) {
        let inputs = names.map { f("\(name).\($0)", grad: true) }
        let out = body(inputs)
        let expected = f("\(name).out")
        XCTAssertEqual(out.count, expected.count, "\(name) output size", file: file, line: line)
        assertClose(out.toArray(), expected.toArray(), rtol: 1e-4, atol: 1e-5, "\(name) output", file: file, line: line)
        (out * f("\(name).gy").reshaped(out.shape)).sum().backward()
        for (n, t) in zip(names, inputs) {
            guard let g = t.grad else { XCTFail("\(name): no gradient for \(n)", file: file, line: line); continue }
            assertClose(g.toArray(), f("\(name).grad_\(n)").toArray(), rtol: 1e-3, atol: 1e-4, "\(name) grad \(n)", file: file, line: line)
        }
    }

    func testConvolutions() {
        check("conv3x3", ["x", "w", "b"]) { conv2d($0[0], weight: $0[1], bias: $0[2], stride: 1, padding: 1) }
        check("conv3x3s2", ["x", "w", "b"]) { conv2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1) }
        check("conv1x1", ["x", "w", "b"]) { conv2d($0[0], weight: $0[1], bias: $0[2]) }
        check("conv3x3_tiled", ["x", "w", "b"]) { conv2d($0[0], weight: $0[1], bias: $0[2], stride: 1, padding: 1) }
    }

    /// Strided convolution over several im2col row tiles against a direct loop (Double sums),
    /// rtol 1e-4 / atol 1e-4.
    func testTiledStridedConvolutionMatchesDirectLoop() {
        let x = randomTensor([1, 64, 16, 200], seed: 50, requiresGrad: false)
        let w = randomTensor([3, 64, 3, 3], seed: 51, requiresGrad: false)
        let y = conv2d(x, weight: w, bias: nil, stride: 2, padding: 1)
        XCTAssertEqual(y.shape, [1, 3, 8, 100])
        let xs = x.toArray(), ws = w.toArray()
        var expected = [Float]()
        for co in 0..<3 {
            for oy in 0..<8 {
                for ox in 0..<100 {
                    var acc = 0.0
                    for ci in 0..<64 {
                        for ky in 0..<3 {
                            for kx in 0..<3 {
                                let iy = oy * 2 - 1 + ky, ix = ox * 2 - 1 + kx
                                if iy < 0 || iy >= 16 || ix < 0 || ix >= 200 { continue }
                                acc += Double(xs[(ci * 16 + iy) * 200 + ix]) * Double(ws[((co * 64 + ci) * 3 + ky) * 3 + kx])
                            }
                        }
                    }
                    expected.append(Float(acc))
                }
            }
        }
        assertClose(y.toArray(), expected, rtol: 1e-4, atol: 1e-4)
    }

    /// Stride-1 kernels take the shifted-GEMM path (no im2col): rectangular kernels and images,
    /// padding smaller and larger than "same", one image (panel-parallel GEMMs) and nine
    /// (image-parallel), forward and both gradients against direct loops in Double. The last five
    /// take the AVX-512 direct kernels where the CPU has them: output channels in blocks of 8
    /// (forward), and with "same" padding and input channels in blocks of 16 the backward too;
    /// Hout·Wp of 42, 45, 12, 24 and 15 columns (none a multiple of 16) exercise the padded row
    /// stride, rounded up to a multiple of 16.
    func testShiftedConvolutionMatchesDirectLoops() {
        let cases: [(n: Int, cin: Int, cout: Int, h: Int, w: Int, kh: Int, kw: Int, p: Int)] = [
            (1, 5, 4, 7, 11, 3, 1, 1), (9, 3, 6, 6, 5, 5, 5, 2), (2, 4, 3, 9, 4, 2, 3, 0), (9, 2, 2, 5, 5, 3, 3, 3),
            (1, 16, 8, 6, 5, 3, 3, 1), (9, 32, 16, 5, 5, 5, 5, 2), (5, 48, 24, 3, 2, 3, 3, 1), (3, 5, 8, 4, 4, 3, 3, 1),
            (2, 16, 8, 5, 5, 3, 3, 0),
        ]
        for (i, c) in cases.enumerated() {
            let x = randomTensor([c.n, c.cin, c.h, c.w], seed: 60 + UInt64(i))
            let wt = randomTensor([c.cout, c.cin, c.kh, c.kw], seed: 70 + UInt64(i))
            let b = randomTensor([c.cout], seed: 80 + UInt64(i))
            let y = conv2d(x, weight: wt, bias: b, stride: 1, padding: c.p)
            let ho = c.h + 2 * c.p - c.kh + 1, wo = c.w + 2 * c.p - c.kw + 1
            XCTAssertEqual(y.shape, [c.n, c.cout, ho, wo])
            let g = randomTensor(y.shape, seed: 90 + UInt64(i), requiresGrad: false)
            (y * g).sum().backward()
            let xs = x.toArray(), ws = wt.toArray(), bs = b.toArray(), gs = g.toArray()
            var ey = [Double](repeating: 0, count: y.count)
            var egx = [Double](repeating: 0, count: x.count), egw = [Double](repeating: 0, count: wt.count)
            for n in 0..<c.n { for co in 0..<c.cout { for oy in 0..<ho { for ox in 0..<wo {
                let yi = ((n * c.cout + co) * ho + oy) * wo + ox
                var acc = Double(bs[co])
                for ci in 0..<c.cin { for ky in 0..<c.kh { for kx in 0..<c.kw {
                    let iy = oy - c.p + ky, ix = ox - c.p + kx
                    if iy < 0 || iy >= c.h || ix < 0 || ix >= c.w { continue }
                    let xi = ((n * c.cin + ci) * c.h + iy) * c.w + ix, wi = ((co * c.cin + ci) * c.kh + ky) * c.kw + kx
                    acc += Double(xs[xi]) * Double(ws[wi])
                    egx[xi] += Double(gs[yi]) * Double(ws[wi])
                    egw[wi] += Double(gs[yi]) * Double(xs[xi])
                }}}
                ey[yi] = acc
            }}}}
            assertClose(y.toArray(), ey.map(Float.init), rtol: 1e-4, atol: 1e-4)
            assertClose(x.grad!.toArray(), egx.map(Float.init), rtol: 1e-4, atol: 1e-4)
            assertClose(wt.grad!.toArray(), egw.map(Float.init), rtol: 1e-4, atol: 1e-4)
        }
    }

    func testNormsAndActivations() {
        check("groupnorm", ["x", "w", "b"]) { groupNorm($0[0], groups: 4, weight: $0[1], bias: $0[2], eps: 1e-5) }
        check("layernorm", ["x", "w", "b"]) { layerNorm($0[0], weight: $0[1], bias: $0[2], eps: 1e-5) }
        check("gelu", ["x"]) { $0[0].gelu() }
        check("silu", ["x"]) { $0[0].silu() }
        check("softmax", ["x"]) { $0[0].softmax() }
    }

    func testMatmulLinearPoolingLoss() {
        check("matmul", ["a", "b"]) { Tensor.matmul($0[0], $0[1]) }
        check("linear", ["x", "w", "b"]) { linear($0[0], weight: $0[1], bias: $0[2]) }
        check("upsample", ["x"]) { $0[0].upsampleNearest2x() }
        check("avgpool", ["x"]) { $0[0].avgPool2x() }
        check("mse", ["p", "q"]) { mseLoss($0[0], $0[1]).reshaped([1]) }
        check("broadcast", ["a", "b"]) { (a: [Tensor]) in (a[0] + a[1]) * a[0] / (a[1] * a[1] + 1.5) - a[1] }
    }

    func testAttention() {
        let mask = f("attention.const_mask")
        check("attention", ["q", "k", "v", "bias"]) {
            scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], bias: $0[3], mask: mask)
        }
        check("attention_long", ["q", "k", "v"]) { scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2]) }
        check("attention_causal", ["q", "k", "v"]) {
            scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], causal: true)
        }
    }

    func testInferenceModeGivesSameOutputs() {
        let x = f("conv3x3.x"), w = f("conv3x3.w"), b = f("conv3x3.b")
        let y = withoutGradients { conv2d(x, weight: w, bias: b, stride: 1, padding: 1) }
        assertClose(y.toArray(), f("conv3x3.out").toArray(), rtol: 1e-4, atol: 1e-5)
    }
}
