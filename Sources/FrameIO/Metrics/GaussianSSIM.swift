import Foundation

/// SSIM as defined by Wang et al. 2004 and computed by scikit-image's
/// `structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
/// data_range=255)`:
/// - local means, variances and covariance from an 11x11 Gaussian window (sigma 1.5, truncated
///   at 3.5 sigma as skimage does: radius `int(3.5 * 1.5 + 0.5) = 5`), weights normalised to 1;
/// - population covariance; `C1 = (0.01 * 255)^2`, `C2 = (0.03 * 255)^2`;
/// - skimage filters with `mode='reflect'` and then crops `(11 - 1) / 2 = 5` samples from every
///   border before averaging the SSIM map; every kept sample's window lies inside the image, so
///   only interior windows are computed here (no padding is ever read) — the same numbers.
///
/// It differs from `FFmpegSSIM` (8x8 box windows at stride 4, integer constants): always name
/// the definition you report. Images must be at least 11x11 (skimage raises otherwise).
public enum GaussianSSIM {
    /// Gaussian standard deviation in samples.
    public static let sigma = 1.5
    /// Filter radius: `int(3.5 * sigma + 0.5)` (scipy's truncate=3.5), so 11 taps.
    public static let radius = 5
    /// The dynamic range of 8-bit samples.
    public static let dataRange = 255.0
    /// `(K1 * L)^2` with K1 = 0.01.
    public static let c1 = (0.01 * 255.0) * (0.01 * 255.0)
    /// `(K2 * L)^2` with K2 = 0.03.
    public static let c2 = (0.03 * 255.0) * (0.03 * 255.0)

    /// The normalised 1-D Gaussian taps, as scipy's `_gaussian_kernel1d(1.5, 0, 5)`.
    public static let weights: [Double] = {
        let taps = (-radius...radius).map { exp(-0.5 / (sigma * sigma) * Double($0 * $0)) }
        let total = taps.reduce(0, +)
        return taps.map { $0 / total }
    }()

    /// What an `RGBFrame` comparison measures.
    public enum Channels: String, Sendable, Codable, CaseIterable {
        /// SSIM of R, G and B separately, averaged (skimage with `channel_axis=-1`).
        case rgbMean = "rgb"
        /// SSIM of BT.601 luma `0.299 R + 0.587 G + 0.114 B` (full range, unrounded Double).
        case luma601 = "luma601"
        /// SSIM of BT.709 luma `0.2126 R + 0.7152 G + 0.0722 B` (full range, unrounded Double).
        case luma709 = "luma709"
    }

    /// Mean SSIM of two 8-bit planes (e.g. the Y planes of decoded video). Throws
    /// `FrameIOError.shapeMismatch` when the sizes differ and `invalidArgument` under 11x11.
    public static func ssim(_ distorted: Plane, _ reference: Plane) throws -> Double {
        try checkSize(distorted.width, distorted.height, reference.width, reference.height)
        return distorted.data.withUnsafeBufferPointer { x in
            reference.data.withUnsafeBufferPointer { y in
                mean(x, y, width: distorted.width, height: distorted.height)
            }
        }
    }

    /// Mean SSIM of two RGB frames on `channels` (planar Float32 frames are quantised to 8 bits
    /// first, as an encoder would see them). Throws as `ssim(_:_:)` for planes.
    public static func ssim(_ distorted: RGBFrame, _ reference: RGBFrame, channels: Channels = .rgbMean) throws -> Double {
        try checkSize(distorted.width, distorted.height, reference.width, reference.height)
        let a = distorted.packedRGB, b = reference.packedRGB
        let count = distorted.width * distorted.height
        func extract(_ bytes: [UInt8], _ weights: (Double, Double, Double)) -> [Double] {
            var out = [Double](repeating: 0, count: count)
            for i in 0..<count {
                out[i] = weights.0 * Double(bytes[3 * i]) + weights.1 * Double(bytes[3 * i + 1])
                    + weights.2 * Double(bytes[3 * i + 2])
            }
            return out
        }
        switch channels {
        case .rgbMean:
            var total = 0.0
            for w in [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)] {
                total += mean(extract(a, w), extract(b, w), width: distorted.width, height: distorted.height)
            }
            return total / 3
        case .luma601:
            let w = (0.299, 0.587, 0.114)
            return mean(extract(a, w), extract(b, w), width: distorted.width, height: distorted.height)
        case .luma709:
            let w = (0.2126, 0.7152, 0.0722)
            return mean(extract(a, w), extract(b, w), width: distorted.width, height: distorted.height)
        }
    }

    static func checkSize(_ w: Int, _ h: Int, _ w2: Int, _ h2: Int) throws {
        guard w == w2, h == h2 else {
            throw FrameIOError.shapeMismatch("SSIM needs images of one size, got \(w)x\(h) and \(w2)x\(h2)")
        }
        guard w >= 2 * radius + 1, h >= 2 * radius + 1 else {
            throw FrameIOError.invalidArgument(
                "Gaussian SSIM needs images of at least \(2 * radius + 1)x\(2 * radius + 1), got \(w)x\(h)")
        }
    }

    /// The mean of the SSIM map of two 8-bit planes.
    static func mean(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>, width w: Int, height h: Int) -> Double {
        mean(width: w, height: h) { xd, yd in
            for i in 0..<(w * h) {
                xd[i] = Double(x[i])
                yd[i] = Double(y[i])
            }
        }
    }

    /// The mean of the SSIM map of two 8-bit planes with their own row strides in bytes.
    static func mean(_ x: UnsafePointer<UInt8>, _ strideX: Int, _ y: UnsafePointer<UInt8>, _ strideY: Int,
                     width w: Int, height h: Int) -> Double {
        mean(width: w, height: h) { xd, yd in
            for r in 0..<h {
                let xr = x + r * strideX, yr = y + r * strideY, o = r * w
                for i in 0..<w {
                    xd[o + i] = Double(xr[i])
                    yd[o + i] = Double(yr[i])
                }
            }
        }
    }

    /// The mean of the SSIM map of two Double images (row-major, `width * height` each).
    static func mean(_ x: [Double], _ y: [Double], width w: Int, height h: Int) -> Double {
        mean(width: w, height: h) { xd, yd in
            x.withUnsafeBufferPointer { xd.update(from: $0.baseAddress!, count: w * h) }
            y.withUnsafeBufferPointer { yd.update(from: $0.baseAddress!, count: w * h) }
        }
    }

    /// The mean of the SSIM map over the samples at least `radius` from every border; `load`
    /// fills the two input images. Works in strips: the horizontal pass of each input row goes
    /// into a ring of 11 rows (5 maps: x, y, x*x, y*y, x*y), so the working set stays in cache.
    static func mean(width w: Int, height h: Int,
                     load: (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Void) -> Double {
        let taps = 2 * radius + 1
        let ow = w - 2 * radius, oh = h - 2 * radius
        let plane = w * h
        let images = UnsafeMutablePointer<Double>.allocate(capacity: 2 * plane)
        let products = UnsafeMutablePointer<Double>.allocate(capacity: 3 * w)
        let ring = UnsafeMutablePointer<Double>.allocate(capacity: taps * 5 * ow)
        let rows = UnsafeMutablePointer<Double>.allocate(capacity: 5 * ow)
        defer {
            images.deallocate()
            products.deallocate()
            ring.deallocate()
            rows.deallocate()
        }
        load(images, images + plane)
        // The kernel is symmetric: w[k] == w[10 - k].
        let wt = weights
        let w0 = wt[0], w1 = wt[1], w2 = wt[2], w3 = wt[3], w4 = wt[4], w5 = wt[5]

        /// Horizontal pass of input row `r` into ring slot `r % taps`.
        func horizontal(_ r: Int) {
            let xr = images + r * w, yr = images + plane + r * w
            for i in 0..<w {
                let a = xr[i], b = yr[i]
                products[i] = a * a
                products[w + i] = b * b
                products[2 * w + i] = a * b
            }
            let sources = [xr, yr, products, products + w, products + 2 * w]
            let slot = ring + (r % taps) * 5 * ow
            for q in 0..<5 {
                let s = sources[q]
                let out = slot + q * ow
                for j in 0..<ow {
                    let p = s + j
                    var v = w5 * p[5]
                    v += w4 * (p[4] + p[6])
                    v += w3 * (p[3] + p[7])
                    v += w2 * (p[2] + p[8])
                    v += w1 * (p[1] + p[9])
                    v += w0 * (p[0] + p[10])
                    out[j] = v
                }
            }
        }

        for r in 0..<(taps - 1) { horizontal(r) }
        let c1 = GaussianSSIM.c1, c2 = GaussianSSIM.c2
        var total = 0.0
        for i in 0..<oh {
            horizontal(i + taps - 1)
            // Vertical pass for output row i from ring rows i...i+10.
            let r0 = ring + ((i + 0) % taps) * 5 * ow, r1 = ring + ((i + 1) % taps) * 5 * ow
            let r2 = ring + ((i + 2) % taps) * 5 * ow, r3 = ring + ((i + 3) % taps) * 5 * ow
            let r4 = ring + ((i + 4) % taps) * 5 * ow, r5 = ring + ((i + 5) % taps) * 5 * ow
            let r6 = ring + ((i + 6) % taps) * 5 * ow, r7 = ring + ((i + 7) % taps) * 5 * ow
            let r8 = ring + ((i + 8) % taps) * 5 * ow, r9 = ring + ((i + 9) % taps) * 5 * ow
            let r10 = ring + ((i + 10) % taps) * 5 * ow
            for j in 0..<(5 * ow) {
                var v = w5 * r5[j]
                v += w4 * (r4[j] + r6[j])
                v += w3 * (r3[j] + r7[j])
                v += w2 * (r2[j] + r8[j])
                v += w1 * (r1[j] + r9[j])
                v += w0 * (r0[j] + r10[j])
                rows[j] = v
            }
            var rowSum = 0.0
            for j in 0..<ow {
                let ux = rows[j], uy = rows[ow + j]
                let vx = rows[2 * ow + j] - ux * ux
                let vy = rows[3 * ow + j] - uy * uy
                let vxy = rows[4 * ow + j] - ux * uy
                let a1 = 2 * ux * uy + c1, a2 = 2 * vxy + c2
                let b1 = ux * ux + uy * uy + c1, b2 = vx + vy + c2
                rowSum += (a1 * a2) / (b1 * b2)
            }
            total += rowSum
        }
        return total / Double(ow * oh)
    }
}
