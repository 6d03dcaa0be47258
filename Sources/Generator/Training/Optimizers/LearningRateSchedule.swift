import Foundation

/// Linear warm-up followed by cosine decay.
///
/// For step s (0-based): s < warmup gives peak·(s+1)/warmup; afterwards
/// min + ½(peak − min)(1 + cos(π·p)) with p = (s − warmup)/(total − warmup) clamped to [0, 1].
public struct WarmupCosineSchedule: Sendable, Codable {
    /// Learning rate at the end of warm-up.
    public var peak: Float
    /// Learning rate reached at `totalSteps` and kept after.
    public var minimum: Float = 0
    /// Steps of linear warm-up.
    public var warmupSteps: Int
    /// Step at which the cosine reaches `minimum`.
    public var totalSteps: Int

    /// Creates the schedule.
    public init(peak: Float, minimum: Float = 0, warmupSteps: Int, totalSteps: Int) {
        precondition(warmupSteps >= 0 && totalSteps >= warmupSteps, "WarmupCosineSchedule: need 0 ≤ warmup (\(warmupSteps)) ≤ total (\(totalSteps))")
        self.peak = peak; self.minimum = minimum; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps
    }

    /// Learning rate for 0-based step `step`.
    public func callAsFunction(_ step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        let span = max(totalSteps - warmupSteps, 1)
        let p = min(max(Float(step - warmupSteps) / Float(span), 0), 1)
        return minimum + 0.5 * (peak - minimum) * (1 + Foundation.cos(Float.pi * p))
    }
}
