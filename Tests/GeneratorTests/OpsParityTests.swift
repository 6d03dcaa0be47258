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
