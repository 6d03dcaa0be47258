import Foundation

/// A fixed affine map of the pooled text embedding, fitted to the training captions: the
/// embedding's component along each principal direction of the captions' spread is scaled by
/// 1 / sqrt(variance + eps), components the captions do not vary in are dropped, and the whole is
/// scaled so that the captions' whitened embeddings have unit mean squared norm
/// (`DenoiserConfig.textWhitening`). For a unit-length embedding e the map is
/// W·(e − μ), and the unconditional (zero) embedding stays zero: f(e) = W·(e − |e|·μ).
///
/// Its parameters are fixed (`Parameter.trainable` false): `train` fits them once, when a run
/// starts, and they travel with the model (checkpoint keys `textWhitening.mean`,
/// `textWhitening.matrix`). A fresh module is the identity.
public final class TextWhitening: Module {
    /// μ, the training captions' mean embedding `[D]`.
    public let mean: Parameter
    /// W `[D, D]` (symmetric).
    public let matrix: Parameter

    /// The identity map on `dim`-wide embeddings.
    public init(dim: Int) {
        mean = Parameter(Tensor.zeros([dim]), trainable: false)
        var identity = [Float](repeating: 0, count: dim * dim)
        for i in 0..<dim { identity[i * dim + i] = 1 }
        matrix = Parameter(Tensor(shape: [dim, dim], data: identity), trainable: false)
    }

    /// Whitens `text` `[B, D]`. No gradient flows to the text (it is an input, never a parameter).
    public func callAsFunction(_ text: Tensor) -> Tensor {
        let d = mean.shape[0], b = text.shape[0]
        precondition(text.shape == [b, d], "TextWhitening: expected text of shape [B, \(d)], got \(text.shape)")
        let e = text.toArray(), mu = mean.value.toArray()
        var centred = [Float](repeating: 0, count: b * d)
        for r in 0..<b {
            let row = e[(r * d)..<((r + 1) * d)]
            let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for i in 0..<d { centred[r * d + i] = row[row.startIndex + i] - norm * mu[i] }
        }
        return withoutGradients { linear(Tensor(shape: [b, d], data: centred), weight: matrix.value, bias: nil) }
    }

    /// Fits μ and W to `embeddings` (the training captions' distinct pooled embeddings, unit
    /// length; zero ones, the unconditional caption, are left out).
    ///
    /// - Throws: `DenoiserError.invalidConfig` when fewer than two distinct captions remain or a
    ///   width differs.
    public func fit(_ embeddings: [[Float]], epsilon: Double) throws {
        let d = mean.shape[0]
        let rows = embeddings.filter { $0.contains { $0 != 0 } }
        guard rows.count >= 2 else {
            throw DenoiserError.invalidConfig("text whitening needs at least two distinct non-empty captions, got \(rows.count)")
        }
        guard rows.allSatisfy({ $0.count == d }) else {
            throw DenoiserError.invalidConfig("text whitening: every caption embedding must have \(d) values")
        }
        let (mu, w) = TextWhitening.statistics(rows.map { $0.map(Double.init) }, epsilon: epsilon)
        mean.assign(Tensor(shape: [d], data: mu.map(Float.init)))
        matrix.assign(Tensor(shape: [d, d], data: w.map(Float.init)))
    }

    /// μ and W (row-major `[D, D]`) for `rows`: W = c · Σ_k v_k v_kᵀ / sqrt(λ_k + eps) over the
    /// covariance's eigenpairs with λ_k > 1e-9·λ_max, c such that the mean of |W(x − μ)|² over
    /// the rows is 1.
    static func statistics(_ rows: [[Double]], epsilon: Double) -> (mean: [Double], matrix: [Double]) {
        let n = rows.count, d = rows[0].count
        var mu = [Double](repeating: 0, count: d)
        for r in rows { for i in 0..<d { mu[i] += r[i] / Double(n) } }
        var cov = [Double](repeating: 0, count: d * d)
        for r in rows {
            let c = (0..<d).map { r[$0] - mu[$0] }
            for i in 0..<d where c[i] != 0 {
                for j in i..<d { cov[i * d + j] += c[i] * c[j] / Double(n) }
            }
        }
        for i in 0..<d { for j in 0..<i { cov[i * d + j] = cov[j * d + i] } }
        let (values, vectors) = SymmetricEigen.decompose(cov, size: d)
        let top = values.max() ?? 0
        var w = [Double](repeating: 0, count: d * d)
        var meanSquare = 0.0  // E|W(x − μ)|² before the scale = Σ_k λ_k / (λ_k + eps)
        for k in 0..<d where values[k] > 1e-9 * top {
            let s = 1 / (values[k] + epsilon).squareRoot()
            meanSquare += values[k] / (values[k] + epsilon)
            for i in 0..<d {
                let vi = vectors[i * d + k] * s
                if vi == 0 { continue }
                for j in 0..<d { w[i * d + j] += vi * vectors[j * d + k] }
            }
        }
        let c = meanSquare > 0 ? 1 / meanSquare.squareRoot() : 1
        return (mu, w.map { $0 * c })
    }
}
