import ArgumentParser

/// The `t2v-render` command-line tool: glue between FrameIO and Generator.
@main
struct T2VRender: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "t2v-render",
        abstract: "Text-to-video on a CPU: a video diffusion model streamed into FFmpeg encoders.",
        version: "0.1.0",
        subcommands: T2VRender.allSubcommands
    )
}
