import ArgumentParser
import Foundation
import Renderer

/// `t2v-scenes`: renders the procedural training corpus.
///
/// Exit codes: 0 success, 1 runtime failure (a `CommandError` with a message a user can act
/// on), 2 usage error (bad flags or values, caught by parsing or `validate()`).
struct T2VScenes: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "t2v-scenes",
        abstract: "Render the procedural scene corpus (captioned clips) used to train the default model.",
        version: "0.1.0",
        subcommands: [RenderCommand.self, SheetCommand.self, CaptionsCommand.self, ReportCommand.self, TrackCommand.self, AttributesCommand.self]
    )

    /// Parses, runs, and maps errors onto the tool's exit codes (usage errors exit 2, not
    /// ArgumentParser's default 64).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

T2VScenes.main()
