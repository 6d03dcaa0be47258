import Foundation

/// The Frechet distance between two Gaussians (Dowson & Landau 1982; the FID of Heusel et al.
/// 2017 when the Gaussians are fitted to Inception features):
/// `d² = |μ₁ − μ₂|² + tr(Σ₁) + tr(Σ₂) − 2 tr((Σ₁^½ Σ₂ Σ₁^½)^½)`.
///
/// The trace term is computed from two symmetric eigendecompositions (Jacobi, in Double), which
/// equals `tr(sqrtm(Σ₁Σ₂))` as scipy computes it for FID, without a non-symmetric matrix square
/// root. Negative eigenvalues from rounding are clamped to 0.
public enum FrechetDistance {
    /// A Gaussian fitted to feature vectors.
    public struct Gaussian: Sendable, Equatable {
        /// Dimension.
        public let dimension: Int
        /// Mean vector.
        public let mean: [Double]
        /// Covariance, row-major `dimension x dimension`.
        public let covariance: [Double]

        /// A Gaussian with the given mean and row-major covariance.
        public init(mean: [Double], covariance: [Double]) {
            precondition(covariance.count == mean.count * mean.count,
                         "FrechetDistance.Gaussian: covariance has \(covariance.count) entries, expected \(mean.count)x\(mean.count)")
            dimension = mean.count
            self.mean = mean
            self.covariance = covariance
        }

        /// Fits the sample mean and the unbiased sample covariance (divisor n − 1, as
        /// `numpy.cov`) of `samples` (at least 2, all the same length).
        public init(samples: [[Float]]) {
            precondition(samples.count >= 2, "FrechetDistance.Gaussian: needs at least 2 samples, got \(samples.count)")
            let d = samples[0].count
            precondition(samples.allSatisfy { $0.count == d }, "FrechetDistance.Gaussian: samples differ in length")
            var mean = [Double](repeating: 0, count: d)
            for s in samples { for i in 0..<d { mean[i] += Double(s[i]) } }
            for i in 0..<d { mean[i] /= Double(samples.count) }
            var cov = [Double](repeating: 0, count: d * d)
            for s in samples {
                let c = (0..<d).map { Double(s[$0]) - mean[$0] }
                for i in 0..<d { for j in i..<d { cov[i * d + j] += c[i] * c[j] } }
            }
            let norm = 1 / Double(samples.count - 1)
            for i in 0..<d {
                for j in i..<d {
                    cov[i * d + j] *= norm
                    cov[j * d + i] = cov[i * d + j]
                }
            }
            self.init(mean: mean, covariance: cov)
        }
    }

    /// The Frechet distance (squared, as FID reports it) between two Gaussians of the same
    /// dimension.
    public static func distance(_ a: Gaussian, _ b: Gaussian) -> Double {
        precondition(a.dimension == b.dimension, "FrechetDistance: dimensions differ (\(a.dimension) vs \(b.dimension))")
        let d = a.dimension
        var meanTerm = 0.0, traceA = 0.0, traceB = 0.0
        for i in 0..<d {
            meanTerm += (a.mean[i] - b.mean[i]) * (a.mean[i] - b.mean[i])
            traceA += a.covariance[i * d + i]
            traceB += b.covariance[i * d + i]
        }
        // Σa^½ from Σa's eigendecomposition, then the eigenvalues of Σa^½ Σb Σa^½.
        let rootA = symmetricSquareRoot(a.covariance, d)
        let m = multiply(multiply(rootA, b.covariance, d), rootA, d)
        let cross = symmetricEigenvalues(m, d).reduce(0) { $0 + max($1, 0).squareRoot() }
        return meanTerm + traceA + traceB - 2 * cross
    }

    /// Fits Gaussians to two feature sets and returns their Frechet distance.
    public static func distance(_ a: [[Float]], _ b: [[Float]]) -> Double {
        distance(Gaussian(samples: a), Gaussian(samples: b))
    }

    /// The jackknife standard error of `distance(samples, reference)` (Efron & Tibshirani 1993,
    /// ch. 11): the distance recomputed with each sample left out in turn, the reference held
    /// fixed; `sqrt((n − 1)/n · Σ (d₋ᵢ − mean)²)`. It measures how much the distance moves with
    /// the particular clips drawn, the noise between two models judged against the same
    /// reference. (A bootstrap would resample with replacement, and with fewer samples than
    /// dimensions its duplicates shrink the fitted covariance's rank and inflate the distance.)
    ///
    /// - Precondition: at least 3 samples, all the reference's dimension.
    public static func jackknifeStandardError(_ samples: [[Float]], against reference: Gaussian) -> Double {
        precondition(samples.count >= 3, "FrechetDistance.jackknifeStandardError: needs at least 3 samples, got \(samples.count)")
        let n = samples.count
        let values = (0..<n).map { left -> Double in
            var kept = samples
            kept.remove(at: left)
            return distance(Gaussian(samples: kept), reference)
        }
        let mean = values.reduce(0, +) / Double(n)
        return (Double(n - 1) / Double(n) * values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }).squareRoot()
    }

    /// Eigenvalues of a symmetric matrix.
    static func symmetricEigenvalues(_ matrix: [Double], _ n: Int) -> [Double] {
        SymmetricEigen.decompose(matrix, size: n).values
    }

    /// The principal square root of a symmetric positive semi-definite matrix.
    static func symmetricSquareRoot(_ matrix: [Double], _ n: Int) -> [Double] {
        let (values, vectors) = SymmetricEigen.decompose(matrix, size: n)
        let roots = values.map { max($0, 0).squareRoot() }
        var out = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                var s = 0.0
                for k in 0..<n { s += vectors[i * n + k] * roots[k] * vectors[j * n + k] }
                out[i * n + j] = s
            }
        }
        return out
    }

    static func multiply(_ a: [Double], _ b: [Double], _ n: Int) -> [Double] {
        var out = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for k in 0..<n {
                let aik = a[i * n + k]
                if aik == 0 { continue }
                for j in 0..<n { out[i * n + j] += aik * b[k * n + j] }
            }
        }
        return out
    }
}
