import Foundation
#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

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
                planeMean(a.baseAddress!, distorted.width, b.baseAddress!, reference.width,
                          width: distorted.width, height: distorted.height, workspace: Workspace())
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
        weightedAll(planes, counts: sizes.map { $0.width * $0.height })
    }

    /// `weightedAll(_:sizes:)` from the planes' sample counts.
    static func weightedAll(_ planes: [Double], counts: [Int]) -> Double {
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

    /// Scratch memory for `planeMean`: two rows of 4x4 block sums (s1, s2, ss, s12 as separate
    /// arrays, so the window loop vectorises) and the window ratios of one row. Grows to the
    /// widest plane seen and is then reused, so scoring a stream of frames allocates nothing.
    /// Not thread-safe: one per thread.
    final class Workspace {
        /// Blocks per row the buffers hold.
        private(set) var capacity = 0
        /// Two block rows of 4 moment arrays, each `capacity + 1` long.
        private(set) var rows = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        /// One window row's SSIM ratios (`capacity` of them).
        private(set) var ratios = UnsafeMutablePointer<Float>.allocate(capacity: 1)

        deinit {
            rows.deallocate()
            ratios.deallocate()
        }

        /// Makes room for planes `blocks` 4x4 blocks wide.
        func reserve(blocks: Int) {
            guard blocks > capacity else { return }
            rows.deallocate()
            ratios.deallocate()
            rows = .allocate(capacity: 8 * (blocks + 1))
            rows.initialize(repeating: 0, count: 8 * (blocks + 1))
            ratios = .allocate(capacity: blocks)
            ratios.initialize(repeating: 0, count: blocks)
            capacity = blocks
        }
    }

    /// The mean window SSIM of one plane (vf_ssim's `ssim_plane` over all rows, then divided by
    /// the window count). `width` and `height` are at least 8; each picture has its own row
    /// stride in bytes. The arithmetic (and so every bit of the result) is the same as a
    /// window-by-window loop: exact integer moments, one `Float` ratio per window, the ratios of a
    /// row added in order in `Double`, then the rows in order.
    static func planeMean(_ a: UnsafePointer<UInt8>, _ strideA: Int, _ b: UnsafePointer<UInt8>, _ strideB: Int,
                          width: Int, height: Int, workspace: Workspace) -> Double {
        let w4 = width >> 2, h4 = height >> 2
        workspace.reserve(blocks: w4)
        let m = w4 + 1
        var previous = workspace.rows, current = workspace.rows + 4 * m
        blockSums(a, strideA, b, strideB, into: previous, stride: m, count: w4)
        var total = 0.0
        for y in 1..<h4 {
            blockSums(a + 4 * y * strideA, strideA, b + 4 * y * strideB, strideB, into: current, stride: m, count: w4)
            total += endLine(previous, current, stride: m, count: w4 - 1, ratios: workspace.ratios)
            swap(&previous, &current)
        }
        return total / Double((w4 - 1) * (h4 - 1))
    }

    /// vf_ssim's `ssim_4x4xn_8bit`: sums s1, s2, ss, s12 of `count` 4x4 blocks side by side, stored
    /// as four arrays `stride` apart. Integer sums, so the order does not change the result. On
    /// x86-64, four blocks at a time with SSE2 (as vf_ssim's own `ssim_4x4_line`: 16-bit samples,
    /// `pmaddwd` for the squares and products); `blockSumsScalar` does the rest (all of it elsewhere).
    @inline(__always)
    static func blockSums(_ a: UnsafePointer<UInt8>, _ strideA: Int, _ b: UnsafePointer<UInt8>, _ strideB: Int,
                          into sums: UnsafeMutablePointer<Int32>, stride m: Int, count: Int) {
        var z = 0
        #if arch(x86_64)
        let zero = _mm_setzero_si128(), ones = _mm_set1_epi16(1)
        /// Int32 pair sums `[p0 p1 p2 p3]`, `[p4 p5 p6 p7]` to `[p0+p1, p2+p3, p4+p5, p6+p7]`.
        @inline(__always) func quads(_ lo: __m128i, _ hi: __m128i) -> __m128i {
            let l = _mm_add_epi32(lo, _mm_srli_epi64(lo, 32))   // [p0+p1, _, p2+p3, _]
            let h = _mm_add_epi32(hi, _mm_srli_epi64(hi, 32))   // [p4+p5, _, p6+p7, _]
            return _mm_unpacklo_epi32(_mm_unpacklo_epi32(l, h), _mm_unpackhi_epi32(l, h))
        }
        @inline(__always) func store(_ v: __m128i, _ p: UnsafeMutablePointer<Int32>) {
            _mm_storeu_si128(UnsafeMutableRawPointer(p).assumingMemoryBound(to: __m128i.self), v)
        }
        while z + 4 <= count {
            // Per 16 columns: sample sums in 16 bits, squares and products as pair sums in 32.
            var sul = zero, suh = zero, svl = zero, svh = zero
            var ssl = zero, ssh = zero, s12l = zero, s12h = zero
            for dy in 0..<4 {
                let u = _mm_loadu_si128(UnsafeRawPointer(a + dy * strideA + 4 * z).assumingMemoryBound(to: __m128i.self))
                let v = _mm_loadu_si128(UnsafeRawPointer(b + dy * strideB + 4 * z).assumingMemoryBound(to: __m128i.self))
                let ul = _mm_unpacklo_epi8(u, zero), uh = _mm_unpackhi_epi8(u, zero)
                let vl = _mm_unpacklo_epi8(v, zero), vh = _mm_unpackhi_epi8(v, zero)
                sul = _mm_add_epi16(sul, ul)
                suh = _mm_add_epi16(suh, uh)
                svl = _mm_add_epi16(svl, vl)
                svh = _mm_add_epi16(svh, vh)
                ssl = _mm_add_epi32(ssl, _mm_add_epi32(_mm_madd_epi16(ul, ul), _mm_madd_epi16(vl, vl)))
                ssh = _mm_add_epi32(ssh, _mm_add_epi32(_mm_madd_epi16(uh, uh), _mm_madd_epi16(vh, vh)))
                s12l = _mm_add_epi32(s12l, _mm_madd_epi16(ul, vl))
                s12h = _mm_add_epi32(s12h, _mm_madd_epi16(uh, vh))
            }
            store(quads(_mm_madd_epi16(sul, ones), _mm_madd_epi16(suh, ones)), sums + z)
            store(quads(_mm_madd_epi16(svl, ones), _mm_madd_epi16(svh, ones)), sums + m + z)
            store(quads(ssl, ssh), sums + 2 * m + z)
            store(quads(s12l, s12h), sums + 3 * m + z)
            z += 4
        }
        #endif
        if z < count {
            blockSumsScalar(a + 4 * z, strideA, b + 4 * z, strideB, into: sums + z, stride: m, count: count - z)
        }
    }

    /// `blockSums` one block at a time in plain Swift.
    static func blockSumsScalar(_ a: UnsafePointer<UInt8>, _ strideA: Int, _ b: UnsafePointer<UInt8>, _ strideB: Int,
                                into sums: UnsafeMutablePointer<Int32>, stride m: Int, count: Int) {
        for z in 0..<count {
            var t1: Int32 = 0, t2: Int32 = 0, tss: Int32 = 0, t12: Int32 = 0
            for dy in 0..<4 {
                let pa = a + dy * strideA + 4 * z, pb = b + dy * strideB + 4 * z
                for dx in 0..<4 {
                    let u = Int32(pa[dx]), v = Int32(pb[dx])
                    t1 &+= u
                    t2 &+= v
                    tss &+= u &* u &+ v &* v
                    t12 &+= u &* v
                }
            }
            sums[z] = t1
            sums[m + z] = t2
            sums[2 * m + z] = tss
            sums[3 * m + z] = t12
        }
    }

    /// vf_ssim's `ssim_endn_8bit` + `ssim_end1`: the SSIM of `count` 8x8 windows formed from two
    /// rows of block sums, summed in Double. The ratios are formed first, four windows at a time
    /// on x86-64 (SSE2: the same integer moments, each Int32 to Float conversion, product and
    /// quotient rounded as the scalar code rounds them), then added in window order.
    @inline(__always)
    static func endLine(_ sum0: UnsafePointer<Int32>, _ sum1: UnsafePointer<Int32>, stride m: Int, count: Int,
                        ratios: UnsafeMutablePointer<Float>) -> Double {
        let c1 = FFmpegSSIM.c1, c2 = FFmpegSSIM.c2
        let a1 = sum0, a2 = sum0 + m, ass = sum0 + 2 * m, a12 = sum0 + 3 * m
        let b1 = sum1, b2 = sum1 + m, bss = sum1 + 2 * m, b12 = sum1 + 3 * m
        var i = 0
        #if arch(x86_64)
        @inline(__always) func window(_ a: UnsafePointer<Int32>, _ b: UnsafePointer<Int32>, _ i: Int) -> __m128i {
            @inline(__always) func load(_ p: UnsafePointer<Int32>) -> __m128i {
                _mm_loadu_si128(UnsafeRawPointer(p).assumingMemoryBound(to: __m128i.self))
            }
            return _mm_add_epi32(_mm_add_epi32(load(a + i), load(a + i + 1)), _mm_add_epi32(load(b + i), load(b + i + 1)))
        }
        let vc1 = _mm_set1_epi32(c1), vc2 = _mm_set1_epi32(c2)
        while i + 4 <= count {
            let s1 = window(a1, b1, i), s2 = window(a2, b2, i), ss = window(ass, bss, i), s12 = window(a12, b12, i)
            // s1, s2 <= 64 * 255 < 2^15 with the upper 16 bits clear: pmaddwd gives the exact products.
            let s1s1 = _mm_madd_epi16(s1, s1), s2s2 = _mm_madd_epi16(s2, s2), s1s2 = _mm_madd_epi16(s1, s2)
            let vars = _mm_sub_epi32(_mm_sub_epi32(_mm_slli_epi32(ss, 6), s1s1), s2s2)
            let covar = _mm_sub_epi32(_mm_slli_epi32(s12, 6), s1s2)
            let numerator = _mm_mul_ps(_mm_cvtepi32_ps(_mm_add_epi32(_mm_slli_epi32(s1s2, 1), vc1)),
                                       _mm_cvtepi32_ps(_mm_add_epi32(_mm_slli_epi32(covar, 1), vc2)))
            let denominator = _mm_mul_ps(_mm_cvtepi32_ps(_mm_add_epi32(_mm_add_epi32(s1s1, s2s2), vc1)),
                                         _mm_cvtepi32_ps(_mm_add_epi32(vars, vc2)))
            _mm_storeu_ps(ratios + i, _mm_div_ps(numerator, denominator))
            i += 4
        }
        #endif
        while i < count {
            let s1 = a1[i] &+ a1[i + 1] &+ b1[i] &+ b1[i + 1]
            let s2 = a2[i] &+ a2[i + 1] &+ b2[i] &+ b2[i + 1]
            let ss = ass[i] &+ ass[i + 1] &+ bss[i] &+ bss[i + 1]
            let s12 = a12[i] &+ a12[i + 1] &+ b12[i] &+ b12[i + 1]
            let vars = ss &* 64 &- s1 &* s1 &- s2 &* s2
            let covar = s12 &* 64 &- s1 &* s2
            let numerator = Float(2 &* s1 &* s2 &+ c1) * Float(2 &* covar &+ c2)
            let denominator = Float(s1 &* s1 &+ s2 &* s2 &+ c1) * Float(vars &+ c2)
            ratios[i] = numerator / denominator
            i += 1
        }
        var total = 0.0
        for k in 0..<count { total += Double(ratios[k]) }
        return total
    }
}
