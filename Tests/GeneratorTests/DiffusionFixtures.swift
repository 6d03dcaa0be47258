import Foundation
import XCTest
@testable import Generator

/// Decoded diffusers fixtures (Fixtures/diffusion, written by Scripts/make_scheduler_fixtures.py).
enum DiffusionFixtures {
    struct Schedules: Decodable {
        struct Schedule: Decodable {
            let betas: [Double]
            let alphas_cumprod: [Double]
        }
        struct Grid: Decodable {
            let scheduler: String
            let spacing: String
            let steps: Int
            let offset: Int
            let timesteps: [Int]
        }
        struct PerSchedule: Decodable {
            let noisy: [Float]
            let velocity: [Float]
            let snr: [Double]
            let min_snr5_epsilon: [Double]
            let min_snr5_v: [Double]
        }
        struct Forward: Decodable {
            let x0: [Float]
            let noise: [Float]
            let timesteps: [Int]
            let per_schedule: [String: PerSchedule]
        }
        let schedules: [String: Schedule]
        let grids: [Grid]
        let forward: Forward
    }

    struct Runs: Decodable {
        struct Options: Decodable {
            let clip_sample: Bool?
            let variance_type: String?
            let eta: Double?
            let steps_offset: Int?
            let set_alpha_to_one: Bool?
            let final_sigmas_type: String?
            let solver_order: Int?
        }
        struct Case: Decodable {
            let name: String
            let scheduler: String
            let schedule: String
            let prediction_type: String
            let steps: Int
            let spacing: String
            let options: Options
            let mean: [Float]
            let std: [Float]
            let x_T: [Float]
            let timesteps: [Int]
            let model_outputs: [[Float]]
            let noise: [[Float]?]
            let prev_samples: [[Float]]
        }
        let cases: [Case]
    }

    static let schedules: Schedules = load("diffusion/schedules.json")
    static let runs: Runs = load("diffusion/scheduler_runs.json")

    static func load<T: Decodable>(_ name: String) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(contentsOf: TestUtils.fixture(name)))
        } catch {
            fatalError("cannot read fixture \(name): \(error); regenerate it with Tests/GeneratorTests/Scripts/make_scheduler_fixtures.py")
        }
    }

    /// The schedule built from diffusers' own float32 betas (identical inputs for parity tests).
    static func diffusersSchedule(_ name: String) -> NoiseSchedule {
        NoiseSchedule(.custom(betas: schedules.schedules[name]!.betas), trainSteps: 1000)
    }

    /// Our schedule with the same configuration, computed from the formulas.
    static func ownSchedule(_ name: String) -> NoiseSchedule {
        switch name {
        case "linear": return NoiseSchedule(.linear(start: 1e-4, end: 0.02))
        case "scaled_linear": return NoiseSchedule(.scaledLinear(start: 0.00085, end: 0.012))
        case "squaredcos_cap_v2": return NoiseSchedule(.squaredCosCapV2)
        default: fatalError("unknown schedule \(name)")
        }
    }
}
