import Foundation
import XCTest
@testable import Generator

/// bf16 compute (`ComputePrecision.bf16`): each op against fp32.
///
/// Two checks per op. Exactness: with its inputs rounded to bf16 first, the fp32 op gives the
/// bf16 op's result up to fp32 summation order (oneDNN accumulates in fp32). The error bound: on
/// the unrounded inputs, each product x·w is off by at most (2·2⁻⁹ + 2⁻¹⁸)|x||w| (two roundings
/// to nearest, 8-bit mantissas), so each output is within 2⁻⁸·Σ|x||w| of fp32's.
final class BF16Tests: XCTestCase {
    override func setUpWithError() throws {
        guard ComputePrecision.bf16Supported else {
            throw XCTSkip("this CPU lacks AVX512_BF16: bf16 compute does not run here (fp32 is used)")
        }
    }

    /// fp32 -> bf16 -> fp32, round to nearest even (finite values).
    static func roundedToBF16(_ x: Float) -> Float {
        let bits = x.bitPattern
        return Float(bitPattern: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000)
    }

    static func rounded(_ t: Tensor, requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: t.shape, data: t.toArray().map(roundedToBF16), requiresGrad: requiresGrad)
    }

    static func absolute(_ t: Tensor) -> Tensor { Tensor(shape: t.shape, data: t.toArray().map { abs($0) }) }

    /// |a − b| ≤ 2⁻⁸·bound + 1e-5 everywhere (bound: the op on |inputs|).
    func assertWithinBF16Bound(_ a: [Float], _ b: [Float], bound: [Float], _ what: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        var worst = 0 as Float
        for i in a.indices {
            let excess = abs(a[i] - b[i]) / (bound[i] / 256 + 1e-5)
            worst = max(worst, excess)
        }
        XCTAssertLessThanOrEqual(worst, 1, "\(what): the error exceeds the bf16 bound by \(worst)x", file: file, line: line)
    }

    /// (N, Cin, H, W, Cout, k, stride, padding): the denoiser's and autoencoder's kinds of
    /// convolution, odd sizes, RGB input, 1x1.
    static let convShapes: [(Int, Int, Int, Int, Int, Int, Int, Int)] = [
        (4, 32, 16, 16, 32, 3, 1, 1), (3, 3, 9, 11, 16, 3, 1, 1), (2, 16, 12, 12, 24, 3, 2, 1),
        (5, 24, 7, 7, 8, 1, 1, 0), (2, 8, 10, 10, 16, 3, 1, 0),
    ]

    func testConvolutionForwardIsFP32OnRoundedInputsAndWithinTheBound() throws {
        for (k, s) in Self.convShapes.enumerated() {
            let (n, cin, h, w, cout, ks, stride, pad) = s
            let x = randomTensor([n, cin, h, w], seed: 10 + UInt64(k), requiresGrad: false)
            let wt = randomTensor([cout, cin, ks, ks], seed: 20 + UInt64(k), requiresGrad: false, scale: 0.3)
            let b = randomTensor([cout], seed: 30 + UInt64(k), requiresGrad: false)
            let y = ComputePrecision.with(.bf16) { conv2d(x, weight: wt, bias: b, stride: stride, padding: pad) }
            XCTAssertTrue(OneDNN.lastImplementation.contains("bf16") || OneDNN.lastImplementation.hasPrefix("gemm"),
                          "shape \(s) ran \(OneDNN.lastImplementation)")
            let onRounded = conv2d(Self.rounded(x), weight: Self.rounded(wt), bias: b, stride: stride, padding: pad)
            assertClose(y.toArray(), onRounded.toArray(), rtol: 1e-5, atol: 1e-4)
            let fp32 = conv2d(x, weight: wt, bias: b, stride: stride, padding: pad)
            let bound = conv2d(Self.absolute(x), weight: Self.absolute(wt), bias: nil, stride: stride, padding: pad)
            assertWithinBF16Bound(y.toArray(), fp32.toArray(), bound: bound.toArray(), "conv \(s)")
            // Without a bias too.
            let yn = ComputePrecision.with(.bf16) { conv2d(x, weight: wt, bias: nil, stride: stride, padding: pad) }
            let bias = b.toArray(), plane = y.shape[2] * y.shape[3]
            let expected = y.toArray().enumerated().map { $0.element - bias[($0.offset / plane) % cout] }
            assertClose(yn.toArray(), expected, rtol: 1e-5, atol: 1e-5)
        }
    }

    func testConvolutionGradientsAreFP32OnRoundedInputs() throws {
        for (k, s) in Self.convShapes.enumerated() {
            let (n, cin, h, w, cout, ks, stride, pad) = s
            let x = randomTensor([n, cin, h, w], seed: 40 + UInt64(k))
            let wt = randomTensor([cout, cin, ks, ks], seed: 50 + UInt64(k), scale: 0.3)
            let b = randomTensor([cout], seed: 60 + UInt64(k))
            let ho = (h + 2 * pad - ks) / stride + 1, wo = (w + 2 * pad - ks) / stride + 1
            let g = randomTensor([n, cout, ho, wo], seed: 70 + UInt64(k), requiresGrad: false)
            ComputePrecision.with(.bf16) {
                conv2d(x, weight: wt, bias: b, stride: stride, padding: pad).backward(g)
            }
            // The reference: fp32 gradients of the rounded inputs and the rounded output gradient.
            let xr = Self.rounded(x, requiresGrad: true), wr = Self.rounded(wt, requiresGrad: true)
            let br = Tensor(shape: b.shape, data: b.toArray(), requiresGrad: true)
            conv2d(xr, weight: wr, bias: br, stride: stride, padding: pad).backward(Self.rounded(g))
            assertClose(x.grad!.toArray(), xr.grad!.toArray(), rtol: 1e-5, atol: 1e-4)
            assertClose(wt.grad!.toArray(), wr.grad!.toArray(), rtol: 1e-5, atol: 2e-4)
            // The bias gradient is the output gradient's sum, in fp32 either way.
            let bf = Tensor(shape: b.shape, data: b.toArray(), requiresGrad: true)
            conv2d(x.detached(), weight: wt.detached(), bias: bf, stride: stride, padding: pad).backward(g)
            assertClose(b.grad!.toArray(), bf.grad!.toArray(), rtol: 1e-6, atol: 1e-6)
        }
    }

    /// The weight gradient reads the bf16 copies the forward (of x) and the input gradient (of
    /// the output gradient) keep: the same gradients whichever of x and the weight want one, and
    /// through a retained graph's second backward pass.
    func testWeightGradientFromKeptCopiesMatchesConvertingAgain() throws {
        let (n, cin, h, w, cout) = (4, 32, 16, 16, 32)
        let shape = OneDNN.ConvShape(images: n / min(n, Parallel.threadCount), cin: cin, h: h, w: w, cout: cout,
                                     kh: 3, kw: 3, stride: 1, padding: 1)
        XCTAssertGreaterThan(OneDNN.sourceCopyBytes(shape, hasBias: true), 0, "the 3x3 convolution's passes share no source copy")
        XCTAssertGreaterThan(OneDNN.gradientCopyBytes(shape), 0, "the 3x3 convolution's passes share no gradient copy")
        let x0 = randomTensor([n, cin, h, w], seed: 91, requiresGrad: false)
        let w0 = randomTensor([cout, cin, 3, 3], seed: 92, requiresGrad: false, scale: 0.3)
        let g = randomTensor([n, cout, h, w], seed: 93, requiresGrad: false)
        // The reference: fp32 gradients of the rounded inputs.
        let xr = Self.rounded(x0, requiresGrad: true), wr = Self.rounded(w0, requiresGrad: true)
        conv2d(xr, weight: wr, bias: nil, stride: 1, padding: 1).backward(Self.rounded(g))
        for (needX, needW) in [(true, true), (false, true), (true, false)] {
            let x = Tensor(shape: x0.shape, data: x0.toArray(), requiresGrad: needX)
            let wt = Tensor(shape: w0.shape, data: w0.toArray(), requiresGrad: needW)
            ComputePrecision.with(.bf16) {
                let y = conv2d(x, weight: wt, bias: nil, stride: 1, padding: 1)
                y.backward(g, retainGraph: true)
                y.backward(g)  // accumulates a second, equal gradient
            }
            if needX { assertClose(x.grad!.toArray(), xr.grad!.toArray().map { 2 * $0 }, rtol: 1e-5, atol: 2e-4) }
            if needW { assertClose(wt.grad!.toArray(), wr.grad!.toArray().map { 2 * $0 }, rtol: 1e-5, atol: 4e-4) }
        }
    }

    func testMatrixProductsAreFP32OnRoundedInputs() throws {
        // (m, n, k, transA, transB, beta), with padded leading dimensions.
        let cases: [(Int, Int, Int, Bool, Bool, Float)] = [
            (96, 80, 72, false, false, 0), (64, 96, 80, true, false, 1), (80, 64, 96, false, true, 0), (72, 72, 64, true, true, 1),
        ]
        for (i, c) in cases.enumerated() {
            let (m, n, k, ta, tb, beta) = c
            let lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 2
            var g = Philox(seed: 80 + UInt64(i))
            let a = g.normal(count: (ta ? k : m) * lda), b = g.normal(count: (tb ? n : k) * ldb), c0 = g.normal(count: m * ldc)
            var got = c0, want = c0, fp32 = c0
            ComputePrecision.with(.bf16) {
                BLAS.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &got, ldc: ldc)
            }
            BLAS.referenceSgemm(transA: ta, transB: tb, m: m, n: n, k: k, a: a.map(Self.roundedToBF16), lda: lda,
                                b: b.map(Self.roundedToBF16), ldb: ldb, beta: beta, c: &want, ldc: ldc)
            assertClose(got, want, rtol: 1e-5, atol: 1e-4)
            BLAS.referenceSgemm(transA: ta, transB: tb, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &fp32, ldc: ldc)
            var bound = [Float](repeating: 0, count: m * ldc)
            BLAS.referenceSgemm(transA: ta, transB: tb, m: m, n: n, k: k, a: a.map { abs($0) }, lda: lda, b: b.map { abs($0) },
                                ldb: ldb, beta: 0, c: &bound, ldc: ldc)
            assertWithinBF16Bound(got, fp32, bound: bound, "matmul \(c)")
        }
        // Small products stay in fp32: the same bits as the fp32 path.
        var g = Philox(seed: 99)
        let a = g.normal(count: 16 * 16), b = g.normal(count: 16 * 16)
        var small = [Float](repeating: 0, count: 256), plain = small
        ComputePrecision.with(.bf16) { BLAS.sgemm(transA: false, transB: false, m: 16, n: 16, k: 16, a: a, lda: 16, b: b, ldb: 16, c: &small, ldc: 16) }
        BLAS.sgemm(transA: false, transB: false, m: 16, n: 16, k: 16, a: a, lda: 16, b: b, ldb: 16, c: &plain, ldc: 16)
        XCTAssertEqual(small, plain)
    }

    /// The whole denoiser (the shipped architecture, random weights): bf16's output against
    /// fp32's, relative to the output's size. Measured 0.59% here; the bound
    /// leaves room for other weights while catching a wrong layout or a dropped term (those
    /// give errors of order 1).
    func testDenoiserForwardMatchesFP32WithinTolerance() throws {
        var rng = Philox(seed: 5)
        var config = DenoiserConfig.default
        config.frames = 4
        let model = try VideoDenoiser(config: config, rng: &rng)
        var g = Philox(seed: 6)
        let x = Tensor.randn([2, 4, config.inChannels, config.resolution, config.resolution], using: &g)
        let text = Tensor.randn([2, config.textDim], using: &g)
        let fp32 = withoutGradients { model(x, timesteps: [100, 700], text: text) }.toArray()
        let bf16 = ComputePrecision.with(.bf16) { withoutGradients { model(x, timesteps: [100, 700], text: text) } }.toArray()
        let diff = zip(fp32, bf16).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +).squareRoot()
        let norm = fp32.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
        XCTAssertLessThan(diff / norm, 0.02, "relative L2 difference \(diff / norm)")
        XCTAssertGreaterThan(diff, 0, "bf16 changed nothing: did the bf16 kernels run?")
    }

    func testResolveHonoursTheEnvironment() throws {
        XCTAssertEqual(try ComputePrecision.resolve(nil, environment: [:]), .bf16)
        XCTAssertEqual(try ComputePrecision.resolve(.fp32, environment: [:]), .fp32)
        XCTAssertEqual(try ComputePrecision.resolve(nil, fallback: .fp32, environment: [:]), .fp32)
        XCTAssertEqual(try ComputePrecision.resolve(nil, fallback: .fp32, environment: ["T2V_PRECISION": "bf16"]), .bf16,
                       "the environment replaces a fallback")
        XCTAssertEqual(try ComputePrecision.resolve(.bf16, environment: ["T2V_PRECISION": "fp32"]), .fp32)
        XCTAssertEqual(try ComputePrecision.resolve(nil, environment: ["T2V_PRECISION": "FP32"]), .fp32)
        XCTAssertEqual(try ComputePrecision.resolve(.fp32, environment: ["T2V_PRECISION": "bf16"]), .fp32,
                       "an explicit fp32 is kept")
        XCTAssertThrowsError(try ComputePrecision.resolve(nil, environment: ["T2V_PRECISION": "fp16"])) { error in
            XCTAssertEqual(error as? ComputePrecision.Failure, .invalidEnvironment("fp16"))
        }
    }

    func testConfigurationsRecordThePrecision() throws {
        var config = TrainingConfig()
        let plain = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        XCTAssertFalse(plain.contains("precision"), "fp32 runs keep their JSON as before")
        config.precision = .bf16
        let data = try JSONEncoder().encode(config)
        XCTAssertEqual(try JSONDecoder().decode(TrainingConfig.self, from: data).precision, .bf16)
        var ae = AutoencoderTrainingConfig()
        ae.precision = .bf16
        XCTAssertEqual(try JSONDecoder().decode(AutoencoderTrainingConfig.self, from: try JSONEncoder().encode(ae)).precision, .bf16)
        var d = DistillationConfig()
        d.precision = .bf16
        XCTAssertEqual(try JSONDecoder().decode(DistillationConfig.self, from: try JSONEncoder().encode(d)).precision, .bf16)
    }
}
