// t2v-bench denoiser modes: the Swift half of the PyTorch-twin parity check and of the denoiser
// benchmark (bench/denoiser_bench.py, python/t2v_twin/parity.py).
//
//   t2v-bench denoiser-init --config tiny|default --seed S [--perturb] --out model.safetensors
//   t2v-bench denoiser-forward --model M --inputs in.safetensors --out out.safetensors
//   t2v-bench denoiser-time --model M [--threads 2] [--repeats R] [--warmup W] [--forward-batch 2] [--train-batch 4]
//
// Inputs file: `x` f32 [B, F, C, H, W], `timesteps` i64 [B], `text` f32 [B, textDim]; the output
// file holds `y` f32 [B, F, C, H, W].
import Foundation
import Generator

/// Adds uniform noise to every parameter (so GroupNorm/LayerNorm affines, the zero-initialised
/// temporal gates and the relative bias all matter in a parity check); the gates get +-1.
func perturbParameters(_ model: VideoDenoiser, seed: UInt64, amount: Float = 0.3) {
    var g = Philox(seed: seed, stream: 7)
    for (name, p) in model.namedParameters() {
        // The temporal gates start at 0; move them well away so the temporal stream counts.
        let a = name.hasSuffix("Gate") ? 1 : amount
        let noise = Tensor.uniform(p.shape, low: -a, high: a, using: &g)
        p.assign(withoutGradients { p.value + noise })
    }
}

private func loadModel(_ path: String) -> VideoDenoiser {
    do { return try VideoDenoiser.load(from: URL(fileURLWithPath: path)).model } catch { fail("\(error.localizedDescription)") }
}

/// Runs one `denoiser-*` mode; exits the process.
func runDenoiserMode(_ mode: String, _ args: [String]) -> Never {
    BLAS.setThreadCount(Int(option(args, "--threads") ?? "2") ?? 2)
    applyPrecision(args)
    switch mode {
    case "denoiser-init":
        let name = option(args, "--config") ?? "tiny"
        guard let out = option(args, "--out") else { fail("denoiser-init needs --out") }
        guard let config: DenoiserConfig = name == "tiny" ? .tiny : name == "default" ? .default : nil else {
            fail("unknown --config \(name) (tiny or default)")
        }
        let seed = UInt64(option(args, "--seed") ?? "1") ?? 1
        var rng = Philox(seed: seed)
        do {
            let model = try VideoDenoiser(config: config, rng: &rng)
            if args.contains("--perturb") { perturbParameters(model, seed: seed) }
            try model.save(to: URL(fileURLWithPath: out))
        } catch { fail("\(error.localizedDescription)") }
    case "denoiser-forward":
        guard let m = option(args, "--model"), let i = option(args, "--inputs"), let o = option(args, "--out") else {
            fail("denoiser-forward needs --model, --inputs and --out")
        }
        let model = loadModel(m)
        do {
            let file = try SafeTensors(path: i)
            let x = Tensor(shape: try file.info("x").shape, data: try file.floats("x"))
            let t = try file.int64s("timesteps").map { Int($0) }
            let text = Tensor(shape: try file.info("text").shape, data: try file.floats("text"))
            let y = withoutGradients { model(x, timesteps: t, text: text) }
            try SafeTensors.write([SafeTensors.Entry(name: "y", shape: y.shape, floats: y.toArray())], to: URL(fileURLWithPath: o))
        } catch { fail("\(error.localizedDescription)") }
    case "denoiser-time":
        guard let m = option(args, "--model") else { fail("denoiser-time needs --model") }
        let model = loadModel(m)
        let c = model.config
        let repeats = Int(option(args, "--repeats") ?? "3") ?? 3
        let fb = Int(option(args, "--forward-batch") ?? "2") ?? 2
        let tb = Int(option(args, "--train-batch") ?? "4") ?? 4
        // Untimed passes first: the first ones build each thread's oneDNN primitives and grow the heap.
        let warmup = max(Int(option(args, "--warmup") ?? "1") ?? 1, 1)
        let frames = Int(option(args, "--frames") ?? "\(c.frames)") ?? c.frames
        let r = c.resolution
        var g = Philox(seed: 3)
        func clip(_ b: Int) -> Tensor { Tensor.randn([b, frames, c.inChannels, r, r], using: &g) }
        // Forward: one CFG pair (batch 2, conditional + unconditional), no gradients.
        let xf = clip(fb), textF = Tensor.randn([fb, c.textDim], using: &g)
        var fwd = [Double]()
        for k in 0..<(warmup + repeats) {
            let t0 = wallMs()
            let y = withoutGradients { model(xf, timesteps: Array(repeating: 500, count: fb), text: textF) }
            let t1 = wallMs()
            withExtendedLifetime(y) {}
            if k >= warmup { fwd.append(t1 - t0) }
        }
        // Training step: forward, MSE, backward, AdamW.
        let opt = AdamW(parameters: model.parameters())
        let tb1 = max(tb, 1)  // --train-batch 0 times the forward only
        let xt = clip(tb1), target = clip(tb1), textT = Tensor.randn([tb1, c.textDim], using: &g)
        var train = [Double]()
        var parts: [[Double]] = [[], [], []]  // forward with the graph, backward, optimizer
        for k in 0..<(warmup + repeats) where tb > 0 {
            let t0 = wallMs()
            let y = model(xt, timesteps: (0..<tb).map { 100 + 200 * $0 }, text: textT)
            let loss = (y - target).square().mean()
            let t1 = wallMs()
            loss.backward()
            let t2 = wallMs()
            opt.step()
            opt.zeroGrad()
            let t3 = wallMs()
            if k >= warmup {
                train.append(t3 - t0)
                for (i, d) in [t1 - t0, t2 - t1, t3 - t2].enumerated() { parts[i].append(d) }
            }
        }
        print("{\"forward_ms\": \(jsonMs(fwd)), \"train_ms\": \(jsonMs(train)), \"train_forward_ms\": \(jsonMs(parts[0])), "
              + "\"train_backward_ms\": \(jsonMs(parts[1])), \"train_optimizer_ms\": \(jsonMs(parts[2])), \"precision\": \"\(ComputePrecision.current)\", \"params\": \(model.parameterCount)}")
    default:
        fail("unknown mode \(mode)")
    }
    exit(0)
}
