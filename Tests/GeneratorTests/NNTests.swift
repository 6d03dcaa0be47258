import XCTest
@testable import Generator

/// GroupNorm → SiLU → conv3x3 → residual → self-attention over positions → residual; the
/// same block as `Block` in Scripts/make_op_fixtures.py.
final class TinyBlock: Module {
    let norm = GroupNorm(groups: 4, channels: 8)
    let conv: Conv2d
    let attn: MultiHeadAttention

    init(rng: inout some RandomNumberGenerator) {
        conv = Conv2d(8, 8, kernelSize: 3, padding: 1, rng: &rng)
        attn = MultiHeadAttention(dim: 8, heads: 2, rng: &rng)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let h = x + conv(norm(x).silu())
        let (b, c, hh, ww) = (h.shape[0], h.shape[1], h.shape[2], h.shape[3])
        let seq = h.reshaped([b, c, hh * ww]).transposed(1, 2)
        return (seq + attn(seq)).transposed(1, 2).reshaped([b, c, hh, ww])
    }
}

final class NNTests: XCTestCase {
    func testBlockMatchesPyTorch() throws {
        // Tolerances: outputs rtol 1e-4 / atol 1e-5, gradients rtol 1e-3 / atol 1e-4.
        let fx = try FixtureFile.load("ops/block.safetensors")
        var rng = TestRNG(seed: 1)
        let block = TinyBlock(rng: &rng)
        var weights: [String: Tensor] = [:]
        for (k, v) in fx where k.hasPrefix("param.") { weights[String(k.dropFirst(6))] = v }
        try block.load(weights)
        let x = fx["x"]!.copy().requiringGrad()
        let y = block(x)
        assertClose(y.toArray(), fx["out"]!.toArray(), rtol: 1e-4, atol: 1e-5, "block output")
        (y * fx["gy"]!).sum().backward()
        assertClose(x.grad!.toArray(), fx["grad_x"]!.toArray(), rtol: 1e-3, atol: 1e-4, "grad x")
        for (name, p) in block.namedParameters() {
            assertClose(p.grad!.toArray(), fx["grad." + name]!.toArray(), rtol: 1e-3, atol: 1e-4, "grad \(name)")
        }
    }

    func testParameterNamesFollowPropertyPaths() {
        var rng = TestRNG(seed: 2)
        let block = TinyBlock(rng: &rng)
        XCTAssertEqual(block.namedParameters().map { $0.0 }, [
            "norm.weight", "norm.bias", "conv.weight", "conv.bias",
            "attn.toQ.weight", "attn.toQ.bias", "attn.toK.weight", "attn.toK.bias",
            "attn.toV.weight", "attn.toV.bias", "attn.toOut.weight", "attn.toOut.bias",
        ])
        XCTAssertEqual(block.parameterCount, 8 + 8 + 8 * 8 * 9 + 8 + 4 * (64 + 8))
        XCTAssertTrue(block.parameters().allSatisfy { $0.value.requiresGrad })
    }

    func testLoadReportsMissingAndMisshapedTensors() {
        var rng = TestRNG(seed: 3)
        let layer = Linear(3, 2, rng: &rng)
        XCTAssertThrowsError(try layer.load(["weight": Tensor.zeros([2, 3])])) { error in
            XCTAssertEqual(error as? ModuleLoadError, .missing("bias"))
        }
        XCTAssertThrowsError(try layer.load(["weight": Tensor.zeros([3, 2]), "bias": Tensor.zeros([2])])) { error in
            XCTAssertEqual(error as? ModuleLoadError, .shapeMismatch(name: "weight", expected: [2, 3], got: [3, 2]))
            XCTAssertTrue(error.localizedDescription.contains("weight"))
        }
        XCTAssertThrowsError(try layer.load(["weight": Tensor.zeros([2, 3]), "bias": Tensor.zeros([2]), "extra": Tensor(1)])) { error in
            XCTAssertEqual(error as? ModuleLoadError, .unexpected(["extra"]))
        }
        XCTAssertNoThrow(try layer.load(["weight": Tensor.ones([2, 3]), "bias": Tensor.zeros([2]), "extra": Tensor(1)], strict: false))
        XCTAssertEqual(layer.weight.value.toArray(), [Float](repeating: 1, count: 6))
    }

    func testLayersMatchFunctionalOps() {
        var rng = TestRNG(seed: 4)
        let x = randomTensor([2, 3, 4, 4], seed: 5, requiresGrad: false)
        let conv = Conv2d(3, 5, kernelSize: 3, stride: 2, padding: 1, rng: &rng)
        XCTAssertEqual(conv(x).shape, [2, 5, 2, 2])
        XCTAssertEqual(conv(x).toArray(), conv2d(x, weight: conv.weight.value, bias: conv.bias!.value, stride: 2, padding: 1).toArray())
        let emb = Embedding(count: 10, dim: 4, rng: &rng)
        let e = emb([3, 7, 3], shape: [1, 3])
        XCTAssertEqual(e.shape, [1, 3, 4])
        XCTAssertEqual(Array(e.toArray()[0..<4]), Array(emb.weight.value.toArray()[12..<16]))
        XCTAssertEqual(Array(e.toArray()[8..<12]), Array(emb.weight.value.toArray()[12..<16]))
        let ln = LayerNorm(4)
        let y = ln(e)
        let row = Array(y.toArray()[0..<4])
        XCTAssertEqual(Double(row.reduce(0, +)), 0, accuracy: 1e-5)
    }

    func testCrossAttentionShapes() {
        var rng = TestRNG(seed: 6)
        let mha = MultiHeadAttention(dim: 8, heads: 4, contextDim: 6, rng: &rng)
        let x = randomTensor([2, 5, 8], seed: 7), ctx = randomTensor([2, 3, 6], seed: 8)
        let mask = attentionMask(keep: [[true, true, true], [true, false, false]])
        let y = mha(x, context: ctx, mask: mask)
        XCTAssertEqual(y.shape, [2, 5, 8])
        // Masked context positions must not influence the output of batch 1.
        let ctx2 = ctx.copy()
        ctx2.withUnsafeMutableBufferPointer { $0[3 * 6 + 1 * 6 + 2] += 5 }  // batch 1, position 1
        let y2 = mha(x, context: ctx2, mask: mask)
        assertClose(Array(y2.toArray()[40...]), Array(y.toArray()[40...]), rtol: 0, atol: 1e-6)
        XCTAssertNotEqual(Array(y2.toArray()[..<40]), [Float](repeating: 0, count: 40))
    }
}
