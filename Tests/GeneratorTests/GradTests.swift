import XCTest
@testable import Generator

/// Every differentiable op's gradient against central finite differences (see
/// `checkGradients` for eps and tolerances).
final class GradTests: XCTestCase {
    func testBroadcastArithmetic() {
        let a = randomTensor([2, 3, 4], seed: 1), b = randomTensor([3, 1], seed: 2)
        let c = randomTensor([4], seed: 3), d = randomTensor([2, 1, 4], seed: 4)
        checkGradients([a, b]) { $0[0] + $0[1] }
        checkGradients([a, c]) { $0[0] - $0[1] }
        checkGradients([a, d]) { $0[0] * $0[1] }
        let pos = (randomTensor([3, 1], seed: 5, requiresGrad: false) + 2).detached().requiringGrad()
        checkGradients([a, pos]) { $0[0] / $0[1] }
        checkGradients([a]) { ($0[0] * 3 + 1) / 2 - 0.5 }
        checkGradients([d, b]) { $0[0] * $0[1] }  // both broadcast: [2,1,4] x [3,1] -> [2,3,4]
    }

    func testUnaryActivations() {
        let x = randomTensor([3, 5], seed: 6, scale: 3)
        checkGradients([x]) { $0[0].silu() }
        checkGradients([x]) { $0[0].gelu() }
        checkGradients([x]) { $0[0].sigmoid() }
        checkGradients([x]) { $0[0].tanh() }
        checkGradients([x]) { $0[0].exp() }
        checkGradients([x]) { $0[0].square() }
        checkGradients([x]) { $0[0].sin() * $0[0].cos() }
        let pos = (randomTensor([3, 5], seed: 7, requiresGrad: false) + 2).detached().requiringGrad()
        checkGradients([pos]) { $0[0].log() }
        checkGradients([pos]) { $0[0].sqrt() }
    }

    func testMatmulVariants() {
        let a = randomTensor([3, 4], seed: 8), b = randomTensor([4, 5], seed: 9)
        checkGradients([a, b]) { Tensor.matmul($0[0], $0[1]) }
        let at = randomTensor([4, 3], seed: 10), bt = randomTensor([5, 4], seed: 11)
        checkGradients([at, bt]) { Tensor.matmul($0[0], $0[1], transposeA: true, transposeB: true) }
        checkGradients([a, bt]) { Tensor.matmul($0[0], $0[1], transposeB: true) }
        checkGradients([at, b]) { Tensor.matmul($0[0], $0[1], transposeA: true) }
        let ba = randomTensor([2, 3, 4], seed: 12), bb = randomTensor([2, 4, 5], seed: 13)
        checkGradients([ba, bb]) { Tensor.matmul($0[0], $0[1]) }
        checkGradients([ba, b]) { Tensor.matmul($0[0], $0[1]) }  // shared B, folded
        let bat = randomTensor([2, 4, 3], seed: 14)
        checkGradients([bat, b]) { Tensor.matmul($0[0], $0[1], transposeA: true) }  // shared B, not folded
        checkGradients([a, bb]) { Tensor.matmul($0[0], $0[1]) }  // shared A
    }

    func testLinear() {
        let x = randomTensor([2, 3, 4], seed: 15), w = randomTensor([5, 4], seed: 16), b = randomTensor([5], seed: 17)
        checkGradients([x, w, b]) { linear($0[0], weight: $0[1], bias: $0[2]) }
        checkGradients([x, w]) { linear($0[0], weight: $0[1], bias: nil) }
    }

    func testConv2d() {
        let x = randomTensor([2, 3, 5, 6], seed: 18), w = randomTensor([4, 3, 3, 3], seed: 19), b = randomTensor([4], seed: 20)
        checkGradients([x, w, b], "3x3 s1 p1") { conv2d($0[0], weight: $0[1], bias: $0[2], stride: 1, padding: 1) }
        checkGradients([x, w, b], "3x3 s2 p1") { conv2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1) }
        checkGradients([x, w], "3x3 s1 p0") { conv2d($0[0], weight: $0[1], bias: nil, stride: 1, padding: 0) }
        let w1 = randomTensor([4, 3, 1, 1], seed: 21)
        checkGradients([x, w1, b], "1x1") { conv2d($0[0], weight: $0[1], bias: $0[2]) }
        checkGradients([x, w1], "1x1 s2") { conv2d($0[0], weight: $0[1], bias: nil, stride: 2) }
        // A batch large enough for the image-parallel path (private weight-gradient partials).
        let xb = randomTensor([9, 2, 3, 4], seed: 46)
        let wb = randomTensor([3, 2, 3, 3], seed: 47)
        checkGradients([xb, wb, randomTensor([3], seed: 48)], "batch 9") { conv2d($0[0], weight: $0[1], bias: $0[2], padding: 1) }
        checkGradients([xb, randomTensor([3, 2, 1, 1], seed: 49)], "batch 9 1x1") { conv2d($0[0], weight: $0[1], bias: nil) }
    }

    func testNormalization() {
        let x = randomTensor([2, 4, 3, 2], seed: 22, scale: 2), g = randomTensor([4], seed: 23), b = randomTensor([4], seed: 24)
        checkGradients([x, g, b]) { groupNorm($0[0], groups: 2, weight: $0[1], bias: $0[2]) }
        checkGradients([x]) { groupNorm($0[0], groups: 4, weight: nil, bias: nil) }
        let y = randomTensor([3, 2, 5], seed: 25, scale: 2), lg = randomTensor([5], seed: 26), lb = randomTensor([5], seed: 27)
        checkGradients([y, lg, lb]) { layerNorm($0[0], weight: $0[1], bias: $0[2]) }
        // Width 37: the vector kernel's 16-lane blocks and its tail; without an affine too.
        let z = randomTensor([2, 3, 37], seed: 29, scale: 2), zg = randomTensor([37], seed: 30), zb = randomTensor([37], seed: 31)
        checkGradients([z, zg, zb]) { layerNorm($0[0], weight: $0[1], bias: $0[2]) }
        checkGradients([z]) { layerNorm($0[0], weight: nil, bias: nil) }
        checkGradients([z, zb]) { layerNorm($0[0], weight: nil, bias: $0[1]) }
        // The fused norm + FiLM + SiLU, with and without FiLM and affine parameters.
        let s = randomTensor([2, 4], seed: 50, scale: 0.5), t = randomTensor([2, 4], seed: 51)
        checkGradients([x, g, b, s, t], "groupNormSiLU FiLM") {
            groupNormSiLU($0[0], groups: 2, weight: $0[1], bias: $0[2], scale: $0[3], shift: $0[4])
        }
        checkGradients([x, g, b], "groupNormSiLU") { groupNormSiLU($0[0], groups: 2, weight: $0[1], bias: $0[2]) }
        checkGradients([x], "groupNormSiLU plain") { groupNormSiLU($0[0], groups: 4, weight: nil, bias: nil) }
    }

    /// The fused op equals the unfused ops it replaces (SiLU(GroupNorm(x) · (1 + s) + t), each
    /// checked against PyTorch in OpsParityTests), output and every gradient, on a size whose
    /// rows are not a multiple of the vector width.
    func testGroupNormSiLUMatchesTheUnfusedOps() {
        let (n, c, h, w) = (3, 8, 5, 7)
        let x = randomTensor([n, c, h, w], seed: 52, scale: 2), g = randomTensor([c], seed: 53), b = randomTensor([c], seed: 54)
        let s = randomTensor([n, c], seed: 55, scale: 0.5), t = randomTensor([n, c], seed: 56)
        let up = randomTensor([n, c, h, w], seed: 57, requiresGrad: false)
        let fused = groupNormSiLU(x, groups: 4, weight: g, bias: b, scale: s, shift: t)
        (fused * up).sum().backward()
        let grads = [x, g, b, s, t].map { $0.grad!.toArray() }
        for p in [x, g, b, s, t] { p.zeroGrad() }
        let unfused = (groupNorm(x, groups: 4, weight: g, bias: b) * (s.reshaped([n, c, 1, 1]) + 1) + t.reshaped([n, c, 1, 1])).silu()
        (unfused * up).sum().backward()
        assertClose(fused.toArray(), unfused.toArray(), rtol: 1e-5, atol: 1e-5)
        for (i, p) in [x, g, b, s, t].enumerated() { assertClose(grads[i], p.grad!.toArray(), rtol: 1e-4, atol: 1e-4) }
    }

    func testSoftmax() {
        let x = randomTensor([3, 2, 6], seed: 28, scale: 3)
        checkGradients([x]) { $0[0].softmax() }
    }

    func testAttention() {
        let q = randomTensor([2, 2, 5, 4], seed: 29), k = randomTensor([2, 2, 6, 4], seed: 30), v = randomTensor([2, 2, 6, 3], seed: 31)
        let bias = randomTensor([2, 5, 6], seed: 32)
        checkGradients([q, k, v, bias], "with bias") {
            scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], bias: $0[3])
        }
        let mask = attentionMask(keep: [[true, true, false, true, true, false], [true, true, true, true, false, false]])
        checkGradients([q, k, v], "with key mask") {
            scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], mask: mask)
        }
        let qs = randomTensor([2, 6, 4], seed: 33)
        let ks = randomTensor([2, 6, 4], seed: 34), vs = randomTensor([2, 6, 4], seed: 35)
        let rowBias = randomTensor([6], seed: 36)  // broadcast over queries and batch
        checkGradients([qs, ks, vs, rowBias], "causal, broadcast bias") {
            scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], bias: $0[3], causal: true, scale: 0.7)
        }
    }

    func testShapeOps() {
        let x = randomTensor([2, 3, 4], seed: 37)
        checkGradients([x]) { $0[0].permuted([2, 0, 1]) }
        checkGradients([x]) { $0[0].transposed(0, 2).reshaped([4, 6]) }
        checkGradients([x]) { $0[0].slice(axis: 1, 1..<3) }
        checkGradients([x]) { let p = $0[0].split(axis: 2, sizes: [1, 3]); return p[1] * 2 + p[0] }
        let y = randomTensor([2, 2, 4], seed: 38)
        checkGradients([x, y]) { Tensor.concat([$0[0], $0[1], $0[0]], axis: 1) }
        let z = randomTensor([3, 1], seed: 39)
        checkGradients([z]) { $0[0].expanded(to: [2, 3, 4]) }
        checkGradients([x]) { $0[0].unsqueezed(1).squeezed(1).flattened(from: 1) }
    }

    func testReductionsAndLoss() {
        let x = randomTensor([2, 3, 4], seed: 40), t = randomTensor([2, 3, 4], seed: 41)
        checkGradients([x]) { $0[0].sum() }
        checkGradients([x]) { $0[0].mean() }
        checkGradients([x]) { $0[0].sum(axis: 1) }
        checkGradients([x]) { $0[0].mean(axis: -1, keepDims: true) }
        checkGradients([x, t]) { mseLoss($0[0], $0[1]) }
    }

    func testPoolingAndEmbedding() {
        let x = randomTensor([2, 2, 4, 6], seed: 42)
        checkGradients([x]) { $0[0].upsampleNearest2x() }
        checkGradients([x]) { $0[0].avgPool2x() }
        let w = randomTensor([5, 3], seed: 43)
        checkGradients([w]) { embedding($0[0], indices: [4, 0, 4, 2], indexShape: [2, 2]) }
    }

    func testCheckerRejectsAWrongGradient() {
        // An op whose pullback is off by a factor of 1.1 must be caught.
        let x = randomTensor([4], seed: 45)
        let mismatches = gradientMismatches([x]) { inputs in
            let a = inputs[0]
            let out = withoutGradients { a * 2 }
            if Tensor.shouldRecord(a) { out.record("wrong", [a], [{ g in g * 2.2 }]) }
            return out
        }
        XCTAssertEqual(mismatches.count, 1)
    }

    func testGradientsAccumulateAndZero() {
        let x = Tensor(shape: [2], data: [1, 2], requiresGrad: true)
        (x * x).sum().backward()
        (x * 3).sum().backward()
        assertClose(x.grad!.toArray(), [2 + 3, 4 + 3], rtol: 0, atol: 0)
        x.zeroGrad()
        XCTAssertNil(x.grad)
        // A tensor used twice in one graph sums both paths.
        let y = Tensor(shape: [1], data: [3], requiresGrad: true)
        (y * y + y).sum().backward()
        assertClose(y.grad!.toArray(), [7], rtol: 0, atol: 0)
    }

    func testLeafGradientsNeverAlias() {
        // add passes one gradient buffer to both inputs; each leaf must still own its grad.
        let a = Tensor(shape: [3], data: [1, 2, 3], requiresGrad: true)
        let b = Tensor(shape: [3], data: [4, 5, 6], requiresGrad: true)
        ((a + b) * 2).backward(Tensor(shape: [3], data: [1, 1, 1]))
        a.grad!.scaleInPlace(10)
        XCTAssertEqual(b.grad!.toArray(), [2, 2, 2])
        XCTAssertEqual(a.grad!.toArray(), [20, 20, 20])
        // A seed passed straight through (reshape) must not become the leaf's gradient buffer.
        let x = Tensor(shape: [2, 2], data: [1, 2, 3, 4], requiresGrad: true)
        let seed = Tensor(shape: [4], data: [1, 2, 3, 4])
        x.reshaped([4]).backward(seed)
        x.grad!.scaleInPlace(0)
        XCTAssertEqual(seed.toArray(), [1, 2, 3, 4])
        // Two paths into one intermediate accumulate before flowing on.
        let y = Tensor(shape: [2], data: [1, 2], requiresGrad: true)
        let h = y * 3
        (h * h + h).sum().backward()
        XCTAssertEqual(y.grad!.toArray(), [3 * (2 * 3 + 1), 3 * (2 * 6 + 1)])
    }

    func testWithoutGradientsRecordsNothing() {
        let x = randomTensor([3], seed: 44)
        let y = withoutGradients { (x * 2).silu() }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertNil(y.node)
        XCTAssertTrue(GradMode.isEnabled)
        let z = (x * 2).silu()
        XCTAssertTrue(z.requiresGrad)
        XCTAssertNotNil(z.node)
    }
}
