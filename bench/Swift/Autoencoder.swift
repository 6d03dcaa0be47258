// t2v-bench autoencoder modes: the Swift half of bench/autoencoder_bench.py.
//
//   t2v-bench autoencoder-time --model AE [--threads 2] [--repeats R] [--frames 16] [--size 128]
//       [--decode-chunk 4] [--encode-chunk 8]
//
// Times what the product does with the autoencoder, no gradients: decoding one clip's latents
// `decode-chunk` frames at a time as `VideoPipeline` does after sampling, and encoding one clip's
// frames `encode-chunk` at a time as `encode-latents` does. Prints one JSON line of milliseconds
// per repetition (after one warm-up).
import Foundation
import Generator

/// Runs one `autoencoder-*` mode; exits the process.
func runAutoencoderMode(_ mode: String, _ args: [String]) -> Never {
    BLAS.setThreadCount(Int(option(args, "--threads") ?? "2") ?? 2)
    applyPrecision(args)
    guard mode == "autoencoder-time" else { fail("unknown mode \(mode)") }
    guard let path = option(args, "--model") else { fail("autoencoder-time needs --model") }
    let model: VideoAutoencoder
    do { model = try VideoAutoencoder.load(from: URL(fileURLWithPath: path)).model } catch { fail("\(error.localizedDescription)") }
    let repeats = Int(option(args, "--repeats") ?? "3") ?? 3
    let frames = Int(option(args, "--frames") ?? "16") ?? 16
    let size = Int(option(args, "--size") ?? "128") ?? 128
    let decodeChunk = Int(option(args, "--decode-chunk") ?? "4") ?? 4
    let encodeChunk = Int(option(args, "--encode-chunk") ?? "8") ?? 8
    let c = model.config.latentChannels, f = model.config.downsamplingFactor, r = size / f
    guard size % f == 0, frames > 0, decodeChunk > 0, encodeChunk > 0 else { fail("bad sizes") }
    var g = Philox(seed: 3)
    let latents = g.normal(count: frames * c * r * r)
    let pixels = g.uniform(count: frames * 3 * size * size).map { 2 * $0 - 1 }
    var decode = [Double](), encode = [Double]()
    for k in 0...repeats {
        let t0 = wallMs()
        var out = [Float]()
        var start = 0
        while start < frames {
            let n = min(decodeChunk, frames - start)
            let z = Tensor(shape: [n, c, r, r], data: Array(latents[(start * c * r * r)..<((start + n) * c * r * r)]))
            out += withoutGradients { model.decode(z) }.toArray()
            start += n
        }
        let t1 = wallMs()
        let z = (try? model.latents(ofClip: pixels, frames: frames, height: size, width: size, chunk: encodeChunk)) ?? []
        let t2 = wallMs()
        guard out.count == frames * 3 * size * size, z.count == latents.count else { fail("unexpected output sizes") }
        if k > 0 {
            decode.append(t1 - t0)
            encode.append(t2 - t1)
        }
    }
    print("{\"decode_ms\": \(jsonMs(decode)), \"encode_ms\": \(jsonMs(encode)), \"params\": \(model.parameterCount)}")
    exit(0)
}
