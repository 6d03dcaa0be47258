import Foundation

/// PSNR exactly as FFmpeg 5.1's `psnr` filter computes it for 8-bit planar input
/// (libavfilter/vf_psnr.c): per plane the integer sum of squared differences over every sample,
/// divided by the plane's sample count; the frame's `mse_avg` weights planes by pixel count;
/// PSNR is `10*log10(255^2 / mse)` (`+inf` when the MSE is 0).
///
/// Over a clip FFmpeg's summary line reports the PSNR of the *mean MSE*, not the mean of the
/// per-frame PSNRs: `y:` is `psnr(mean of mse_y)`, `average:` is `psnr(mean of mse_avg)`,
/// `min:`/`max:` are the PSNRs of the largest/smallest `mse_avg`. `PSNRSummary` does the same.
public enum FFmpegPSNR {
    /// The peak value for 8-bit samples.
    public static let peak = 255.0

    /// Mean squared error of one plane pair. Throws `FrameIOError.shapeMismatch` when the sizes
    /// differ.
    public static func mse(_ distorted: Plane, _ reference: Plane) throws -> Double {
        guard distorted.width == reference.width, distorted.height == reference.height else {
            throw FrameIOError.shapeMismatch(
                "PSNR needs planes of one size, got \(distorted.width)x\(distorted.height) and \(reference.width)x\(reference.height)")
        }
        let count = distorted.data.count
        let sse: UInt64 = distorted.data.withUnsafeBufferPointer { a in
            reference.data.withUnsafeBufferPointer { b in
                sumSquaredDifferences(a.baseAddress!, b.baseAddress!, count: count)
            }
        }
        return Double(sse) / (Double(distorted.width) * Double(distorted.height))
    }

    /// PSNR of a picture pair: per-plane MSE and the weighted `mse_avg`. Throws
    /// `FrameIOError.shapeMismatch` unless formats and plane sizes agree.
    public static func score(_ distorted: PlanarImage, _ reference: PlanarImage) throws -> PSNRScore {
        try FFmpegSSIM.checkCompatible(distorted, reference)
        var mse = [Double]()
        for (a, b) in zip(distorted.planes, reference.planes) {
            mse.append(try FFmpegPSNR.mse(a, b))
        }
        return PSNRScore(mse: mse, mseAverage: FFmpegSSIM.weightedAll(mse, sizes: distorted.planes))
    }

    /// `10 * log10(255^2 / mse)` in dB; `+inf` for an MSE of 0.
    public static func decibels(mse: Double) -> Double {
        10 * log10(peak * peak / mse)
    }

    /// Sum of squared differences, accumulated in 32-bit chunks (as vf_psnr's per-line `unsigned`)
    /// and then in 64 bits; exact for any plane size.
    static func sumSquaredDifferences(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, count: Int) -> UInt64 {
        var total: UInt64 = 0
        var start = 0
        // 65025 * 16384 < 2^32: a chunk of 16384 samples cannot overflow UInt32.
        let chunk = 16384
        while start < count {
            let end = min(start + chunk, count)
            var partial: UInt32 = 0
            for i in start..<end {
                let d = Int32(a[i]) &- Int32(b[i])
                partial &+= UInt32(bitPattern: d &* d)
            }
            total &+= UInt64(partial)
            start = end
        }
        return total
    }

    /// `sumSquaredDifferences(_:_:count:)` of two `width` x `height` planes with their own row
    /// strides in bytes, row by row (the same exact integer).
    static func sumSquaredDifferences(_ a: UnsafePointer<UInt8>, _ strideA: Int, _ b: UnsafePointer<UInt8>, _ strideB: Int,
                                      width: Int, height: Int) -> UInt64 {
        if strideA == width && strideB == width { return sumSquaredDifferences(a, b, count: width * height) }
        var total: UInt64 = 0
        for y in 0..<height {
            total &+= sumSquaredDifferences(a + y * strideA, b + y * strideB, count: width)
        }
        return total
    }
}
