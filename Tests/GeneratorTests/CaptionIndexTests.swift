import Foundation
import XCTest
@testable import Generator

/// `CaptionIndex`: the training captions a model file keeps, and the nearest-caption lookup.
final class CaptionIndexTests: XCTestCase {
    func testNearestCaptionsByCosineSimilarityBestFirst() {
        let index = CaptionIndex(captions: ["east", "north", "", "north-east", "east"],
                                 embeddings: [[2, 0], [0, 3], [0, 0], [1, 1], [2, 0]])
        XCTAssertEqual(index.captions, ["east", "north", "north-east"], "sorted, the empty (unconditional) caption and duplicates dropped")
        let m = index.nearest(to: [10, 1], count: 2)
        XCTAssertEqual(m.map(\.caption), ["east", "north-east"])
        XCTAssertEqual(m[0].similarity, 10 / Float(101).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(m[1].similarity, 11 / (Float(101).squareRoot() * Float(2).squareRoot()), accuracy: 1e-6)
        XCTAssertEqual(index.nearest(to: [0, -1], count: 5).count, 3)
    }

    func testAFileRoundTripAndBadFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("caption-index-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let index = CaptionIndex(captions: ["a \"quoted\" / caption", "b"], embeddings: [[1, 2, 2], [0, 0, 5]])
        let (entries, metadata) = try index.contents()
        let url = dir.appendingPathComponent("m.safetensors")
        try SafeTensors.write(entries + [.init(name: "other", shape: [1], floats: [0])], metadata: metadata, to: url)
        XCTAssertEqual(try CaptionIndex.load(from: url), index)

        let none = dir.appendingPathComponent("none.safetensors")
        try SafeTensors.write([.init(name: "other", shape: [1], floats: [0])], to: none)
        XCTAssertNil(try CaptionIndex.load(from: none))

        let noList = dir.appendingPathComponent("nolist.safetensors")
        try SafeTensors.write(entries, to: noList)
        XCTAssertThrowsError(try CaptionIndex.load(from: noList)) { error in
            XCTAssertTrue("\(error.localizedDescription)".contains("no JSON list of captions"), error.localizedDescription)
            XCTAssertTrue("\(error.localizedDescription)".contains(noList.path), error.localizedDescription)
        }
        let wrong = dir.appendingPathComponent("wrong.safetensors")
        try SafeTensors.write(entries, metadata: [CaptionIndex.captionsKey: "[\"only one\"]"], to: wrong)
        XCTAssertThrowsError(try CaptionIndex.load(from: wrong)) { error in
            XCTAssertTrue("\(error.localizedDescription)".contains("for 1 captions"), error.localizedDescription)
        }
    }

    func testALargeCaptionSetKeepsAnEvenSelection() {
        let n = CaptionIndex.maxCaptions * 2 + 1
        let captions = (0..<n).map { String(format: "caption %06d", $0) }
        let index = CaptionIndex(captions: captions, embeddings: captions.indices.map { [Float($0), 1] })
        XCTAssertEqual(index.captions.count, CaptionIndex.maxCaptions)
        XCTAssertEqual(index.captions.first, "caption 000000")
        XCTAssertEqual(index.captions[1], "caption 000002")
    }

    func testTheDenoiserLoaderSkipsTheCaptions() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("caption-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = Philox(seed: 1)
        let model = try VideoDenoiser(config: .tiny, rng: &rng)
        let index = CaptionIndex(captions: ["x"], embeddings: [[Float](repeating: 1, count: 384)])
        let (entries, metadata) = try index.contents()
        let url = dir.appendingPathComponent("m.safetensors")
        try model.save(to: url, metadata: metadata, extraEntries: entries)
        XCTAssertEqual(try VideoDenoiser.load(from: url).model.parameterCount, model.parameterCount)
        XCTAssertEqual(try CaptionIndex.load(from: url)?.captions, ["x"])
    }
}
