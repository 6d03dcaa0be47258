import ArgumentParser
import Foundation

/// `t2v-render completion bash|zsh|fish`: the shell completion script. ArgumentParser's own
/// (`--generate-completion-script`) offers only `--version --help` and the subcommands at the top
/// level, but `t2v-render --prompt ...` runs the default command, `render`; the bash script
/// printed here also offers render's options there.
struct Completion: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a shell completion script (bash, zsh or fish).",
        discussion: """
        bash: t2v-render completion bash > /etc/bash_completion.d/t2v-render (or source it from ~/.bashrc). \
        In bash, `t2v-render --<TAB>` offers the default command's options (render) beside the subcommands.
        """)

    @Argument(help: "The shell: bash, zsh or fish.")
    var shell: String

    func validate() throws {
        guard ["bash", "zsh", "fish"].contains(shell) else { throw ValidationError("the shell must be bash, zsh or fish, got '\(shell)'") }
    }

    func run() throws {
        let script = T2VRender.completionScript(for: CompletionShell(rawValue: shell)!)
        print(shell == "bash" ? Self.offerDefaultCommandOptions(bash: script) : script)
    }

    /// The bash script with the top level's flag and option lists replaced by render's (plus
    /// `--version`), so options complete before any subcommand is typed.
    static func offerDefaultCommandOptions(bash script: String) -> String {
        var lines = script.components(separatedBy: "\n")
        func list(_ name: String, in function: String) -> (index: Int, items: String)? {
            guard let start = lines.firstIndex(of: "\(function)() {") else { return nil }
            for i in (start + 1)..<lines.count {
                if lines[i] == "}" { return nil }
                let trimmed = lines[i].trimmingCharacters(in: .whitespaces)
                for prefix in ["local -a \(name)=(", "\(name)=("] where trimmed.hasPrefix(prefix) && trimmed.hasSuffix(")") {
                    return (i, String(trimmed.dropFirst(prefix.count).dropLast()))
                }
            }
            return nil
        }
        for name in ["non_repeating_flags", "non_repeating_options", "repeating_flags", "repeating_options"] {
            guard let root = list(name, in: "_t2v-render"), let render = list(name, in: "_t2v-render_render") else { continue }
            var items = render.items.split(separator: " ").map(String.init)
            for item in root.items.split(separator: " ").map(String.init) where !items.contains(item) { items.append(item) }
            let indent = String(lines[root.index].prefix { $0 == " " })
            lines[root.index] = "\(indent)local -a \(name)=(\(items.joined(separator: " ")))"
        }
        return lines.joined(separator: "\n")
    }
}
