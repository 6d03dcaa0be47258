import Foundation
import XCTest

/// `t2v-scenes attributes`: usage errors exit 2 before any work, a missing model is a clear
/// runtime error, and a probe of a tiny model prompts every value of every attribute.
final class AttributesCLITests: XCTestCase {
    func testBadFlagsAreUsageErrors() throws {
        let seeds = try ScenesCLI.run(["attributes", "--seeds", "0"])
        XCTAssertEqual(seeds.status, 2, seeds.stderr)
        XCTAssertTrue(seeds.stderr.contains("--seeds"), seeds.stderr)
        let family = try ScenesCLI.run(["attributes", "--families", "city"])
        XCTAssertEqual(family.status, 2, family.stderr)
        XCTAssertTrue(family.stderr.contains("city has no attribute"), family.stderr)
        let size = try ScenesCLI.run(["attributes", "--size", "48"])
        XCTAssertEqual(size.status, 2, size.stderr)
        XCTAssertTrue(size.stderr.contains("--size"), size.stderr)
        let interval = try ScenesCLI.run(["attributes", "--guidance-interval", "884:167"])
        XCTAssertEqual(interval.status, 2, interval.stderr)
        XCTAssertTrue(interval.stderr.contains("--guidance-interval must be FIRST:LAST") && interval.stderr.contains("'884:167'"), interval.stderr)
        let negative = try ScenesCLI.run(["attributes", "--attribute-free-negative", "--guidance", "1"])
        XCTAssertEqual(negative.status, 2, negative.stderr)
        XCTAssertTrue(negative.stderr.contains("--attribute-free-negative needs --guidance above 1"), negative.stderr)
    }

    func testMissingModelIsAClearError() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("no-model-\(UUID().uuidString).safetensors").path
        let r = try ScenesCLI.run(["attributes", "--model", path, "--quiet"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains(path) && r.stderr.contains("does not exist"), r.stderr)
    }

    func testProbesEveryValueOfATinyModel() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attributes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try ScenesCLI.renderAndExtract(in: dir, ["--per-family", "1", "--families", "ball,car"])
        let model = dir.appendingPathComponent("m.safetensors").path
        let train = try CLI.run(["train", "--data", data, "--config", "tiny", "--steps", "1", "--batch", "1", "--seed", "1", "--quiet", "-o", model])
        XCTAssertEqual(train.status, 0, train.stderr)
        let json = dir.appendingPathComponent("cells.json").path
        let r = try ScenesCLI.run(["attributes", "--model", model, "--seeds", "2", "--steps", "2", "--families", "ball,clouds",
                               "--json", json, "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("| ball | training | red |") && r.stdout.contains("| clouds | paraphrases | left |"), r.stdout)
        XCTAssertTrue(r.stdout.contains("| all | paraphrases |"), r.stdout)
        XCTAssertFalse(r.stdout.contains("| car |"), "only the families asked for")
        // With guidance above 1, each clip is guided against its caption without the attribute.
        let unguided = try ScenesCLI.run(["attributes", "--model", model, "--seeds", "1", "--steps", "2", "--families", "ball",
                                          "--guidance", "1.5", "--attribute-free-negative", "--quiet"])
        XCTAssertEqual(unguided.status, 0, unguided.stderr)
        XCTAssertTrue(unguided.stdout.contains("| ball | training | red |"), unguided.stdout)
        struct Cell: Decodable { var family: String; var value: String; var paraphrase: Bool; var captions: [String]; var read: [String] }
        let cells = try JSONDecoder().decode([Cell].self, from: Data(contentsOf: URL(fileURLWithPath: json)))
        XCTAssertEqual(cells.count, 2 * (4 + 2), "every value of both families, training captions and paraphrases")
        for cell in cells {
            XCTAssertEqual(cell.read.count, 2)
            XCTAssertEqual(cell.captions.count, 2)
            if cell.family == "ball" { XCTAssertTrue(cell.captions.allSatisfy { $0.contains(cell.value) }, "\(cell.captions) name \(cell.value)") }
        }
    }
    /// `render --captions all` writes every training wording of a clip's attributes, one a line;
    /// `extract` keeps the first as the caption and the others as its alternatives; `train`
    /// embeds them all (the model file's `t2v.captions`).
    func testEveryWordingOfAClipReachesTheDatasetAndTheModel() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wordings-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try ScenesCLI.renderAndExtract(in: dir, ["--per-family", "2", "--families", "ball", "--captions", "all"])
        struct Record: Decodable { var source: String; var caption: String; var alternatives: [String]? }
        let lines = try String(contentsOfFile: data + "/manifest.jsonl", encoding: .utf8).split(separator: "\n")
        let records = try lines.map { try JSONDecoder().decode(Record.self, from: Data($0.utf8)) }
        XCTAssertEqual(records.count, 2)
        var all = Set<String>()
        for record in records {
            let sidecar = try String(contentsOfFile: (record.source as NSString).deletingPathExtension + ".txt", encoding: .utf8)
            let wordings = sidecar.split(separator: "\n").map(String.init)
            XCTAssertEqual(wordings.count, 12, "the ball family's 12 training templates")
            XCTAssertEqual([record.caption] + (record.alternatives ?? []), wordings)
            let colour = try XCTUnwrap(["red", "green", "blue", "yellow"].first { record.caption.contains($0) }, record.caption)
            XCTAssertTrue(wordings.allSatisfy { $0.contains(colour) }, "every wording names the clip's colour \(colour): \(wordings)")
            all.formUnion(wordings)
        }
        let model = dir.appendingPathComponent("m.safetensors").path
        let train = try CLI.run(["train", "--data", data, "--config", "tiny", "--steps", "2", "--batch", "2", "--seed", "1", "--quiet", "-o", model])
        XCTAssertEqual(train.status, 0, train.stderr)
        let script = """
        import json, struct, sys
        f = open(sys.argv[1], "rb"); n = struct.unpack("<Q", f.read(8))[0]
        print(json.dumps(json.loads(json.loads(f.read(n))["__metadata__"]["t2v.captions"])))
        """
        let (status, out) = try RenderCLITests.sh(["python3", "-c", script, model])
        XCTAssertEqual(status, 0, out)
        XCTAssertEqual(try JSONDecoder().decode([String].self, from: Data(out.utf8)), all.sorted())
    }
}
