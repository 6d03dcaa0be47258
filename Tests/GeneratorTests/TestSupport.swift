import Foundation
import XCTest
@testable import Generator

/// SplitMix64: a tiny deterministic generator for test data (independent of the project's
/// Philox generator).
struct TestRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Uniform test tensor in [-1, 1).
func randomTensor(_ shape: [Int], seed: UInt64, requiresGrad: Bool = true, scale: Float = 1) -> Tensor {
    var rng = TestRNG(seed: seed)
    return Tensor.uniform(shape, low: -scale, high: scale, using: &rng, requiresGrad: requiresGrad)
}

/// Minimal reader for committed safetensors fixtures (F32 only): u64 little-endian header
/// length, JSON header, raw little-endian data. Independent of the library's reader.
enum FixtureFile {
    static func load(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Tensor] {
        let data = try Data(contentsOf: TestUtils.fixture(name))
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + Int(n)))) as! [String: Any]
        var result: [String: Tensor] = [:]
        for (key, value) in header where key != "__metadata__" {
            let info = value as! [String: Any]
            guard info["dtype"] as? String == "F32" else { throw NSError(domain: "fixture \(name): \(key) is not F32", code: 1) }
            let shape = (info["shape"] as! [NSNumber]).map { $0.intValue }
            let offsets = (info["data_offsets"] as! [NSNumber]).map { $0.intValue }
            let start = 8 + Int(n) + offsets[0], end = 8 + Int(n) + offsets[1]
            let floats: [Float] = data.subdata(in: start..<end).withUnsafeBytes { raw in
                (0..<(end - start) / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            }
            result[key] = Tensor(shape: shape, data: floats)
        }
        return result
    }
}

/// Compares analytic gradients of `f` with central finite differences.
///
/// The objective is L = Σ f(inputs) ∘ W with a fixed random W (so every output element
/// matters), evaluated in Float32 and summed in Double. Each input element is moved by
/// ±`eps`; the numeric derivative is (L⁺ − L⁻)/(2·eps). With Float32 forward passes and
/// eps = 1e-2 the truncation error is O(eps²) ≈ 1e-4 and the rounding error about
/// 1e-7·|L|/eps, so the default tolerance is |analytic − numeric| ≤ atol + rtol·|numeric| with
/// atol = 2e-3, rtol = 2e-2.
func checkGradients(_ inputs: [Tensor], eps: Float = 1e-2, rtol: Double = 2e-2, atol: Double = 2e-3,
                    _ message: String = "", file: StaticString = #filePath, line: UInt = #line,
                    _ f: ([Tensor]) -> Tensor) {
    for failure in gradientMismatches(inputs, eps: eps, rtol: rtol, atol: atol, f) {
        XCTFail("\(failure) \(message)", file: file, line: line)
    }
}

/// The gradient mismatches `checkGradients` reports (empty when all agree).
func gradientMismatches(_ inputs: [Tensor], eps: Float = 1e-2, rtol: Double = 2e-2, atol: Double = 2e-3,
                        _ f: ([Tensor]) -> Tensor) -> [String] {
    var failures: [String] = []
    let probe = withoutGradients { f(inputs) }
    let weights = randomTensor(probe.shape, seed: 99, requiresGrad: false)
    func objective() -> Double {
        let out = withoutGradients { f(inputs) }
        var acc = 0.0
        let o = out.toArray(), w = weights.toArray()
        for i in 0..<o.count { acc += Double(o[i]) * Double(w[i]) }
        return acc
    }
    for t in inputs { t.zeroGrad() }
    let out = f(inputs)
    (out * weights).sum().backward()
    for (index, t) in inputs.enumerated() where t.requiresGrad {
        guard let grad = t.grad?.toArray(), grad.count == t.count else {
            failures.append("input \(index) got no gradient of the right size")
            continue
        }
        var worst = (excess: 0.0, i: -1, a: 0.0, n: 0.0)
        for i in 0..<t.count {
            let old = t.ptr[i]
            t.ptr[i] = old + eps
            let plus = objective()
            t.ptr[i] = old - eps
            let minus = objective()
            t.ptr[i] = old
            let numeric = (plus - minus) / (2 * Double(eps))
            let analytic = Double(grad[i])
            let excess = abs(analytic - numeric) - (atol + rtol * abs(numeric))
            if excess > worst.excess { worst = (excess, i, analytic, numeric) }
        }
        if worst.i >= 0 {
            failures.append("gradient of input \(index) at \(worst.i): analytic \(worst.a), numeric \(worst.n) (rtol \(rtol), atol \(atol))")
        }
    }
    return failures
}

/// Runs `body` under each vector-kernel level this CPU supports (AVX-512, AVX2), restoring the
/// level after; skips the test on a CPU with neither (the scalar kernels run there).
func forEachVectorISA(_ body: (VectorKernels.ISA) throws -> Void) throws {
    let levels = VectorKernels.ISA.allCases.filter { $0 != .none && VectorKernels.supported($0) }
    try XCTSkipIf(levels.isEmpty, "this CPU has neither AVX-512 nor AVX2: the scalar kernels run instead")
    for level in levels { try VectorKernels.withISA(level) { try body(level) } }
}

/// Sets every parameter of `model` whose name contains `fragment` to normal noise of `std` drawn
/// from `Philox(seed:)`: wakes zero-started modules (output projections, text and position
/// projections) so a test sees them act.
func wakeParameters(of model: VideoDenoiser, containing fragment: String, seed: UInt64, std: Float) {
    var g = Philox(seed: seed)
    for (name, p) in model.namedParameters() where name.contains(fragment) {
        p.assign(Tensor(shape: p.shape, data: g.normal(count: p.value.count, std: std)))
    }
}
