import Foundation

/// How N inference timesteps are picked from the T training timesteps (Lin et al. 2024,
/// "Common Diffusion Noise Schedules and Sample Steps are Flawed", Table 2; diffusers'
/// `timestep_spacing`). Grids are descending and contain no duplicates.
///
/// - `leading`: t_i = i * (T / N) (integer division) + offset, so the grid starts at 0 and its
///   top is T - T/N: the noisiest training step is never visited. diffusers' default for DDPM/DDIM.
/// - `trailing`: t_i = round(T - i * T/N) - 1, so the grid starts at T - 1 (pure noise).
///   Recommended with few steps.
/// - `linspace`: N values evenly spaced over [0, T - 1], rounded.
public enum TimestepSpacing: String, Sendable, Codable, CaseIterable {
    /// Multiples of T/N starting at 0 (plus the offset).
    case leading
    /// Multiples of T/N counted down from T, minus one.
    case trailing
    /// Evenly spaced over [0, T - 1], rounded.
    case linspace

    /// The descending grid of `count` timesteps out of `trainSteps`, as diffusers' DDPMScheduler
    /// and DDIMScheduler compute it; `offset` is diffusers' `steps_offset` (leading only).
    ///
    /// - Precondition: `1 <= count <= trainSteps`.
    public func timesteps(count: Int, trainSteps: Int, offset: Int = 0) -> [Int] {
        precondition(count >= 1 && count <= trainSteps,
                     "inference steps must be in 1...\(trainSteps) (got \(count))")
        switch self {
        case .leading:
            let ratio = trainSteps / count
            return (0..<count).reversed().map { $0 * ratio + offset }
        case .trailing:
            let ratio = Double(trainSteps) / Double(count)
            return Self.descendingArange(from: Double(trainSteps), step: ratio).map { Int(Self.roundHalfEven($0)) - 1 }
        case .linspace:
            return BetaSchedule.linspace(0, Double(trainSteps - 1), count).reversed().map { Int(Self.roundHalfEven($0)) }
        }
    }

    /// The grid diffusers' DPMSolverMultistepScheduler uses: `count + 1` points with the last
    /// dropped for `linspace` and `leading`; `trailing` is as above.
    ///
    /// - Precondition: `1 <= count <= trainSteps`.
    public func solverTimesteps(count: Int, trainSteps: Int, offset: Int = 0) -> [Int] {
        precondition(count >= 1 && count <= trainSteps,
                     "inference steps must be in 1...\(trainSteps) (got \(count))")
        switch self {
        case .leading:
            let ratio = trainSteps / (count + 1)
            return (1...count).reversed().map { $0 * ratio + offset }
        case .trailing:
            return timesteps(count: count, trainSteps: trainSteps)
        case .linspace:
            let points = BetaSchedule.linspace(0, Double(trainSteps - 1), count + 1)
            return points.dropFirst().reversed().map { Int(Self.roundHalfEven($0)) }
        }
    }

    /// numpy's `arange(start, 0, -step)`: start, start - step, ... while > 0.
    static func descendingArange(from start: Double, step: Double) -> [Double] {
        let n = Int((start / step).rounded(.up))
        return (0..<n).map { start - Double($0) * step }.filter { $0 > 0 }
    }

    /// numpy's `round` (half to even).
    static func roundHalfEven(_ x: Double) -> Double { x.rounded(.toNearestOrEven) }
}
