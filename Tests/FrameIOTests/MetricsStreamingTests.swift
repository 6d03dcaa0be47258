import Foundation
import XCTest
@testable import FrameIO

/// QualityEvaluator's streaming path (a decoding thread per input feeding reusable picture
/// slots, scores computed on the planes in place): the same numbers, bit for bit, as scoring
/// each pair of decoded pictures on its own; errors, cancellation and bounded read-ahead.
final class MetricsStreamingTests: XCTestCase {
    /// vf_ssim's C reference (`ssim_4x4xn_8bit`, `ssim_endn_8bit`, `ssim_end1`) window by window:
    /// Int32 moments of each 8x8 window at stride 4, a `Float` ratio, `Double` row sums added in
    /// order, then the rows in order.
    private static func referenceSSIM(_ a: [UInt8], _ strideA: Int, _ b: [UInt8], _ strideB: Int, width: Int, height: Int) -> Double {
        let c1 = Int32(416), c2 = Int32(235963)
        let w4 = width >> 2, h4 = height >> 2
        var total = 0.0
        for y in 0..<(h4 - 1) {
            var row = 0.0
            for x in 0..<(w4 - 1) {
                var s1: Int32 = 0, s2: Int32 = 0, ss: Int32 = 0, s12: Int32 = 0
                for dy in 0..<8 {
                    for dx in 0..<8 {
                        let u = Int32(a[(4 * y + dy) * strideA + 4 * x + dx]), v = Int32(b[(4 * y + dy) * strideB + 4 * x + dx])
                        s1 += u
                        s2 += v
                        ss += u * u + v * v
                        s12 += u * v
                    }
                }
                let vars = ss * 64 - s1 * s1 - s2 * s2
                let covar = s12 * 64 - s1 * s2
                let ratio = Float(2 * s1 * s2 + c1) * Float(2 * covar + c2) / (Float(s1 * s1 + s2 * s2 + c1) * Float(vars + c2))
                row += Double(ratio)
            }
            total += row
        }
        return total / Double((w4 - 1) * (h4 - 1))
    }

    /// The plane kernel (SIMD blocks plus the scalar tail, strided rows, a reused workspace) gives
    /// exactly the C reference's Double on random planes of many sizes, including saturated ones.
    func testPlaneKernelIsBitExactAgainstReference() {
        var generator = SplitMix(seed: 7)
        let workspace = FFmpegSSIM.Workspace()
        for trial in 0..<60 {
            let width = 8 + Int(generator.next() % 90), height = 8 + Int(generator.next() % 40)
            let strideA = width + Int(generator.next() % 24), strideB = width + Int(generator.next() % 24)
            let range: ClosedRange<UInt8> = trial % 3 == 0 ? 0...255 : (trial % 3 == 1 ? 240...255 : 0...6)
            func plane(_ stride: Int) -> [UInt8] {
                (0..<(stride * height)).map { _ in range.lowerBound &+ UInt8(generator.next() % UInt64(Int(range.upperBound) - Int(range.lowerBound) + 1)) }
            }
            let a = plane(strideA), b = plane(strideB)
            let want = Self.referenceSSIM(a, strideA, b, strideB, width: width, height: height)
            let got = a.withUnsafeBufferPointer { p in
                b.withUnsafeBufferPointer { q in
                    FFmpegSSIM.planeMean(p.baseAddress!, strideA, q.baseAddress!, strideB, width: width, height: height, workspace: workspace)
                }
            }
            XCTAssertEqual(got.bitPattern, want.bitPattern, "\(width)x\(height) strides \(strideA)/\(strideB): \(got) vs \(want)")
        }
    }

    /// Two files through the streaming path (decoder pictures viewed in place) score every frame
    /// exactly as the same pictures decoded one by one and scored with `score(_:_:)`, and as the
    /// in-memory path (pictures copied into the slots).
    func testStreamedFilesMatchPairByPairScoringExactly() throws {
        let clips = MetricsOracle.Clips.shared
        let distorted = clips.x264[30]!
        var options = QualityEvaluator.Options()
        options.maxInFlight = 2
        let evaluator = QualityEvaluator(options: options)
        let streamed = try evaluator.compare(distorted: try VideoPlanesSource(path: distorted),
                                             reference: try VideoPlanesSource(path: clips.reference))
        let a = try VideoPlanesSource(path: distorted), b = try VideoPlanesSource(path: clips.reference)
        var expected = [FrameQuality]()
        var ssim = SSIMSummary(), psnr = PSNRSummary()
        while let p = try a.nextPlanes(), let q = try b.nextPlanes() {
            let f = try evaluator.score(p, q, index: expected.count)
            expected.append(f)
            ssim.add(f.ssim!)
            psnr.add(f.psnr!)
        }
        XCTAssertEqual(expected.count, 12)
        XCTAssertEqual(streamed.frames, expected)   // every Double, bit for bit
        XCTAssertEqual(streamed.ssim, ssim)
        XCTAssertEqual(streamed.psnr, psnr)
        let inMemory = try evaluator.compare(distorted: PlanarImageSource(try MetricsOracle.planes(distorted, width: 96, height: 64)),
                                             reference: PlanarImageSource(try MetricsOracle.planes(clips.reference, width: 96, height: 64)))
        XCTAssertEqual(inMemory.frames.map(\.ssim), expected.map(\.ssim))
        XCTAssertEqual(inMemory.frames.map(\.psnr), expected.map(\.psnr))
        XCTAssertEqual(inMemory.frames.map(\.gaussianSSIM), expected.map(\.gaussianSSIM))
        // SSIM alone (scored on the calling thread) gives the same figures as with every metric.
        options.metrics = [.ssim]
        let ssimOnly = try QualityEvaluator(options: options).compare(distorted: try VideoPlanesSource(path: distorted),
                                                                      reference: try VideoPlanesSource(path: clips.reference))
        XCTAssertEqual(ssimOnly.frames.map(\.ssim), expected.map(\.ssim))
        XCTAssertEqual(ssimOnly.ssim, ssim)
    }

    /// A source that fails mid-clip: the comparison throws that error (after the pictures read
    /// before it), and returns instead of hanging on its decoding threads.
    func testSourceErrorMidClipIsThrown() throws {
        let clips = MetricsOracle.Clips.shared
        let images = try MetricsOracle.planes(clips.reference, width: 96, height: 64)
        for metrics in [[QualityMetric.ssim], QualityMetric.allCases] {
            var options = QualityEvaluator.Options()
            options.metrics = metrics
            let failing = ScriptedSource(images, failAt: 5)
            XCTAssertThrowsError(try QualityEvaluator(options: options).compare(distorted: failing, reference: PlanarImageSource(images))) { error in
                XCTAssertEqual(error as? FrameIOError, .notAVideo(path: "scripted", reason: "broken at 5"))
            }
            XCTAssertEqual(failing.pulled, 6)
        }
    }

    /// A picture size change mid-clip is a shape mismatch, as for pictures scored one by one.
    func testSizeChangeMidClipThrows() throws {
        let clips = MetricsOracle.Clips.shared
        let big = try MetricsOracle.planes(clips.reference, width: 96, height: 64)
        let small = try MetricsOracle.planes(clips.oddReference, width: 65, height: 49)
        let mixed = Array(big.prefix(3)) + Array(small.prefix(3))
        XCTAssertThrowsError(try QualityEvaluator().compare(distorted: PlanarImageSource(mixed), reference: PlanarImageSource(big))) { error in
            guard case let .shapeMismatch(message)? = error as? FrameIOError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("65x49") && message.contains("96x64"), message)
        }
    }

    /// The decoding threads stay at most `maxInFlight + 1` pictures ahead of the scoring, however
    /// slow the scoring is, and stop when the progress callback cancels; the file's reader is
    /// free to use afterwards.
    func testReadAheadIsBoundedAndCancelStops() throws {
        let clips = MetricsOracle.Clips.shared
        let images = try MetricsOracle.planes(clips.reference, width: 96, height: 64)
        for inFlight in [1, 3] {
            var options = QualityEvaluator.Options()
            options.metrics = [.ssim]
            options.maxInFlight = inFlight
            let distorted = ScriptedSource(images), reference = ScriptedSource(images)
            var ahead = 0
            let report = try QualityEvaluator(options: options).compare(distorted: distorted, reference: reference) { progress in
                Thread.sleep(forTimeInterval: 0.005)   // give the decoding threads time to run ahead
                ahead = max(ahead, distorted.pulled - progress.framesRead, reference.pulled - progress.framesRead)
                return true
            }
            XCTAssertEqual(report.comparedFrames, 12)
            XCTAssertGreaterThan(ahead, 0, "nothing was decoded ahead")
            XCTAssertLessThanOrEqual(ahead, inFlight + 1)
        }
        let file = try VideoPlanesSource(path: clips.x264[18]!)
        var options = QualityEvaluator.Options()
        options.metrics = [.ssim]
        let report = try QualityEvaluator(options: options).compare(distorted: file, reference: PlanarImageSource(images)) {
            $0.framesRead < 4
        }
        XCTAssertEqual(report.comparedFrames, 4)
        XCTAssertEqual(report.frames.count, 4)
        // The thread has let go of the reader: it goes on reading from where decoding stopped.
        var rest = 0
        while try file.nextPlanes() != nil { rest += 1 }
        XCTAssertGreaterThan(rest, 0)
        XCTAssertLessThanOrEqual(rest, 12 - 4)
    }

    /// One source passed as both inputs is read in turn (pairs of consecutive pictures), as
    /// before the inputs decoded on threads of their own.
    func testOneSourceAsBothInputsPairsConsecutivePictures() throws {
        let clips = MetricsOracle.Clips.shared
        let images = try MetricsOracle.planes(clips.reference, width: 96, height: 64)
        let source = PlanarImageSource(images)
        var options = QualityEvaluator.Options()
        options.metrics = [.ssim]
        let report = try QualityEvaluator(options: options).compare(distorted: source, reference: source)
        XCTAssertEqual(report.comparedFrames, 6)
        for (k, f) in report.frames.enumerated() {
            XCTAssertEqual(f.ssim, try FFmpegSSIM.score(images[2 * k], images[2 * k + 1]))
        }
    }
}

/// In-memory pictures that count how many were pulled and can fail at a given index.
private final class ScriptedSource: PlanarFrameSource {
    let name = "scripted"
    private let images: [PlanarImage]
    private let failAt: Int?
    private let lock = NSLock()
    private var count = 0

    init(_ images: [PlanarImage], failAt: Int? = nil) {
        self.images = images
        self.failAt = failAt
    }

    /// Calls to `nextPlanes()` so far (any thread).
    var pulled: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }

    func nextPlanes() throws -> PlanarImage? {
        lock.lock()
        let index = count
        count += 1
        lock.unlock()
        if index == failAt { throw FrameIOError.notAVideo(path: name, reason: "broken at \(index)") }
        return index < images.count ? images[index] : nil
    }
}

/// A small deterministic generator (SplitMix64) for the random planes.
private struct SplitMix {
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
