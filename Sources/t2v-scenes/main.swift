import ArgumentParser

/// `t2v-scenes`: renders the procedural training corpus.
struct T2VScenes: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "t2v-scenes",
        abstract: "Render the procedural scene corpus (captioned clips) used to train the default model.")
}
T2VScenes.main()
