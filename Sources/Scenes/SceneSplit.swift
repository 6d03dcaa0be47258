/// Which part of the corpus a seed belongs to. The rule is a fixed seed range, so the two parts
/// are disjoint by construction: training seeds are `0 ..< heldOutBase`, held-out seeds are
/// `heldOutBase...` (1_000_000_000 and up). The held-out part is never used for training; it
/// serves evaluation (classifier accuracy, prompt adherence with the held-out paraphrases).
public enum SceneSplit: String, CaseIterable, Sendable, Codable {
    /// Seeds `0 ..< 1_000_000_000`.
    case train
    /// Seeds `1_000_000_000...`.
    case heldout

    /// The first held-out seed.
    public static let heldOutBase: UInt64 = 1_000_000_000

    /// The split a seed belongs to.
    public init(seed: UInt64) {
        self = seed >= SceneSplit.heldOutBase ? .heldout : .train
    }

    /// The `index`-th seed of this split (0-based): `index` for training, `heldOutBase + index`
    /// for held-out. `index` must stay below `heldOutBase` for training.
    public func seed(_ index: UInt64) -> UInt64 {
        switch self {
        case .train:
            precondition(index < SceneSplit.heldOutBase, "training seed index \(index) runs into the held-out range")
            return index
        case .heldout:
            return SceneSplit.heldOutBase + index
        }
    }
}
