import Foundation
import Renderer

/// Finds the denoiser weights `render` uses when `--model` is not given: `$T2V_MODEL`, then the
/// shipped `weights/t2v-default.safetensors` of the checkout, looked up from the current
/// directory and from the executable's directory upwards (so `.build/release/t2v-render` finds
/// the checkout's file).
enum ModelLocator {
    /// The shipped file's path inside the checkout.
    static let shippedPath = "weights/t2v-default.safetensors"
    /// Environment variable that overrides the default model.
    static let environmentVariable = "T2V_MODEL"

    /// Candidate paths, in search order.
    static func candidates() -> [String] {
        var out: [String] = []
        if let env = ProcessInfo.processInfo.environment[environmentVariable], !env.isEmpty { out.append(env) }
        var starts = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        starts.append(exe.deletingLastPathComponent())
        if let real = Bundle.main.executableURL?.resolvingSymlinksInPath() { starts.append(real.deletingLastPathComponent()) }
        for start in starts {
            var dir = start
            for _ in 0..<6 {
                out.append(dir.appendingPathComponent(shippedPath).path)
                dir = dir.deletingLastPathComponent()
            }
        }
        var seen = Set<String>()
        return out.filter { seen.insert($0).inserted }
    }

    /// The explicit path when given (it must exist), else the first candidate that exists.
    /// Throws a `CommandError` that says how to get a model.
    static func locate(explicit: String?) throws -> URL {
        if let explicit {
            guard FileManager.default.fileExists(atPath: explicit) else {
                throw CommandError("model file \(explicit) does not exist. Pass a .safetensors file written by `t2v-render train` or `distill`.")
            }
            return URL(fileURLWithPath: explicit)
        }
        if let found = candidates().first(where: { FileManager.default.fileExists(atPath: $0) }) {
            return URL(fileURLWithPath: found)
        }
        throw CommandError("""
            the default model (\(shippedPath)) was not found next to the executable or in the current \
            directory. Run t2v-render from the checkout, set \(environmentVariable)=/path/to/model.safetensors, \
            or pass --model FILE (train one with scripts/train-default.sh).
            """)
    }
}
