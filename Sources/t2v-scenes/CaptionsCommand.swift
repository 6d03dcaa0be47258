import ArgumentParser
import Foundation
import Scenes

/// `t2v-scenes captions`: lists each family with its training captions and held-out paraphrases.
struct CaptionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "captions",
        abstract: "List the families with their training captions and held-out paraphrases.")

    @Flag(help: "Print JSON: [{id, number, name, training: [...], heldout: [...]}].")
    var json = false

    struct Entry: Codable {
        var id: String
        var number: Int
        var name: String
        var training: [String]
        var heldout: [String]
    }

    func run() throws {
        let entries = SceneFamily.allCases.map {
            Entry(id: $0.id, number: $0.number, name: $0.name,
                  training: Scenes.trainingCaptions($0), heldout: Scenes.heldOutParaphrases($0))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(entries), as: UTF8.self))
            return
        }
        for e in entries {
            print("\(e.number). \(e.id): \(e.name)")
            print("  training (\(e.training.count)):")
            for c in e.training { print("    \(c)") }
            print("  held-out paraphrases (\(e.heldout.count)):")
            for c in e.heldout { print("    \(c)") }
        }
    }
}
