import ArgumentParser
import Foundation
import Generator
import Renderer

/// `t2v-render embed`: sentence embeddings of texts with the offline text encoder, and their
/// cosine similarities.
struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed texts with the offline text encoder (all-MiniLM-L6-v2, 384-d, L2-normalised).",
        discussion: """
        Prints each text's 384-d sentence embedding (mean of BERT's last hidden states, L2-normalised, \
        as sentence-transformers computes it) and, for two or more texts, their cosine similarity matrix. \
        Texts longer than 256 tokens are truncated.
        """)

    @Argument(help: "Texts to embed (any string; an empty one is allowed).")
    var texts: [String] = []

    @Flag(help: "Write JSON to stdout: {model, dimension, embeddings: [{text, tokens, embedding}], similarity}.")
    var json = false

    @Flag(help: "Report load and per-text encoding times (milliseconds) on stderr.")
    var timing = false

    @OptionGroup var model: TextModelOptions

    func validate() throws {
        if texts.isEmpty { throw ValidationError("Give at least one text to embed, e.g. t2v-render embed \"a city at night\".") }
    }

    func run() throws {
        let start = DispatchTime.now()
        let encoder: TextEncoder
        do {
            encoder = try TextEncoder(directory: TextModelLocator.locate(explicitPath: model.textModel))
        } catch let error as TextEncoderError {
            throw CommandError(error.description)
        }
        let loaded = DispatchTime.now()
        if timing { stderrLine(String(format: "loaded %@ in %.1f ms", encoder.directory.path, milliseconds(start, loaded))) }

        var embeddings: [TextEmbedding] = []
        for (i, text) in texts.enumerated() {
            let t0 = DispatchTime.now()
            embeddings.append(try encoder.encode(text))
            if timing {
                stderrLine(String(format: "text %d: %d tokens in %.2f ms", i + 1, embeddings[i].tokenCount,
                                  milliseconds(t0, DispatchTime.now())))
            }
        }
        let similarity: [[Float]]? = texts.count >= 2
            ? embeddings.map { a in embeddings.map { b in TextEncoder.cosineSimilarity(a, b) } }
            : nil

        if json {
            let output = JSONOutput(
                model: encoder.directory.path, dimension: encoder.dimension,
                embeddings: zip(texts, embeddings).map { .init(text: $0, tokens: $1.tokenCount, embedding: $1.pooled) },
                similarity: similarity)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var data = try encoder.encode(output)
            data.append(0x0A)
            FileHandle.standardOutput.write(data)
            return
        }
        for (i, (text, e)) in zip(texts, embeddings).enumerated() {
            print("# \(i + 1): \(quoted(text)) (\(e.tokenCount) tokens, \(e.dimension) values)")
            print(e.pooled.map { String(format: "%.6f", $0) }.joined(separator: " "))
        }
        if let similarity {
            print("# cosine similarity")
            print("     " + (1...texts.count).map { String(format: "%7d", $0) }.joined())
            for (i, row) in similarity.enumerated() {
                print(String(format: "%4d ", i + 1) + row.map { String(format: "%7.4f", $0) }.joined())
            }
        }
    }

    private func quoted(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    private func milliseconds(_ a: DispatchTime, _ b: DispatchTime) -> Double {
        Double(b.uptimeNanoseconds - a.uptimeNanoseconds) / 1e6
    }

    private func stderrLine(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// The `--json` document.
    struct JSONOutput: Encodable {
        struct Item: Encodable { var text: String; var tokens: Int; var embedding: [Float] }
        var model: String
        var dimension: Int
        var embeddings: [Item]
        var similarity: [[Float]]?
    }
}
