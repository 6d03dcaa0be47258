import ArgumentParser
import Foundation
import Scenes

/// The `--families` option shared by `render` and `sheet`: ids separated by spaces or commas.
struct FamilySelection: ParsableArguments {
    @Option(name: .long, parsing: .upToNextOption,
            help: "Families to include, by id (space- or comma-separated; default: all 14). Ids: \(SceneFamily.allCases.map(\.id).joined(separator: ", ")).")
    var families: [String] = []

    /// The selected families in corpus order; throws `ValidationError` naming an unknown id.
    func resolved() throws -> [SceneFamily] {
        let ids = families.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if ids.isEmpty { return SceneFamily.allCases }
        var chosen = Set<SceneFamily>()
        for id in ids {
            guard let family = SceneFamily(id: id.lowercased()) else {
                throw ValidationError("unknown family '\(id)'; valid ids: \(SceneFamily.allCases.map(\.id).joined(separator: ", "))")
            }
            chosen.insert(family)
        }
        return SceneFamily.allCases.filter(chosen.contains)
    }

    func validate() throws {
        _ = try resolved()
    }
}

extension SceneSplit: ExpressibleByArgument {}
