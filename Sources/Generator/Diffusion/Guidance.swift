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
    /// Guidance rescale φ in [0, 1] (Lin et al. 2024, "Common Diffusion Noise Schedules and Sample
    /// Steps are Flawed", eq. 15-16; diffusers' `guidance_rescale`): the guided output is scaled
    /// to the conditional output's standard deviation, and φ of that is mixed in. Large scales
    /// otherwise overshoot: over-exposed, washed-out frames. 0 (default) is plain guidance.
    public var rescale: Float = 0
    /// The timesteps where guidance applies (Kynkäänniemi et al. 2024, "Applying Guidance in a
    /// Limited Interval Improves Sample and Distribution Quality in Diffusion Models"); at the
    /// others the conditional output is used alone and the unconditional branch is not
    /// evaluated. Guidance at the noisiest steps, where the sample's layout and objects are
    /// decided, mostly pushes the whole frame's brightness and colour; nil: every step.
    public var interval: ClosedRange<Int>? = nil

    /// No guidance: the conditional model alone.
    public static let none = ClassifierFreeGuidance(scale: 1)

    /// Creates guidance with scale `scale` and rescale `rescale`.
    public init(scale: Float, rescale: Float = 0, interval: ClosedRange<Int>? = nil) {
        self.scale = scale
        self.rescale = rescale
        self.interval = interval
    }

    private enum CodingKeys: String, CodingKey { case scale, rescale, interval }

    /// Decodes `scale`, and `rescale` (0 otherwise) and `interval` (`[first, last]`; every step
    /// otherwise) when present.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        scale = try c.decode(Float.self, forKey: .scale)
        rescale = try c.decodeIfPresent(Float.self, forKey: .rescale) ?? 0
        interval = try Self.decodeInterval(c, forKey: .interval)
    }

    /// Encodes `scale`, and `rescale` and `interval` only when set.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(scale, forKey: .scale)
        if rescale != 0 { try c.encode(rescale, forKey: .rescale) }
        if let interval { try c.encode([interval.lowerBound, interval.upperBound], forKey: .interval) }
    }

    /// Whether the unconditional branch is ever evaluated (false when `scale == 1`).
    public var needsUnconditional: Bool { scale != 1 }

    /// Whether guidance applies at timestep `t`: a scale other than 1 and `t` in the interval.
    public func applies(at t: Int) -> Bool { scale != 1 && (interval?.contains(t) ?? true) }

    /// The interval stored under `key` as `[first, last]` (first <= last); nil when absent.
    static func decodeInterval<K: CodingKey>(_ c: KeyedDecodingContainer<K>, forKey key: K) throws -> ClosedRange<Int>? {
        guard let bounds = try c.decodeIfPresent([Int].self, forKey: key) else { return nil }
        guard bounds.count == 2, bounds[0] <= bounds[1] else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(key.stringValue) must be [first, last] with first <= last, got \(bounds)")
        }
        return bounds[0]...bounds[1]
    }

    /// What is wrong with `text` when `parseInterval` rejects it, for the command-line option
    /// `option` that took it.
    public static func intervalSyntaxMessage(_ text: String, option: String = "--guidance-interval") -> String {
        "\(option) must be FIRST:LAST timesteps with 0 <= FIRST <= LAST, e.g. 150:850, got '\(text)'"
    }

    /// Parses an interval written `FIRST:LAST` (timesteps, both included, FIRST <= LAST); nil
    /// when the text is not one.
    public static func parseInterval(_ text: String) -> ClosedRange<Int>? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let first = Int(parts[0]), let last = Int(parts[1]), first >= 0, first <= last else { return nil }
        return first...last
    }

    /// Combines the two branches' outputs: `unconditional + scale * (conditional - unconditional)`.
    ///
    /// - Precondition: equal counts.
    public func combine(conditional: [Float], unconditional: [Float]) -> [Float] {
        precondition(conditional.count == unconditional.count,
                     "guidance: conditional output has \(conditional.count) elements, unconditional \(unconditional.count)")
        let guided = VectorMath.combine(scale, conditional, 1 - scale, unconditional)
        guard rescale != 0, scale != 1 else { return guided }
        // φ · guided · std(conditional) / std(guided) + (1 − φ) · guided, stds over the whole clip.
        let ratio = Self.standardDeviation(conditional) / max(Self.standardDeviation(guided), 1e-12)
        return guided.map { $0 * Float(Double(rescale) * ratio + Double(1 - rescale)) }
    }

    /// Population standard deviation, accumulated in Double.
    static func standardDeviation(_ x: [Float]) -> Double {
        guard !x.isEmpty else { return 0 }
        var sum = 0.0, squares = 0.0
        for v in x { sum += Double(v); squares += Double(v) * Double(v) }
        let mean = sum / Double(x.count)
        return max(squares / Double(x.count) - mean * mean, 0).squareRoot()
    }
}
