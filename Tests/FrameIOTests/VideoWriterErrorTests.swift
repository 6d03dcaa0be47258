import FrameIO
import Foundation
import XCTest

/// Atomic output and error reporting: an existing target survives failures byte for byte, no
/// temp files are left, and each failure names the path and the cause.
final class VideoWriterErrorTests: XCTestCase {
    let width = 32, height = 24

    private func frames(_ n: Int) throws -> [RGBFrame] {
        try WriterOracle.frames(width: width, height: height, count: n)
    }

    /// A directory holding `target` with known bytes; returns (dir, target path, old bytes).
    private func existingTarget(_ name: String) throws -> (URL, String, Data) {
        let dir = try TestUtils.makeTempDir(self)
        let target = dir.appendingPathComponent(name)
        let old = Data("previous contents, not a video".utf8)
        try old.write(to: target)
        return (dir, target.path, old)
    }

    func testCancelMidwayLeavesTargetIntact() throws {
        let (dir, target, old) = try existingTarget("clip.mp4")
        let writer = try VideoWriter(path: target, width: width, height: height)
        for f in try frames(6) { try writer.write(f) }
        // While writing: the target is untouched, one hidden temp file sits beside it.
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: target)), old)
        let temps = try WriterOracle.otherFiles(in: dir, keep: ["clip.mp4"])
        XCTAssertEqual(temps.count, 1)
        XCTAssertTrue(temps.first?.hasPrefix(".clip.mp4.") ?? false, "\(temps)")
        writer.cancel()
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: target)), old)
        XCTAssertEqual(try WriterOracle.otherFiles(in: dir, keep: ["clip.mp4"]), [])
        XCTAssertThrowsError(try writer.write(try frames(1)[0]))
        XCTAssertThrowsError(try writer.finish())
    }

    func testFailedWriteLeavesTargetIntact() throws {
        let (dir, target, old) = try existingTarget("clip.mkv")
        XCTAssertThrowsError(try withVideoWriter(path: target, width: width, height: height) { writer in
            for f in try frames(3) { try writer.write(f) }
            try writer.write(try RGBFrame(width: 16, height: 16, packed: [UInt8](repeating: 0, count: 16 * 16 * 3)))
        }) { error in
            XCTAssertEqual(error as? FrameIOError,
                           .shapeMismatch("\(target): frame is 16x16 but the writer was opened for 32x24"))
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: target)), old)
        XCTAssertEqual(try WriterOracle.otherFiles(in: dir, keep: ["clip.mkv"]), [])
    }

    func testBodyErrorCancels() throws {
        struct Stop: Error {}
        let (dir, target, old) = try existingTarget("clip.webm")
        XCTAssertThrowsError(try withVideoWriter(path: target, width: width, height: height) { writer in
            try writer.write(try frames(1)[0])
            throw Stop()
        }) { XCTAssertTrue($0 is Stop) }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: target)), old)
        XCTAssertEqual(try WriterOracle.otherFiles(in: dir, keep: ["clip.webm"]), [])
    }

    func testWriterDroppedWithoutFinishRemovesTemp() throws {
        let dir = try TestUtils.makeTempDir(self)
        do {
            let writer = try VideoWriter(path: dir.appendingPathComponent("x.mp4").path, width: width, height: height)
            try writer.write(try frames(1)[0])
        }
        XCTAssertEqual(try WriterOracle.otherFiles(in: dir, keep: []), [])
    }

    func testFinishReplacesTarget() throws {
        let (dir, target, old) = try existingTarget("clip.mp4")
        let result = try WriterOracle.encode(try frames(4), to: target)
        let new = try Data(contentsOf: URL(fileURLWithPath: target))
        XCTAssertNotEqual(new, old)
        XCTAssertEqual(result.bytesWritten, Int64(new.count))
        XCTAssertEqual(try WriterOracle.probe(target).stream["nb_read_frames"] as? String, "4")
        XCTAssertEqual(try WriterOracle.otherFiles(in: dir, keep: ["clip.mp4"]), [])
    }

    func testPNGSequenceCancelLeavesNothing() throws {
        let dir = try TestUtils.makeTempDir(self)
        let writer = try VideoWriter(path: dir.appendingPathComponent("f_%03d.png").path, width: width, height: height)
        for f in try frames(3) { try writer.write(f) }
        XCTAssertEqual(try WriterOracle.otherFiles(in: dir, keep: []).count, 1, "one temp directory while writing")
        writer.cancel()
        XCTAssertEqual(try WriterOracle.otherFiles(in: dir, keep: []), [])
    }

    func testFullDisk() throws {
        guard FileManager.default.fileExists(atPath: "/dev/full") else { throw XCTSkip("no /dev/full on this system") }
        XCTAssertThrowsError(try WriterOracle.encode(try frames(8), to: "/dev/full")) { error in
            XCTAssertTrue("\(error)".hasPrefix("/dev/full: cannot write (no space left on device"), "\(error)")
        }
    }

    func testMissingDirectory() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = dir.appendingPathComponent("no/such/dir/out.mp4").path
        XCTAssertThrowsError(try VideoWriter(path: path, width: width, height: height)) { error in
            XCTAssertEqual("\(error)", "\(path): cannot write (directory \(dir.path)/no/such/dir does not exist; create it first).")
        }
    }

    func testReadOnlyDirectory() throws {
        guard geteuid() != 0 else { throw XCTSkip("running as root: permissions are not enforced") }
        let dir = try TestUtils.makeTempDir(self)
        chmod(dir.path, 0o555)
        defer { chmod(dir.path, 0o755) }
        XCTAssertThrowsError(try VideoWriter(path: dir.appendingPathComponent("a.mp4").path, width: width, height: height)) { error in
            XCTAssertTrue("\(error)".contains("no permission to write in"), "\(error)")
        }
    }

    func testUnsupportedCombinations() throws {
        let dir = try TestUtils.makeTempDir(self)
        func expect(_ name: String, _ codec: VideoWriter.Codec?, _ message: String) {
            var o = VideoWriter.Options()
            o.codec = codec
            let path = dir.appendingPathComponent(name).path
            XCTAssertThrowsError(try VideoWriter(path: path, width: width, height: height, options: o)) { error in
                XCTAssertEqual("\(error)", "\(path): \(message)")
            }
        }
        expect("a.mp4", .gif, "codec gif cannot be stored in mp4: GIF output needs the .gif container")
        expect("a.webm", .h264, "codec h264 cannot be stored in webm: the webm muxer does not accept it")
        expect("a.mov", .vp9, "codec vp9 cannot be stored in mov: FFmpeg stores vp9 in MP4 but not MOV; use .mp4")
        expect("a.gif", .h264, "codec h264 cannot be stored in gif: the .gif container holds only the gif codec")
        expect("a.avi", nil, "cannot tell the container from the file name; use .mp4, .mov, .mkv, .webm, .gif, .nut, a PNG pattern such as frames_%04d.png, or set the format")
        expect("a.png", nil, "a PNG sequence needs a frame-number pattern in the file name, e.g. frames_%04d.png")
        XCTAssertEqual(try WriterOracle.otherFiles(in: dir, keep: []), [])
        // libaom AV1 (frames under 64x64) cannot stream in Matroska: refused before stdout is touched.
        if try WriterOracle.hasEncoder("libaom-av1") {
            var o = VideoWriter.Options()
            o.codec = .av1
            o.format = .mkv
            XCTAssertThrowsError(try VideoWriter(path: "-", width: width, height: height, options: o)) { error in
                XCTAssertTrue("\(error)".contains("which FFmpeg 5.1 cannot stream in mkv to a pipe"), "\(error)")
            }
        }
    }

    func testUnknownEncoderAndMuxerOptionsAreErrors() throws {
        let dir = try TestUtils.makeTempDir(self)
        var o = VideoWriter.Options()
        o.encoderOptions = ["no-such-option": "1", "tune": "film"]
        XCTAssertThrowsError(try VideoWriter(path: dir.appendingPathComponent("a.mp4").path, width: width, height: height, options: o)) { error in
            XCTAssertTrue("\(error)".contains("unknown encoder option for libx264: no-such-option"), "\(error)")
        }
        o.encoderOptions = ["tune": "film"]  // a real x264 option is accepted
        o.muxerOptions = ["bogus_flag": "1"]
        XCTAssertThrowsError(try VideoWriter(path: dir.appendingPathComponent("b.mkv").path, width: width, height: height, options: o)) { error in
            XCTAssertTrue("\(error)".contains("unknown muxer option for matroska: bogus_flag"), "\(error)")
        }
        o.muxerOptions = [:]
        XCTAssertNoThrow(try WriterOracle.encode(try frames(2), to: dir.appendingPathComponent("c.mkv").path, options: o))
        o.preset = "fast"
        o.codec = .vp9
        XCTAssertThrowsError(try VideoWriter(path: dir.appendingPathComponent("d.webm").path, width: width, height: height, options: o)) { error in
            XCTAssertTrue("\(error)".contains("preset applies to h264"), "\(error)")
        }
        XCTAssertEqual(try WriterOracle.otherFiles(in: dir, keep: ["c.mkv"]), [])
    }

    func testFinishWithoutFramesFails() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = dir.appendingPathComponent("empty.mp4").path
        let writer = try VideoWriter(path: path, width: width, height: height)
        XCTAssertThrowsError(try writer.finish()) { error in
            XCTAssertEqual("\(error)", "\(path): no frames were written; nothing to save")
        }
        XCTAssertEqual(try WriterOracle.otherFiles(in: dir, keep: []), [])
    }

    func testOptionsAreCodable() throws {
        var o = VideoWriter.Options()
        o.codec = .vp9
        o.frameRate = Rational(30000, 1001)
        o.metadata = ["title": "x"]
        let back = try JSONDecoder().decode(VideoWriter.Options.self, from: JSONEncoder().encode(o))
        XCTAssertEqual(back, o)
        // A partial configuration keeps the defaults for missing keys.
        let partial = try JSONDecoder().decode(VideoWriter.Options.self, from: Data(#"{"crf": 18, "codec": "vp9"}"#.utf8))
        var expected = VideoWriter.Options()
        expected.crf = 18
        expected.codec = .vp9
        XCTAssertEqual(partial, expected)
    }
}
