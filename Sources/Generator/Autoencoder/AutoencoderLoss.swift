import Foundation

/// The autoencoder's training objective for one batch of frames x and reconstructions x̂ with
/// posteriors N(μ, σ²):
///
///   L = mean|x̂ − x| + λ · (mean|∂ₓx̂ − ∂ₓx| + mean|∂ᵧx̂ − ∂ᵧx|) + β · KL / P,
///
/// where ∂ₓ and ∂ᵧ are the forward differences between neighbouring pixels (the L1 between image
/// gradients keeps one- and two-pixel details sharp, which the plain L1 blurs), KL is the
/// divergence of the posteriors from N(0, I) summed over every latent value,
/// ½ Σ (μ² + σ² − 1 − log σ²), and P is the number of pixel values in the batch. Dividing KL by
/// P as the L1 is averaged over it keeps LDM's ratio, whose β = 1e-6 weighs a per-image summed KL
/// against a per-image summed reconstruction loss.
public struct AutoencoderLoss: Sendable, Equatable {
    /// L, the value minimised.
    public var total: Float
    /// mean|x̂ − x|.
    public var reconstruction: Float
    /// mean|∂ₓx̂ − ∂ₓx| + mean|∂ᵧx̂ − ∂ᵧx| (before λ).
    public var gradient: Float
    /// KL / P (before β).
    public var kl: Float

    /// Creates a record of the parts.
    public init(total: Float, reconstruction: Float, gradient: Float, kl: Float) {
        self.total = total
        self.reconstruction = reconstruction
        self.gradient = gradient
        self.kl = kl
    }

    /// The objective as a differentiable scalar, and its parts.
    ///
    /// - Parameters:
    ///   - reconstruction: x̂, `[N, 3, H, W]`.
    ///   - target: x, the same shape (no gradient needed).
    ///   - mean, logvar: the posteriors, any equal shapes.
    ///   - gradientWeight: λ.
    ///   - klWeight: β.
    /// - Precondition: the shapes match (the message names them).
    public static func objective(reconstruction: Tensor, target: Tensor, mean: Tensor, logvar: Tensor,
                                 gradientWeight: Float, klWeight: Float) -> (loss: Tensor, parts: AutoencoderLoss) {
        precondition(reconstruction.shape == target.shape && target.rank == 4,
                     "AutoencoderLoss: reconstruction \(reconstruction.shape) and target \(target.shape) must be the same [N, C, H, W]")
        precondition(mean.shape == logvar.shape, "AutoencoderLoss: mean \(mean.shape) and logvar \(logvar.shape) differ")
        // Pixels.
        let l1 = l1Loss(reconstruction, target)
        var loss = l1
        // Image gradients (forward differences along x, then y).
        var gradient: Tensor? = nil
        for axis in [3, 2] where target.shape[axis] > 1 {
            let n = target.shape[axis]
            func diff(_ t: Tensor) -> Tensor { t.slice(axis: axis, 1..<n) - t.slice(axis: axis, 0..<n - 1) }
            let term = l1Loss(diff(reconstruction), withoutGradients { diff(target) })
            gradient = gradient.map { $0 + term } ?? term
        }
        if let gradient, gradientWeight != 0 { loss = loss + gradient * gradientWeight }
        // KL to N(0, I), summed over latent values, per pixel value.
        let kl = (mean.square() + logvar.exp() - logvar - 1).sum() * (0.5 / Float(max(target.count, 1)))
        if klWeight != 0 { loss = loss + kl * klWeight }
        return (loss, AutoencoderLoss(total: loss.item, reconstruction: l1.item, gradient: gradient?.item ?? 0, kl: kl.item))
    }
}
