// Timings for SafeTensors and Philox; built and run by bench/safetensors-rng/run.sh.
import Foundation
import Generator

@main
struct Bench {
    /// Best wall time of `repeats` runs of `body`, in milliseconds.
    static func best(_ repeats: Int = 5, _ body: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        return best
    }

    static func main() throws {
        let dir = URL(fileURLWithPath: CommandLine.arguments[1])
        let weights = dir.appendingPathComponent("weights.safetensors")
        let size = Double(try FileManager.default.attributesOfItem(atPath: weights.path)[.size] as! Int) / 1e6
        print(String(format: "file: %.1f MB", size))

        let open = try best(20) { _ = try SafeTensors(contentsOf: weights) }
        print(String(format: "open + validate header (mmap, no data read): %.3f ms", open))
        let f = try SafeTensors(contentsOf: weights)
        let f32 = f.tensors.filter { $0.dtype == .f32 }
        var checksum: Float = 0  // consumed below so no conversion can be optimised away
        let all = try best { for t in f32 { checksum += try f.floats(t.name)[7] } }
        let bytes32 = Double(f32.map(\.byteCount).reduce(0, +)) / 1e6
        print(String(format: "floats() of all %d F32 tensors (%.1f MB): %.1f ms (%.2f GB/s)", f32.count, bytes32, all, bytes32 / all))
        let half = try f.info("embed.half")
        let h = try best { checksum += try f.floats("embed.half")[3] }
        print(String(format: "floats() of F16 [%d x %d] -> Float: %.2f ms (%.0f M elements/s)", half.shape[0], half.shape[1],
                     h, Double(half.elementCount) / h / 1e3))

        let entries = try f.tensors.map { SafeTensors.Entry(name: $0.name, dtype: $0.dtype, shape: $0.shape, bytes: try f.data($0.name)) }
        let out = dir.appendingPathComponent("rewrite.safetensors")
        let w = try best { try SafeTensors.write(entries, metadata: f.metadata, to: out) }
        print(String(format: "write %.1f MB atomically (temp + fsync + rename): %.1f ms", size, w))
        let values = try f.floats(f32[0].name) + f.floats(f32[1].name)
        let b16 = try best { _ = try SafeTensors.serialize([.init(name: "x", shape: [values.count], floats: values, as: .bf16)]) }
        print(String(format: "serialize %d Floats as BF16 (in memory): %.2f ms", values.count, b16))

        // A dataset shard: 64 clips of 16 x 64 x 64 x 3 U8 appended clip by clip (12.6 MB).
        let clip = [UInt8](repeating: 7, count: 16 * 64 * 64 * 3)
        let shard = dir.appendingPathComponent("shard.safetensors")
        let s = try best(3) {
            try SafeTensors.withStreamWriter(url: shard, tensors: [.init(name: "frames", dtype: .u8, shape: [64, 16, 64, 64, 3])]) { wr in
                for _ in 0..<64 { try wr.append("frames", bytes: clip) }
            }
        }
        print(String(format: "stream-write a 64-clip U8 shard (%.1f MB): %.1f ms", Double(64 * clip.count) / 1e6, s))

        var g = Philox(seed: 42)
        let n = 10_000_000
        let u = best(3) { checksum += g.uniform(count: n)[n - 1] }
        let z = best(3) { checksum += g.normal(count: n)[n - 1] }
        print(String(format: "Philox uniform: %.0f M Floats/s; normal (Box-Muller): %.0f M Floats/s", Double(n) / u / 1e3, Double(n) / z / 1e3))
        print("(checksum \(checksum))")
    }
}
