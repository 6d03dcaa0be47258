import Foundation
import XCTest
@testable import FrameIO

/// Dataset shards, manifest, resume, locking, merging and the training loader.
final class DatasetTests: XCTestCase {
    /// A clip whose frame k of clip `id` is filled with a value derived from (id, k, pixel).
    func makeClip(id: Int, frames: Int = 3, width: Int = 5, height: Int = 4) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: frames * width * height * 3)
        for i in out.indices { out[i] = UInt8((id * 31 + i * 7) % 256) }
        return out
    }

    func testShardRoundTripAndPythonReadsIt() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = dir.appendingPathComponent("shard.safetensors").path
        let clips = (0..<3).map { makeClip(id: $0) }
        try ShardFile.write(path: path, frames: 3, width: 5, height: 4, clips: clips, metadata: ["k": "v"])
        let shard = try ShardFile(path: path)
        XCTAssertEqual(shard.shape, [3, 3, 4, 5, 3])
        XCTAssertEqual(shard.metadata["k"], "v")
        for i in 0..<3 { XCTAssertEqual(try shard.clip(i), clips[i]) }
        XCTAssertThrowsError(try shard.clip(3))

        // The oracle: Python's safetensors reads the file as it is.
        let script = """
        import sys, numpy as np
        from safetensors.numpy import load_file
        t = load_file(sys.argv[1])["clips"]
        assert t.dtype == np.uint8, t.dtype
        print(list(t.shape), int(t.astype(np.int64).sum()), int(t[1,2,3,4,2]))
        """
        let result = try TestUtils.run("python3", ["-c", script, path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let flat = clips.flatMap { $0 }
        let expectedSum: Int = flat.reduce(0) { (acc: Int, v: UInt8) -> Int in acc + Int(v) }
        // [1,2,3,4,2] in [N,T,H,W,3] with T=3,H=4,W=5
        let probeIndex: Int = ((2 * 4 + 3) * 5 + 4) * 3 + 2
        let probe: UInt8 = clips[1][probeIndex]
        XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines),
                       "[3, 3, 4, 5, 3] \(expectedSum) \(probe)")
    }

    func testCorruptShardsGiveClearErrors() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = dir.appendingPathComponent("s.safetensors").path
        try ShardFile.write(path: path, frames: 2, width: 2, height: 2, clips: [makeClip(id: 1, frames: 2, width: 2, height: 2)])
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        let cases: [(String, Data)] = [
            ("shorter than 8 bytes", good.prefix(5)),
            ("past the end", good.prefix(20)),
            ("data is", good.dropLast(3)),
            ("past the end", Data([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0]) + good.dropFirst(8)),
        ]
        for (expected, bytes) in cases {
            try bytes.write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try ShardFile(path: path)) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error) should mention '\(expected)'")
                XCTAssertTrue("\(error)".contains(path), "\(error) should name the file")
            }
        }
    }

    func testWriterShardsAndResumeWithoutDuplicates() throws {
        let dir = try TestUtils.makeTempDir(self).appendingPathComponent("ds")
        let clipBytes = 3 * 5 * 4 * 3
        do {
            let w = try DatasetWriter(directory: dir, frames: 3, width: 5, height: 4, maxShardBytes: clipBytes * 3)
            for i in 0..<5 {
                XCTAssertTrue(try w.add(clip: makeClip(id: i), .init(source: "a.mp4", start: Double(i), fps: 8, caption: "cap a")))
            }
            try w.finishInput("a.mp4")
            // Simulated kill: the writer goes away without close(); clips 3 and 4 were pending.
        }
        var records = try DatasetManifest.readRecords(in: dir)
        XCTAssertEqual(records.count, 3, "one full shard committed, the rest was pending")
        XCTAssertEqual(Set(records.map(\.shard)).count, 1)
        do {
            let w = try DatasetWriter(directory: dir, frames: 3, width: 5, height: 4, maxShardBytes: clipBytes * 3)
            XCTAssertFalse(w.finishedInputs.contains("a.mp4"), "a.mp4's last clip was never committed")
            for i in 0..<5 {
                try w.add(clip: makeClip(id: i), .init(source: "a.mp4", start: Double(i), fps: 8, caption: "cap a"))
            }
            try w.finishInput("a.mp4")
            try w.add(clip: makeClip(id: 9), .init(source: "b.mp4", start: 0, fps: 8, caption: ""))
            try w.finishInput("b.mp4")
            try w.close()
            XCTAssertEqual(w.clipsWritten, 3, "clips 3, 4 of a.mp4 and b.mp4's clip; 0-2 were skipped")
        }
        records = try DatasetManifest.readRecords(in: dir)
        XCTAssertEqual(records.count, 6)
        XCTAssertEqual(Set(records.map(\.clipKey)).count, 6, "no duplicates")
        XCTAssertEqual(Set(try DatasetManifest.readFinishedInputs(in: dir)), ["a.mp4", "b.mp4"])
        // Every record points at the right pixels.
        for r in records {
            let shard = try ShardFile(path: dir.appendingPathComponent(r.shard).path)
            let id = r.source == "b.mp4" ? 9 : Int(r.start)
            XCTAssertEqual(try shard.clip(r.index), makeClip(id: id), "\(r)")
        }
    }

    func testTornManifestLineIsDropped() throws {
        let dir = try TestUtils.makeTempDir(self).appendingPathComponent("ds")
        do {
            let w = try DatasetWriter(directory: dir, frames: 3, width: 5, height: 4)
            try w.add(clip: makeClip(id: 1), .init(source: "a.mp4", start: 0, fps: 8, caption: "x"))
            try w.close()
        }
        let manifest = dir.appendingPathComponent(DatasetManifest.manifestName)
        let handle = try FileHandle(forWritingTo: manifest)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"shard\":\"shard-0".utf8))
        try handle.close()
        XCTAssertEqual(try DatasetManifest.readRecords(in: dir).count, 1)
        let w = try DatasetWriter(directory: dir, frames: 3, width: 5, height: 4)
        try w.add(clip: makeClip(id: 2), .init(source: "a.mp4", start: 1, fps: 8, caption: "x"))
        try w.close()
        XCTAssertEqual(try DatasetManifest.readRecords(in: dir).count, 2)
    }

    func testSecondWriterIsRefusedAndShapeMismatchIsReported() throws {
        let dir = try TestUtils.makeTempDir(self).appendingPathComponent("ds")
        let first = try DatasetWriter(directory: dir, frames: 3, width: 5, height: 4)
        XCTAssertThrowsError(try DatasetWriter(directory: dir, frames: 3, width: 5, height: 4)) { error in
            XCTAssertTrue("\(error)".contains("another extract run"), "\(error)")
        }
        try first.add(clip: makeClip(id: 1), .init(source: "a.mp4", start: 0, fps: 8, caption: ""))
        try first.close()
        XCTAssertThrowsError(try DatasetWriter(directory: URL(fileURLWithPath: "/proc/no/such/dir"), frames: 1, width: 1, height: 1))
        withExtendedLifetime(first) {}
    }

    func testLoaderIsSeededAndCoversEveryClipEachEpoch() throws {
        let dir = try TestUtils.makeTempDir(self).appendingPathComponent("ds")
        let w = try DatasetWriter(directory: dir, frames: 3, width: 5, height: 4, maxShardBytes: 3 * 5 * 4 * 3 * 3)
        for i in 0..<7 {
            try w.add(clip: makeClip(id: i), .init(source: "v\(i).mp4", start: 0, fps: 8, caption: "c\(i)"))
        }
        try w.close()
        let a = try DatasetLoader(directory: dir, seed: 42)
        let b = try DatasetLoader(directory: dir, seed: 42)
        let c = try DatasetLoader(directory: dir, seed: 43)
        var epochCaptions: [String] = []
        for _ in 0..<7 {
            let ba = try a.nextBatch(1), bb = try b.nextBatch(1), bc = try c.nextBatch(1)
            XCTAssertEqual(ba.captions, bb.captions)
            XCTAssertEqual(ba.clips, bb.clips)
            _ = bc
            epochCaptions += ba.captions
        }
        XCTAssertEqual(Set(epochCaptions).count, 7, "an epoch visits every clip once")
        // Pixel conversion: [frames, 3, H, W] planar in [-1, 1].
        let loader = try DatasetLoader(directory: dir, seed: 1)
        let batch = try loader.nextBatch(2)
        XCTAssertEqual(batch.clips.count, 2 * 3 * 3 * 4 * 5)
        let rec = batch.records[0]
        let bytes = makeClip(id: Int(rec.source.dropFirst().dropLast(4))!)
        // frame 1, channel G, pixel (y 2, x 3)
        let byteIndex: Int = ((1 * 4 + 2) * 5 + 3) * 3 + 1
        let expected: Float = Float(bytes[byteIndex]) / 127.5 - 1
        let floatIndex: Int = (1 * 3 + 1) * 20 + 2 * 5 + 3
        XCTAssertEqual(batch.clips[floatIndex], expected, accuracy: 1e-6)
        // Resume: seek to a saved position reproduces the next batch.
        let pos = loader.position
        let next = try loader.nextBatch(3)
        let again = try DatasetLoader(directory: dir, seed: 1)
        again.seek(epoch: pos.epoch, index: pos.index)
        XCTAssertEqual(try again.nextBatch(3).captions, next.captions)
        // Different seeds give a different order (7! orders; equality would be a bug).
        let orderC = try (0..<7).map { _ in try c.nextBatch(1).captions[0] }
        let orderA = try (0..<7).map { _ in try a.nextBatch(1).captions[0] }
        XCTAssertNotEqual(orderA, orderC)
    }

    func testMergeOfShardedHalvesEqualsWhole() throws {
        let root = try TestUtils.makeTempDir(self)
        let sources = (0..<12).map { "clips/video\($0).mp4" }
        func write(_ dir: URL, _ keep: (String) -> Bool) throws {
            let w = try DatasetWriter(directory: dir, frames: 3, width: 5, height: 4, maxShardBytes: 3 * 5 * 4 * 3 * 2)
            for (i, s) in sources.enumerated() where keep(s) {
                try w.add(clip: makeClip(id: i), .init(source: s, start: 0, fps: 8, caption: s))
                try w.finishInput(s)
            }
            try w.close()
        }
        try write(root.appendingPathComponent("whole")) { _ in true }
        try write(root.appendingPathComponent("p0")) { StableHash.belongs($0, toShard: 0, of: 2) }
        try write(root.appendingPathComponent("p1")) { StableHash.belongs($0, toShard: 1, of: 2) }
        let p0 = try DatasetManifest.readRecords(in: root.appendingPathComponent("p0")).count
        XCTAssertGreaterThan(p0, 0)
        XCTAssertLessThan(p0, 12, "both halves get inputs")
        let summary = try DatasetMerger.merge([root.appendingPathComponent("p0"), root.appendingPathComponent("p1")],
                                              into: root.appendingPathComponent("merged"))
        XCTAssertEqual(summary.clips, 12)
        XCTAssertEqual(summary.duplicates, 0)
        func content(_ dir: URL) throws -> [String: [UInt8]] {
            var out: [String: [UInt8]] = [:]
            for r in try DatasetManifest.readRecords(in: dir) {
                out[r.clipKey] = try ShardFile(path: dir.appendingPathComponent(r.shard).path).clip(r.index)
            }
            return out
        }
        XCTAssertEqual(try content(root.appendingPathComponent("merged")), try content(root.appendingPathComponent("whole")))
    }

    func testStableHashIsFNV1a() {
        // Published FNV-1a 64 test vectors.
        XCTAssertEqual(StableHash.fnv1a64(""), 0xcbf29ce484222325)
        XCTAssertEqual(StableHash.fnv1a64("a"), 0xaf63dc4c8601ec8c)
        XCTAssertEqual(StableHash.fnv1a64("foobar"), 0x85944171f73967e8)
    }
}
