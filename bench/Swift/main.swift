// t2v-bench: times tensor-engine ops for bench/tensor_bench.py. Prints one JSON object per
// case on stdout: {"name", "fwd_ms", "bwd_ms"} (medians; bwd_ms is null for forward-only cases).
//
// Usage: t2v-bench [--threads N] [--repeats R] [--precision fp32|bf16] [case ...]   (no case: all cases)
//        t2v-bench denoiser-{init,forward,time} ...          (see Denoiser.swift)
import Foundation
import Generator

struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

var rng = SplitMix(state: 1)
func rand(_ shape: [Int], grad: Bool = false) -> Tensor {
    Tensor.uniform(shape, low: -1, high: 1, using: &rng, requiresGrad: grad)
}

/// Wall-clock milliseconds, or process CPU milliseconds with `--cpu` (load-independent for
/// single-thread profiling).
func now() -> Double {
    if useCPUTime {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) / 1e6
    }
    return Double(DispatchTime.now().uptimeNanoseconds) / 1e6
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s[s.count / 2]
}

// OpenBLAS 0.3.21 falls back to generic kernels on CPUs it does not know; restart with the
// right OPENBLAS_CORETYPE (a no-op when detection worked or the variable is set).
BLAS.reexecWithFasterKernelsIfNeeded()

if let mode = CommandLine.arguments.dropFirst().first, mode.hasPrefix("denoiser-") {
    runDenoiserMode(mode, Array(CommandLine.arguments.dropFirst(2)))
}
if let mode = CommandLine.arguments.dropFirst().first, mode.hasPrefix("autoencoder-") {
    runAutoencoderMode(mode, Array(CommandLine.arguments.dropFirst(2)))
}

var repeats = 5
var threads = 2
var selected: [String] = []
var useCPUTime = false
var args = Array(CommandLine.arguments.dropFirst())
while !args.isEmpty {
    let a = args.removeFirst()
    switch a {
    case "--threads": threads = Int(args.removeFirst())!
    case "--repeats": repeats = Int(args.removeFirst())!
    case "--cpu": useCPUTime = true
    case "--precision":
        // The ops in bf16 (oneDNN, AVX512_BF16) or fp32; see ComputePrecision.
        let name = args.removeFirst()
        guard let p = ComputePrecision(rawValue: name), (try? ComputePrecision.resolve(p)) == p else {
            FileHandle.standardError.write(Data("t2v-bench: --precision \(name): expected fp32, or bf16 on a CPU with AVX512_BF16\n".utf8))
            exit(1)
        }
        ComputePrecision.use(p)
    default: selected.append(a)
    }
}
BLAS.setThreadCount(threads)

/// Times `forward` without gradients, and, when `backwardInputs` is given, the backward pass
/// of a recorded forward (forward not timed).
func bench(_ name: String, forward: () -> Tensor, backward: (() -> Tensor)? = nil, leaves: [Tensor] = []) {
    if !selected.isEmpty && !selected.contains(name) { return }
    var fwd: [Double] = []
    for i in 0...repeats {
        let t0 = now()
        let y = withoutGradients { forward() }
        let t1 = now()
        withExtendedLifetime(y) {}
        if i > 0 { fwd.append(t1 - t0) }
    }
    var bwd: [Double] = []
    if let backward {
        for i in 0...repeats {
            let y = backward()
            let gy = Tensor.ones(y.shape)
            let t0 = now()
            y.backward(gy)
            let t1 = now()
            for l in leaves { l.zeroGrad() }
            if i > 0 { bwd.append(t1 - t0) }
        }
    }
    let b = bwd.isEmpty ? "null" : String(format: "%.3f", median(bwd))
    print("{\"name\": \"\(name)\", \"fwd_ms\": \(String(format: "%.3f", median(fwd))), \"bwd_ms\": \(b)}")
    fflush(stdout)
}

for (n, c, hw) in [(32, 64, 32), (32, 128, 16), (32, 32, 64)] {
    let x = rand([n, c, hw, hw]), w = rand([c, c, 3, 3]), b = rand([c])
    let xg = x.copy().requiringGrad(), wg = w.copy().requiringGrad(), bg = b.copy().requiringGrad()
    bench("conv3x3_\(n)x\(c)x\(hw)x\(hw)",
          forward: { conv2d(x, weight: w, bias: b, padding: 1) },
          backward: { conv2d(xg, weight: wg, bias: bg, padding: 1) }, leaves: [xg, wg, bg])
}

do {
    let q = rand([16, 4, 1024, 16]), k = rand([16, 4, 1024, 16]), v = rand([16, 4, 1024, 16])
    let qg = q.copy().requiringGrad(), kg = k.copy().requiringGrad(), vg = v.copy().requiringGrad()
    bench("attention_16x4x1024x16",
          forward: { scaledDotProductAttention(query: q, key: k, value: v) },
          backward: { scaledDotProductAttention(query: qg, key: kg, value: vg) }, leaves: [qg, kg, vg])
}

do {
    // Temporal attention of the video UNet: 2 videos x 32x32 positions x 4 heads over 16 frames,
    // head dim 16, with a learned [heads, 16, 16] bias.
    let q = rand([2048, 4, 16, 16]), k = rand([2048, 4, 16, 16]), v = rand([2048, 4, 16, 16]), bias = rand([4, 16, 16])
    let qg = q.copy().requiringGrad(), kg = k.copy().requiringGrad(), vg = v.copy().requiringGrad()
    let bg = bias.copy().requiringGrad()
    bench("attention_temporal_2048x4x16x16",
          forward: { scaledDotProductAttention(query: q, key: k, value: v, bias: bias) },
          backward: { scaledDotProductAttention(query: qg, key: kg, value: vg, bias: bg) }, leaves: [qg, kg, vg, bg])
}

do {
    let q = rand([32, 256, 64]), k = rand([32, 256, 64]), v = rand([32, 256, 64])
    let qg = q.copy().requiringGrad(), kg = k.copy().requiringGrad(), vg = v.copy().requiringGrad()
    bench("attention_32x256x64",
          forward: { scaledDotProductAttention(query: q, key: k, value: v) },
          backward: { scaledDotProductAttention(query: qg, key: kg, value: vg) }, leaves: [qg, kg, vg])
}

do {
    let x = rand([32, 64, 32, 32]), xg = x.copy().requiringGrad()
    let g = rand([64]), b = rand([64]), gg = g.copy().requiringGrad(), bg = b.copy().requiringGrad()
    bench("groupnorm_32x64x32x32", forward: { groupNorm(x, groups: 32, weight: g, bias: b) },
          backward: { groupNorm(xg, groups: 32, weight: gg, bias: bg) }, leaves: [xg, gg, bg])
    bench("silu_32x64x32x32", forward: { x.silu() }, backward: { xg.silu() }, leaves: [xg])
    bench("softmax_32x64x32x32", forward: { x.softmax() }, backward: { xg.softmax() }, leaves: [xg])
}

for (m, n, k) in [(64, 1024, 576), (1024, 64, 576), (2048, 2048, 2048), (64, 4096, 576)] {
    let a = rand([m, k]), b = rand([k, n])
    bench("gemm_\(m)x\(n)x\(k)", forward: { Tensor.matmul(a, b) })
}

for (cout, hw, k) in [(32, 4096, 288), (64, 1024, 576), (128, 256, 1152)] {
    let w = rand([cout, k]), col = rand([k, hw])
    bench("gemmNN_\(cout)x\(hw)x\(k)", forward: { Tensor.matmul(w, col) })
    bench("gemmTT_\(hw)x\(cout)x\(k)", forward: { Tensor.matmul(col, w, transposeA: true, transposeB: true) })
}
