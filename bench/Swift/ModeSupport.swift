// What the `denoiser-*` and `autoencoder-*` modes share: options, errors, the clock.
import Foundation
import Generator

/// Prints `t2v-bench: message` to stderr and exits 1.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("t2v-bench: \(message)\n".utf8))
    exit(1)
}

/// The value after `name` in `args`, if any.
func option(_ args: [String], _ name: String) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

/// Monotonic wall-clock milliseconds.
func wallMs() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e6 }

/// A JSON array of milliseconds with two decimals.
func jsonMs(_ xs: [Double]) -> String { "[" + xs.map { String(format: "%.2f", $0) }.joined(separator: ", ") + "]" }

/// Applies `--precision fp32|bf16` (default fp32) through `ComputePrecision.resolve`, which
/// honours `T2V_PRECISION`; returns what runs.
@discardableResult
func applyPrecision(_ args: [String]) -> ComputePrecision {
    let name = option(args, "--precision") ?? "fp32"
    guard let wanted = ComputePrecision(rawValue: name) else { fail("--precision \(name): expected fp32 or bf16") }
    do {
        let p = try ComputePrecision.resolve(wanted)
        ComputePrecision.use(p)
        return p
    } catch { fail("\(error)") }
}
