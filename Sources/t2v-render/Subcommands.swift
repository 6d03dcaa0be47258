import ArgumentParser

extension T2VRender {
    /// Every subcommand, in the order `--help` lists them. One line per subcommand so
    /// parallel work merges cleanly.
    static let allSubcommands: [ParsableCommand.Type] = [
        Render.self,
        Probe.self,
        Frames.self,
        Decode.self,
        Encode.self,
        Eval.self,
        Extract.self,
        Embed.self,
        Train.self,
        Distill.self,
        Completion.self,
        TrainAutoencoder.self,
        EncodeLatents.self,
        EvalAutoencoder.self,
    ]
}
