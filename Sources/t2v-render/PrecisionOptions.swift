import ArgumentParser
import Foundation
import Generator
import Renderer

extension ComputePrecision: ExpressibleByArgument {}

/// `--precision`, shared by `train`, `distill`, `train-autoencoder`, `encode-latents` and `render`.
struct PrecisionOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Arithmetic of convolutions and matrix products: fp32, or bf16 (bf16 inputs, fp32 accumulation and weights; needs AVX512_BF16).",
        discussion: "Default: bf16 where the CPU has AVX512_BF16, else fp32 (a resumed run: its checkpoint's). T2V_PRECISION=fp32 forces fp32; T2V_PRECISION=bf16 replaces the default.",
        valueName: "p"))
    var precision: ComputePrecision?

    /// Resolves the precision of a render or of a new training run (`ComputePrecision.automatic`
    /// unless asked: bf16 where the CPU has AVX512_BF16; a bf16 latent teacher was judged level
    /// with its fp32 twin, docs/precision.md) and makes it the process's.
    @discardableResult
    func apply() throws -> ComputePrecision {
        let p: ComputePrecision
        do { p = try ComputePrecision.resolve(precision) } catch { throw CommandError("\(error)") }
        ComputePrecision.use(p)
        return p
    }

    /// Resolves the precision of a resumed run whose checkpoint recorded `recorded` (nil: fp32):
    /// an explicit --precision must match it; `T2V_PRECISION=fp32` still forces fp32.
    @discardableResult
    func apply(resuming recorded: ComputePrecision?, checkpoint: String) throws -> ComputePrecision {
        let saved = recorded ?? .fp32
        if let precision, precision != saved {
            throw CommandError("checkpoint \(checkpoint) trains in \(saved), not --precision \(precision); resume without --precision (or with the checkpoint's)")
        }
        let p: ComputePrecision
        do { p = try ComputePrecision.resolve(saved) } catch {
            throw CommandError("checkpoint \(checkpoint) trains in \(saved): \(error)")
        }
        ComputePrecision.use(p)
        return p
    }

    /// What a run's configuration records for `p` (fp32 is left out, as before bf16 existed).
    static func recorded(_ p: ComputePrecision) -> ComputePrecision? { p == .bf16 ? .bf16 : nil }
}
