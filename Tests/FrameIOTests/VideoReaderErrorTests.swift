import Foundation
import XCTest
@testable import FrameIO

/// Bad inputs: each gives a clear FrameIOError naming the file, what is wrong and what to do;
/// none crashes or hangs.
final class VideoReaderErrorTests: XCTestCase {
    private func assertOpenFails(_ path: String, _ expected: (FrameIOError) -> Bool, mentions: [String],
                                 file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try VideoReader(path: path), file: file, line: line) { error in
            guard let e = error as? FrameIOError else {
                return XCTFail("expected FrameIOError, got \(error)", file: file, line: line)
            }
            XCTAssertTrue(expected(e), "unexpected case: \(e)", file: file, line: line)
            let message = e.description
            XCTAssertTrue(message.hasPrefix(path), "message must start with the path: \(message)", file: file, line: line)
            for word in mentions {
                XCTAssertTrue(message.contains(word), "'\(word)' missing from: \(message)", file: file, line: line)
            }
        }
    }

    func testMissingFile() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = dir.appendingPathComponent("nope.mp4").path
        assertOpenFails(path, { if case .fileNotFound = $0 { return true }; return false }, mentions: ["no such file"])
    }

    func testDirectory() throws {
        let dir = try TestUtils.makeTempDir(self)
        assertOpenFails(dir.path, { if case .notAVideo = $0 { return true }; return false }, mentions: ["directory"])
    }

    func testEmptyFile() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = dir.appendingPathComponent("empty.mp4").path
        FileManager.default.createFile(atPath: path, contents: Data())
        assertOpenFails(path, { if case .notAVideo = $0 { return true }; return false }, mentions: ["empty", "0 bytes"])
    }

    func testTextFile() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = dir.appendingPathComponent("notes.txt").path
        try "This is a shopping list, not a video.\nmilk\neggs\n".write(toFile: path, atomically: true, encoding: .utf8)
        assertOpenFails(path, { if case .notAVideo = $0 { return true }; return false },
                        mentions: ["not a readable video", "Invalid data"])
    }

    func testRandomBytes() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = dir.appendingPathComponent("noise.mp4").path
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let bytes = (0..<65536).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        assertOpenFails(path, { if case .notAVideo = $0 { return true }; return false }, mentions: ["not a readable video"])
    }

    func testTruncatedMP4() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = try ReaderClips.make(dir, "whole.mp4", source: "testsrc2=s=64x48:r=10:d=1",
                                        ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let cut = dir.appendingPathComponent("cut.mp4").path
        FileManager.default.createFile(atPath: cut, contents: data.prefix(data.count / 2))
        // The index (moov) is at the end, so half a file is unreadable: say so and how to recover.
        assertOpenFails(cut, { if case .notAVideo = $0 { return true }; return false },
                        mentions: ["Invalid data", "truncated"])

        // With the index first (faststart), a cut file opens and yields the frames that survive.
        let fast = try ReaderClips.make(dir, "fast.mp4", source: "testsrc2=s=64x48:r=10:d=2",
                                        ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "4", "-movflags", "+faststart"])
        let fastData = try Data(contentsOf: URL(fileURLWithPath: fast))
        let fastCut = dir.appendingPathComponent("fastcut.mp4").path
        FileManager.default.createFile(atPath: fastCut, contents: fastData.prefix(fastData.count * 4 / 5))
        let frames = try ReaderClips.readAll(fastCut)
        let oracle = try ReaderClips.rawFrames(fastCut, pixFmt: "rgb24", frameBytes: 64 * 48 * 3)
        XCTAssertGreaterThan(frames.count, 0)
        XCTAssertLessThan(frames.count, 20)
        XCTAssertEqual(frames.count, oracle.count, "as many frames as the ffmpeg CLI recovers")
    }

    func testAudioOnlyFile() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = try ReaderClips.make(dir, "tone.m4a", source: "sine=frequency=440:duration=0.5", ["-c:a", "aac"])
        assertOpenFails(path, { if case .noVideoStream = $0 { return true }; return false }, mentions: ["no video stream"])
    }

    func testHostileSizeIsRefusedBeforeAllocating() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = dir.appendingPathComponent("huge.y4m").path
        // A YUV4MPEG2 header claiming 16000x16000 (768 MB per picture) followed by a few bytes.
        var data = Data("YUV4MPEG2 W16000 H16000 F25:1 Ip A1:1 C420jpeg\nFRAME\n".utf8)
        data.append(Data(count: 4096))
        FileManager.default.createFile(atPath: path, contents: data)
        assertOpenFails(path, { if case .unsupported = $0 { return true }; return false },
                        mentions: ["16000x16000", "maxPixels"])
        // A smaller limit is honoured too.
        let clip = try ReaderClips.make(dir, "small.mkv", source: "testsrc2=s=64x48:r=10:d=0.2", ["-c:v", "ffv1"])
        XCTAssertThrowsError(try VideoReader(path: clip, options: .init(maxPixels: 1000)))
        XCTAssertNoThrow(try VideoReader(path: clip, options: .init(maxPixels: 64 * 48)))
    }

    func testBadOptions() throws {
        let dir = try TestUtils.makeTempDir(self)
        let clip = try ReaderClips.make(dir, "small.mkv", source: "testsrc2=s=64x48:r=10:d=0.2", ["-c:v", "ffv1"])
        for options in [VideoReader.Options(size: .init(width: 0, height: 10)), .init(frameRate: -1),
                        .init(threads: -2), .init(start: -.infinity)] {
            XCTAssertThrowsError(try VideoReader(path: clip, options: options)) { error in
                guard case .invalidArgument = error as? FrameIOError else { return XCTFail("\(error)") }
            }
        }
        XCTAssertNil(VideoReader.Size(parsing: "12"))
        XCTAssertEqual(VideoReader.Size(parsing: "32x24"), VideoReader.Size(width: 32, height: 24))
    }
}
