import Foundation

/// SSIM exactly as FFmpeg 5.1's `ssim` filter computes it for 8-bit planar input
/// (libavfilter/vf_ssim.c, itself x264's approximation of Wang et al. 2004).
///
/// Per plane, at the plane's own resolution:
/// - the plane is cut into 4x4 blocks (`width >> 2` by `height >> 2`; the right and bottom
///   remainders of fewer than 4 samples are ignored, as FFmpeg does);
/// - each 8x8 window is four neighbouring blocks, so windows step by 4 samples and there are
///   `(width/4 - 1) * (height/4 - 1)` of them;
/// - per window the integer sums s1, s2, ss, s12 give SSIM with x264's integer constants
///   `c1 = (int)(.01*.01*255*255*64 + .5)` and `c2 = (int)(.03*.03*255*255*64*63 + .5)`, using the
///   filter's arithmetic: integers for the moments, `Float` for the final ratio, `Double` for the
///   row sums and the plane mean.
///
/// `All` weights the planes by pixel count; dB is `10*log10(1/(1-ssim))` (`inf` when
/// `|1 - ssim| <= 1e-9`). The per-frame values agree with `ffmpeg -lavfi ssim=stats_file=-`
/// to its printed precision; FFmpeg's SIMD kernels and slice threads only change the order of
/// Double additions.
public enum FFmpegSSIM {
    /// x264's c1 for 8-bit samples (416).
    public static let c1 = Int32(0.01 * 0.01 * 255 * 255 * 64 + 0.5)
    /// x264's c2 for 8-bit samples (235963).
    public static let c2 = Int32(0.03 * 0.03 * 255 * 255 * 64 * 63 + 0.5)

    /// SSIM of one plane pair. Throws `FrameIOError.shapeMismatch` when the sizes differ and
    /// `FrameIOError.invalidArgument` when the plane is smaller than 8x8 (FFmpeg would divide by
    /// zero and report nan).
    public static func plane(_ distorted: Plane, _ reference: Plane) throws -> Double {
        guard distorted.width == reference.width, distorted.height == reference.height else {
            throw FrameIOError.shapeMismatch(
                "SSIM needs planes of one size, got \(distorted.width)x\(distorted.height) and \(reference.width)x\(reference.height)")
        }
        guard distorted.width >= 8, distorted.height >= 8 else {
            throw FrameIOError.invalidArgument(
                "SSIM needs planes of at least 8x8 samples, got \(distorted.width)x\(distorted.height)")
        }
        return distorted.data.withUnsafeBufferPointer { a in
            reference.data.withUnsafeBufferPointer { b in
                planeMean(a.baseAddress!, b.baseAddress!, width: distorted.width, height: distorted.height,
                          stride: distorted.width)
            }
        }
    }

    /// SSIM of a picture pair: per plane and `All`. Both must share pixel format and plane sizes;
    /// throws `FrameIOError.shapeMismatch` otherwise (and `invalidArgument` for planes under 8x8).
    public static func score(_ distorted: PlanarImage, _ reference: PlanarImage) throws -> SSIMScore {
        try checkCompatible(distorted, reference)
        var planes = [Double]()
        planes.reserveCapacity(distorted.planes.count)
        for (a, b) in zip(distorted.planes, reference.planes) {
            planes.append(try plane(a, b))
        }
        return SSIMScore(planes: planes, all: weightedAll(planes, sizes: distorted.planes))
    }

    /// `All` as vf_ssim forms it: `sum(coef[i] * ssim[i])` with `coef[i] = pixels[i] / total`.
    static func weightedAll(_ planes: [Double], sizes: [Plane]) -> Double {
        let counts = sizes.map { $0.width * $0.height }
        let total = counts.reduce(0, +)
        var all = 0.0
        for (value, count) in zip(planes, counts) {
            all += (Double(count) / Double(total)) * value
        }
        return all
    }

    /// `10 * log10(weight / (weight - ssim))`: the dB figure FFmpeg prints. With `weight` 1 it is
    /// one frame's dB; with `weight` n and `ssim` the sum over n frames it is the mean's dB.
    /// `+inf` when `|weight - ssim| <= 1e-9`, as FFmpeg 5.1 does.
    public static func decibels(_ ssim: Double, weight: Double = 1) -> Double {
        abs(weight - ssim) > 1e-9 ? 10 * log10(weight / (weight - ssim)) : .infinity
    }

    /// Throws unless the two pictures have the same format, plane count and plane sizes.
    static func checkCompatible(_ a: PlanarImage, _ b: PlanarImage) throws {
        guard a.pixelFormat == b.pixelFormat, a.planes.count == b.planes.count else {
            throw FrameIOError.shapeMismatch(
                "pictures differ in format: \(a.pixelFormat) with \(a.planes.count) planes vs \(b.pixelFormat) with \(b.planes.count)")
        }
        for (i, (p, q)) in zip(a.planes, b.planes).enumerated() where p.width != q.width || p.height != q.height {
            throw FrameIOError.shapeMismatch(
                "plane \(i) differs in size: \(p.width)x\(p.height) vs \(q.width)x\(q.height)")
        }
    }

    /// The mean window SSIM of one plane (vf_ssim's `ssim_plane` over all rows, then divided by
    /// the window count). `width` and `height` are at least 8.
    static func planeMean(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>,
                          width: Int, height: Int, stride: Int) -> Double {
        let w4 = width >> 2, h4 = height >> 2
        let buffer = UnsafeMutablePointer<SIMD4<Int32>>.allocate(capacity: 2 * (w4 + 3))
        buffer.initialize(repeating: .zero, count: 2 * (w4 + 3))
        defer { buffer.deallocate() }
        var sum0 = buffer, sum1 = buffer + (w4 + 3)
        var total = 0.0
        var z = 0
        for y in 1..<h4 {
            while z <= y {
                swap(&sum0, &sum1)
                blockSums(a + 4 * z * stride, b + 4 * z * stride, stride: stride, into: sum0, count: w4)
                z += 1
            }
            total += endLine(sum0, sum1, count: w4 - 1)
        }
        return total / Double((w4 - 1) * (h4 - 1))
    }

    /// vf_ssim's `ssim_4x4xn_8bit`: sums (s1, s2, ss, s12) of `count` 4x4 blocks side by side.
    @inline(__always)
    static func blockSums(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, stride: Int,
                          into sums: UnsafeMutablePointer<SIMD4<Int32>>, count: Int) {
        for z in 0..<count {
            var s1: Int32 = 0, s2: Int32 = 0, ss: Int32 = 0, s12: Int32 = 0
            for dy in 0..<4 {
                let pa = a + dy * stride + 4 * z
                let pb = b + dy * stride + 4 * z
                for dx in 0..<4 {
                    let x = Int32(pa[dx]), y = Int32(pb[dx])
                    s1 &+= x
                    s2 &+= y
                    ss &+= x &* x &+ y &* y
                    s12 &+= x &* y
                }
            }
            sums[z] = SIMD4(s1, s2, ss, s12)
        }
    }

    /// vf_ssim's `ssim_endn_8bit` + `ssim_end1`: the SSIM of `count` 8x8 windows formed from two
    /// rows of block sums, summed in Double.
    @inline(__always)
    static func endLine(_ sum0: UnsafePointer<SIMD4<Int32>>, _ sum1: UnsafePointer<SIMD4<Int32>>,
                        count: Int) -> Double {
        let c1 = FFmpegSSIM.c1, c2 = FFmpegSSIM.c2
        var total = 0.0
        for i in 0..<count {
            let v = sum0[i] &+ sum0[i + 1] &+ sum1[i] &+ sum1[i + 1]
            let s1 = v[0], s2 = v[1], ss = v[2], s12 = v[3]
            let vars = ss &* 64 &- s1 &* s1 &- s2 &* s2
            let covar = s12 &* 64 &- s1 &* s2
            let numerator = Float(2 &* s1 &* s2 &+ c1) * Float(2 &* covar &+ c2)
            let denominator = Float(s1 &* s1 &+ s2 &* s2 &+ c1) * Float(vars &+ c2)
            total += Double(numerator / denominator)
        }
        return total
    }
}
