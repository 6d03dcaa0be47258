/// Which conditioning a model evaluation uses under classifier-free guidance.
public enum GuidanceBranch: Sendable, Equatable {
    /// The prompt's embedding.
    case conditional
    /// The "unconditional" embedding: the null (empty-prompt) embedding the model was trained with
    /// under condition dropout, or the negative prompt's embedding.
    case unconditional
}

/// Classifier-free guidance (Ho & Salimans 2022): out = out_uncond + s (out_cond - out_uncond).
///
/// Works for any parameterisation that is affine in the model output (epsilon, v, x0) because
/// the combination is taken on the raw outputs at the same x_t. `scale` 1 is the conditional
/// model alone: `needsUnconditional` is false and callers skip the second forward pass. `scale`
/// 0 is the unconditional model; values above 1 push samples towards the prompt.
///
/// A negative prompt is not a separate mechanism: the caller evaluates the `.unconditional`
/// branch with the negative prompt's embedding instead of the null embedding, so guidance
/// pushes away from it.
public struct ClassifierFreeGuidance: Sendable, Codable, Equatable {
    /// The guidance scale s (also called w + 1 in the paper's notation).
    public var scale: Float

    /// No guidance: the conditional model alone.
    public static let none = ClassifierFreeGuidance(scale: 1)

    /// Creates guidance with scale `scale`.
    public init(scale: Float) { self.scale = scale }

    /// Whether the unconditional branch must be evaluated (false when `scale == 1`).
    public var needsUnconditional: Bool { scale != 1 }

    /// Combines the two branches' outputs: `unconditional + scale * (conditional - unconditional)`.
    ///
    /// - Precondition: equal counts.
    public func combine(conditional: [Float], unconditional: [Float]) -> [Float] {
        precondition(conditional.count == unconditional.count,
                     "guidance: conditional output has \(conditional.count) elements, unconditional \(unconditional.count)")
        return VectorMath.combine(scale, conditional, 1 - scale, unconditional)
    }
}
