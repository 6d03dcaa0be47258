import Foundation

/// The arithmetic of the compute-heavy ops, as PyTorch's CPU autocast chooses it.
///
/// - `fp32`: every op in fp32.
/// - `bf16`: convolutions (forward and both gradients) take bf16 inputs, rounded to nearest even,
///   and accumulate in fp32 (oneDNN's AVX512_BF16 kernels); their results, the weights, the
///   optimizer state, norms, softmax, attention, linear layers and losses stay fp32. Shapes oneDNN
///   has no bf16 kernel for run in fp32.
///
/// The process-wide setting is `current` (fp32 until set). `T2V_PRECISION=fp32` in the
/// environment forces fp32 whatever is asked.
public enum ComputePrecision: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case fp32
    case bf16

    public var description: String { rawValue }

    /// Whether bf16 compute can run here: the CPU has AVX512_BF16.
    public static var bf16Supported: Bool { OneDNN.cpuHasBF16 }

    /// The precision the ops use now.
    nonisolated(unsafe) public private(set) static var current: ComputePrecision = .fp32

    /// What runs when nothing is asked for: bf16 where the CPU has AVX512_BF16, else fp32
    /// (docs/precision.md has the measurements behind it).
    public static var automatic: ComputePrecision { bf16Supported ? .bf16 : .fp32 }

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case unsupported(source: String)
        case invalidEnvironment(String)

        public var description: String {
            switch self {
            case .unsupported(let source):
                return "\(source): bf16 needs a CPU with AVX512_BF16 (grep avx512_bf16 /proc/cpuinfo), which this one lacks; use fp32"
            case .invalidEnvironment(let value):
                return "T2V_PRECISION=\(value): expected fp32 or bf16"
            }
        }
    }

    /// The precision to run: `requested` (nil: `fallback`, by default `automatic`), unless
    /// `T2V_PRECISION` says otherwise: `fp32` there always wins, `bf16` there replaces the fallback.
    public static func resolve(_ requested: ComputePrecision?, fallback: ComputePrecision? = nil,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ComputePrecision {
        var source = "--precision bf16"
        var wanted = requested
        if let value = environment["T2V_PRECISION"], !value.isEmpty {
            guard let forced = ComputePrecision(rawValue: value.lowercased()) else { throw Failure.invalidEnvironment(value) }
            if forced == .fp32 { return .fp32 }
            if wanted == nil { wanted = forced; source = "T2V_PRECISION=bf16" }
        }
        guard let wanted else { return fallback ?? automatic }
        if wanted == .bf16 && !bf16Supported { throw Failure.unsupported(source: source) }
        return wanted
    }

    /// Sets the process-wide precision (before the work starts; not while ops run).
    public static func use(_ precision: ComputePrecision) {
        precondition(precision == .fp32 || bf16Supported, "ComputePrecision.use(.bf16): this CPU lacks AVX512_BF16")
        current = precision
    }

    /// Runs `body` with `precision`, then restores the previous setting. Not for concurrent use.
    public static func with<T>(_ precision: ComputePrecision, _ body: () throws -> T) rethrows -> T {
        let saved = current
        use(precision)
        defer { current = saved }
        return try body()
    }
}
