import XCTest
@testable import Generator

/// The vector kernels (CBLAS shim, vector_kernels.inc) against the scalar Swift code they replace,
/// over full 16-lane runs and tails, once for every instruction set this CPU runs (AVX-512 and
/// AVX2 on an AVX-512 machine, AVX2 alone on most others). The scalar kernels are checked against
/// PyTorch in OpsParityTests and by finite differences in GradTests.
final class VectorKernelTests: XCTestCase {
    /// `withISA` switches the kernels and restores them; `none` turns every wrapper off.
    func testISASelection() throws {
        let before = VectorKernels.isa
        VectorKernels.withISA(.none) {
            XCTAssertFalse(VectorKernels.available)
            XCTAssertFalse(VectorKernels.directConvolution)
            var y: Float = .nan
            var x: Float = 1
            XCTAssertFalse(VectorKernels.gelu(&x, &y, 1))
            XCTAssertNil(VectorKernels.max(&x, 1))
            XCTAssertTrue(y.isNaN, "a wrapper wrote its output under .none")
        }
        XCTAssertEqual(VectorKernels.isa, before)
        XCTAssertTrue(VectorKernels.supported(.none))
        if VectorKernels.supported(.avx512) { XCTAssertTrue(VectorKernels.supported(.avx2)) }
        try forEachVectorISA { level in
            XCTAssertEqual(VectorKernels.isa, level)
            XCTAssertEqual(VectorKernels.directConvolution, level == .avx512)
        }
    }

    private func compare<K: UnaryKernel>(_: K.Type, _ name: String, tolerance: Float) throws {
        try forEachVectorISA { level in compareUnderCurrentISA(K.self, "\(name) [\(level.rawValue)]", tolerance: tolerance) }
    }

    private func compareUnderCurrentISA<K: UnaryKernel>(_: K.Type, _ name: String, tolerance: Float) {
        for n in [1, 15, 16, 17, 100, 1003] {
            let span = Float(max(n - 1, 1))
            let x: [Float] = (0..<n).map { i in
                let jitter: Float = 0.013 * Float(i % 7)
                return Float(i) / span * 20 - 10 + jitter
            }
            let g: [Float] = (0..<n).map { i in Float((i * 37) % 11) / 5 - 1 }
            var y = [Float](repeating: .nan, count: n), gx = [Float](repeating: .nan, count: n)
            XCTAssertTrue(K.forwardBulk(x, &y, n))
            XCTAssertTrue(K.backwardBulk(x, g, &gx, n))
            for i in 0..<n {
                let yRef = K.forward(x[i]), gRef = g[i] * K.derivative(x[i], yRef)
                XCTAssertEqual(y[i], yRef, accuracy: tolerance * max(1, abs(yRef)), "\(name)(\(x[i])) n=\(n)")
                XCTAssertEqual(gx[i], gRef, accuracy: tolerance * max(1, abs(gRef)), "\(name)'(\(x[i])) n=\(n)")
            }
        }
    }

    func testGELUKernelMatchesScalar() throws { try compare(GELUKernel.self, "gelu", tolerance: 1e-6) }
    func testSiLUKernelMatchesScalar() throws { try compare(SiLUKernel.self, "silu", tolerance: 1e-6) }

    /// The lane-parallel attention kernel (short key sequences) against a Double reference:
    /// query counts that are not multiples of 16, a bias broadcast over the batch, a key mask that
    /// drops every key of one sequence (zeros out), causal attention with more keys than queries;
    /// with and without gradient recording (which also writes the row log-sum-exps).
    func testSmallAttentionKernelMatchesReference() throws {
        try forEachVectorISA { _ in try smallAttentionKernelMatchesReference() }
    }

    private func smallAttentionKernelMatchesReference() throws {
        let cases: [(b: Int, h: Int, lq: Int, lk: Int, d: Int, dv: Int, causal: Bool)] = [
            (2, 2, 37, 64, 8, 5, false), (1, 3, 16, 16, 8, 8, false), (2, 1, 5, 9, 3, 7, true),
        ]
        for (n, c) in cases.enumerated() {
            let q = randomTensor([c.b, c.h, c.lq, c.d], seed: 100 + UInt64(n), requiresGrad: false)
            let k = randomTensor([c.b, c.h, c.lk, c.d], seed: 110 + UInt64(n), requiresGrad: false, scale: 2)
            let v = randomTensor([c.b, c.h, c.lk, c.dv], seed: 120 + UInt64(n), requiresGrad: false)
            let bias = randomTensor([c.h, c.lq, c.lk], seed: 130 + UInt64(n), requiresGrad: false)
            // Batch 0 keeps every other key; batch 1 (when there is one) keeps none.
            let mask = attentionMask(keep: (0..<c.b).map { bi in (0..<c.lk).map { j in bi == 0 && j % 2 == 0 } })
            let qs = q.toArray(), ks = k.toArray(), vs = v.toArray(), bs = bias.toArray(), ms = mask.toArray()
            var expected = [Float]()
            let scale = 1 / Double(c.d).squareRoot()
            for bi in 0..<c.b { for hi in 0..<c.h { for i in 0..<c.lq {
                let seq = bi * c.h + hi
                var scores = [Double](repeating: -.infinity, count: c.lk)
                for j in 0..<c.lk where ms[bi * c.lk + j] == 0 && !(c.causal && j > i) {
                    var dot = 0.0
                    for p in 0..<c.d { dot += Double(qs[(seq * c.lq + i) * c.d + p]) * Double(ks[(seq * c.lk + j) * c.d + p]) }
                    scores[j] = dot * scale + Double(bs[(hi * c.lq + i) * c.lk + j])
                }
                let m = scores.max()!
                let w = scores.map { m == -.infinity ? 0 : Foundation.exp($0 - m) }
                let total = w.reduce(0, +)
                for t in 0..<c.dv {
                    var acc = 0.0
                    for j in 0..<c.lk { acc += w[j] * Double(vs[(seq * c.lk + j) * c.dv + t]) }
                    expected.append(Float(total > 0 ? acc / total : 0))
                }
            }}}
            let inference = withoutGradients {
                scaledDotProductAttention(query: q, key: k, value: v, bias: bias, mask: mask, causal: c.causal)
            }
            assertClose(inference.toArray(), expected, rtol: 1e-4, atol: 1e-5)
            let qg = Tensor(shape: q.shape, data: qs, requiresGrad: true)
            let training = scaledDotProductAttention(query: qg, key: k, value: v, bias: bias, mask: mask, causal: c.causal)
            assertClose(training.toArray(), expected, rtol: 1e-4, atol: 1e-5)
            training.sum().backward()
            XCTAssertTrue(qg.grad!.toArray().allSatisfy { $0.isFinite }, "case \(n): non-finite query gradient")
        }
    }

    /// Multi-head attention reads the heads in place from the projections
    /// (`interleavedHeadsAttention`, the lane-parallel kernels, forward and backward); the general
    /// path permutes them into their own layout. Both give the same output and the same gradients
    /// for the projections and a per-head bias, with a key mask over a longer context; and the
    /// in-place path's gradients match finite differences.
    func testInterleavedHeadsMatchThePermutedPath() throws {
        try forEachVectorISA { _ in try interleavedHeadsMatchThePermutedPath() }
    }

    private func interleavedHeadsMatchThePermutedPath() throws {
        func permuted(_ t: [Tensor], heads: Int, mask: Tensor?) -> Tensor {
            let (q, k, v) = (t[0], t[1], t[2])
            let b = q.shape[0], lq = q.shape[1], lk = k.shape[1], d = q.shape[2] / heads, dv = v.shape[2] / heads
            let y = scaledDotProductAttention(query: q.reshaped([b, lq, heads, d]).permuted([0, 2, 1, 3]),
                                              key: k.reshaped([b, lk, heads, d]).permuted([0, 2, 1, 3]),
                                              value: v.reshaped([b, lk, heads, dv]).permuted([0, 2, 1, 3]),
                                              bias: t.count > 3 ? t[3] : nil, mask: mask)
            return y.permuted([0, 2, 1, 3]).reshaped([b, lq, heads * dv])
        }
        func interleaved(_ t: [Tensor], heads: Int, mask: Tensor?) -> Tensor {
            interleavedHeadsAttention(query: t[0], key: t[1], value: t[2], heads: heads, bias: t.count > 3 ? t[3] : nil, mask: mask)!
        }
        let selfInputs = [randomTensor([3, 19, 32], seed: 140), randomTensor([3, 19, 32], seed: 141),
                          randomTensor([3, 19, 32], seed: 142), randomTensor([4, 19, 19], seed: 143)]
        let crossInputs = [randomTensor([2, 7, 24], seed: 144), randomTensor([2, 40, 24], seed: 145),
                           randomTensor([2, 40, 15], seed: 146)]
        let mask = attentionMask(keep: [(0..<40).map { $0 % 3 != 0 }, (0..<40).map { $0 < 5 }])
        for (inputs, heads, m) in [(selfInputs, 4, nil as Tensor?), (crossInputs, 3, mask)] {
            var outputs = [[Float]](), grads = [[[Float]]]()
            for path in [permuted, interleaved] {
                for t in inputs { t.zeroGrad() }
                let y = path(inputs, heads, m)
                let g = randomTensor(y.shape, seed: 150, requiresGrad: false)
                (y * g).sum().backward()
                outputs.append(y.toArray())
                grads.append(inputs.map { $0.grad!.toArray() })
            }
            assertClose(outputs[1], outputs[0], rtol: 1e-5, atol: 1e-6)
            for i in inputs.indices { assertClose(grads[1][i], grads[0][i], rtol: 1e-4, atol: 1e-5) }
            XCTAssertNotNil(withoutGradients { interleavedHeadsAttention(query: inputs[0], key: inputs[1], value: inputs[2], heads: heads) })
        }
        let small = [randomTensor([2, 5, 8], seed: 160), randomTensor([2, 6, 8], seed: 161),
                     randomTensor([2, 6, 6], seed: 162), randomTensor([2, 5, 6], seed: 163)]
        checkGradients(small, "interleaved heads, bias per head") { interleaved($0, heads: 2, mask: nil) }
    }

    /// One training step of a small denoiser with the design's widths (32 base channels, so the
    /// direct convolution kernels take their AVX-512 paths too), temporal gates opened: the
    /// output and every parameter's gradient under each vector instruction set equal the Swift
    /// loops' (`.none`) within float rounding.
    func testDenoiserStepMatchesTheScalarPathUnderEveryISA() throws {
        var config = DenoiserConfig.default
        config.frames = 4
        config.resolution = 16
        config.maxFrameDistance = 4
        var rng = Philox(seed: 11)
        let model = try VideoDenoiser(config: config, rng: &rng)
        for (name, p) in model.namedParameters() where name.hasSuffix("Gate") {
            p.assign(Tensor(shape: p.shape, data: [Float](repeating: 0.7, count: p.shape.reduce(1, *))))
        }
        let x = Tensor(shape: [2, 4, 3, 16, 16], data: rng.normal(count: 2 * 4 * 3 * 16 * 16))
        let text = Tensor(shape: [2, 384], data: rng.normal(count: 2 * 384, std: 0.05))
        let g = Tensor(shape: [2, 4, 3, 16, 16], data: rng.normal(count: 2 * 4 * 3 * 16 * 16))
        func step() -> (output: [Float], grads: [String: [Float]]) {
            model.zeroGrad()
            let y = model(x, timesteps: [120, 870], text: text)
            (y * g).sum().backward()
            var grads = [String: [Float]]()
            for (name, p) in model.namedParameters() { grads[name] = p.grad?.toArray() }
            return (y.toArray(), grads)
        }
        let reference = VectorKernels.withISA(.none) { step() }
        XCTAssertEqual(reference.grads.count, model.namedParameters().count, "a parameter got no gradient")
        try forEachVectorISA { level in
            let got = step()
            assertClose(got.output, reference.output, rtol: 1e-4, atol: 1e-5, "output [\(level.rawValue)]")
            // Norm-wise: a weight gradient sums thousands of products with cancellation, so its
            // small elements carry the rounding of the whole sum. The key projections' biases are
            // left out: adding a constant to every key's score leaves the softmax unchanged, so
            // their gradient is zero in exact arithmetic and rounding noise in floats.
            var worst = 0.0
            for (name, expected) in reference.grads where !name.hasSuffix("toK.bias") {
                let actual = got.grads[name] ?? []
                XCTAssertEqual(actual.count, expected.count, name)
                var diff = 0.0, norm = 0.0
                for (a, e) in zip(actual, expected) { diff += Double(a - e) * Double(a - e); norm += Double(e) * Double(e) }
                let relative = (diff / max(norm, 1e-30)).squareRoot()
                worst = max(worst, relative)
                XCTAssertLessThan(relative, 1e-3, "grad \(name) [\(level.rawValue)]: relative L2 error \(relative)")
            }
            XCTAssertLessThan(worst, 1e-3, "[\(level.rawValue)] worst relative L2 gradient error")
        }
    }
}
