import ArgumentParser
import Foundation
import Renderer
import Generator

/// The `t2v-render` command-line tool: glue between FrameIO and Generator.
///
/// Exit codes: 0 success, 1 runtime failure (a `CommandError` or library error with a message a
/// user can act on), 2 usage error (bad flags or values, caught by parsing or `validate()`).
@main
struct T2VRender: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "t2v-render",
        abstract: "Text-to-video on a CPU: a video diffusion model streamed into FFmpeg encoders.",
        version: "0.1.0",
        subcommands: T2VRender.allSubcommands,
        defaultSubcommand: Render.self
    )

    /// Parses, runs, and maps errors onto the tool's exit codes (usage errors exit 2, not
    /// ArgumentParser's default 64).
    static func main() {
        // Debian's OpenBLAS 0.3.21 does not recognise this CPU family and would fall back to
        // generic kernels about 4x slower; re-exec once with the right core type.
        BLAS.reexecWithFasterKernelsIfNeeded()
        // The default command takes no positional arguments: a leading word that names no
        // command is a misspelt one.
        let args = Array(CommandLine.arguments.dropFirst())
        if let first = args.first, !first.hasPrefix("-") {
            let names = allSubcommands.map { $0._commandName } + ["help"]
            if !names.contains(first) {
                let near = names.map { ($0, Suggestion.distance(first, $0)) }.min { $0.1 < $1.1 }
                let hint = near.map { $0.1 <= max(2, first.count / 3) ? " Did you mean '\($0.0)'?" : "" } ?? ""
                FileHandle.standardError.write(Data(("Error: Unknown command '\(first)'.\(hint)\n"
                    + "Commands: \(names.dropLast().joined(separator: ", ")); without one, t2v-render renders --prompt.\n"
                    + "  See 't2v-render --help' for more information.\n").utf8))
                Foundation.exit(2)
            }
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            if let signal = SignalFlag.received {
                // Stopped by Ctrl-C or SIGTERM: the message says what was kept; the status says why.
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(128 + signal)
            }
            exit(withError: error)
        }
    }
}
