import XCTest
@testable import Generator

/// The AVX-512 element-wise kernels (CBLAS shim) against the scalar Swift kernels they replace,
/// over full 16-lane runs and tails. The scalar kernels are checked against PyTorch in
/// OpsParityTests and by finite differences in GradTests.
final class VectorKernelTests: XCTestCase {
    private func compare<K: UnaryKernel>(_: K.Type, _ name: String, tolerance: Float) throws {
        try XCTSkipUnless(VectorKernels.available, "this CPU has no AVX-512: the scalar kernels run instead")
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
}
