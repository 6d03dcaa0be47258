import Foundation
import XCTest
@testable import FrameIO

/// Frame-accurate seeking and frame-rate sampling.
final class VideoReaderSeekTests: XCTestCase {
    func testSeekToFrameEqualsSequentialDecode() throws {
        let dir = try TestUtils.makeTempDir(self)
        // H.264 with B-frames and a keyframe every 12 frames: seeks land mid-GOP.
        let path = try ReaderClips.make(dir, "gop.mp4", source: "testsrc2=s=64x48:r=24:d=2",
                                        ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "12", "-bf", "2"])
        let all = try ReaderClips.readAll(path)
        XCTAssertEqual(all.count, 48)
        let reader = try VideoReader(path: path)
        // Fixed "random" order including backward jumps, the first and the last frame.
        for index in [17, 3, 40, 0, 47, 12, 11, 29, 5, 36] {
            try reader.seek(toFrame: index)
            let frame = try XCTUnwrap(try reader.nextFrame(), "frame \(index)")
            XCTAssertEqual(frame.packedRGB, all[index].packedRGB, "seek to frame \(index)")
            XCTAssertEqual(frame.time ?? -1, all[index].time ?? -2, accuracy: 1e-9)
            // Decoding continues sequentially after a seek.
            if index + 1 < all.count {
                XCTAssertEqual(try reader.nextFrame()?.packedRGB, all[index + 1].packedRGB, "after frame \(index)")
            }
        }
        // Seeking by time: the first frame at or after the time.
        try reader.seek(toSeconds: 1.0)
        XCTAssertEqual(try reader.nextFrame()?.packedRGB, all[24].packedRGB)
        try reader.seek(toSeconds: 0.51)
        XCTAssertEqual(try reader.nextFrame()?.packedRGB, all[13].packedRGB)
        // readFrames(count:from:).
        let some = try reader.readFrames(count: 3, from: 0.25)
        XCTAssertEqual(some.map { $0.packedRGB }, all[6..<9].map { $0.packedRGB })
        // Past the end: nothing, no hang.
        try reader.seek(toSeconds: 10)
        XCTAssertNil(try reader.nextFrame())
        XCTAssertThrowsError(try reader.seek(toSeconds: -1))
        // Start option: a seek on open.
        let late = try VideoReader(path: path, options: .init(start: 1.5))
        XCTAssertEqual(try late.nextFrame()?.packedRGB, all[36].packedRGB)
    }

    func testHalfRateSamplingTakesEveryOtherFrame() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = try ReaderClips.indexClip(dir, rate: 24, seconds: 1)
        let reader = try VideoReader(path: path, options: .init(frameRate: 12))
        var indices: [Int] = [], times: [Double] = []
        while let image = try reader.nextPlanes(pixelFormat: "yuv444p") {
            indices.append(ReaderClips.index(of: image))
            times.append(image.time ?? -1)
        }
        XCTAssertEqual(indices, Array(stride(from: 0, to: 24, by: 2)))
        for (k, t) in times.enumerated() { XCTAssertEqual(t, Double(k) / 12, accuracy: 1e-9) }
        // RGB frames follow the same sampling.
        let rgb = try ReaderClips.readAll(path, .init(frameRate: 12))
        XCTAssertEqual(rgb.count, 12)
        XCTAssertEqual(rgb.map { $0.time ?? -1 }, times)
    }

    /// `Options.frameRate` gives the frames `ffmpeg -vf fps=F` gives, for constant and variable
    /// frame rate sources and rates that do not divide evenly.
    func testSamplingMatchesFFmpegFPSFilter() throws {
        let dir = try TestUtils.makeTempDir(self)
        let cfr = try ReaderClips.indexClip(dir, rate: 30, seconds: 1, name: "cfr.nut")
        // Uneven timestamps: frames 40 ms apart with every third one late by 25 ms.
        let vfr = try ReaderClips.indexClip(dir, rate: 25, seconds: 1.2, name: "vfr.mkv",
                                            setpts: "(N*0.04+if(eq(mod(N,3),1),0.025,0))/TB")
        let vfrTimes = try ReaderClips.frameTimes(vfr)
        XCTAssertEqual(Set(zip(vfrTimes, vfrTimes.dropFirst()).map { (($1 - $0) * 1000).rounded() }).count > 1, true,
                       "the VFR clip must have uneven frame durations: \(vfrTimes)")
        for (path, rates) in [(cfr, [12.0, 7, 24, 45]), (vfr, [10.0, 24, 30])] {
            for fps in rates {
                let reader = try VideoReader(path: path, options: .init(frameRate: fps))
                var indices: [Int] = []
                while let image = try reader.nextPlanes(pixelFormat: "yuv444p") {
                    indices.append(ReaderClips.index(of: image))
                }
                let oracle = try ReaderClips.rawFrames(path, pixFmt: "yuv444p", frameBytes: 3 * 32 * 32,
                                                       filter: "fps=\(Int(fps))")
                XCTAssertEqual(indices, oracle.map { (Int($0[0]) - 16) / 6 }, "\(path) at \(fps) fps")
            }
        }
    }

    func testSamplingAfterSeek() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = try ReaderClips.indexClip(dir, rate: 30, seconds: 1)
        let reader = try VideoReader(path: path, options: .init(frameRate: 12))
        var sequential: [Int] = []
        while let image = try reader.nextPlanes(pixelFormat: "yuv444p") { sequential.append(ReaderClips.index(of: image)) }
        // seek(toFrame:) counts output frames at the sampling rate.
        for k in [5, 0, 11, 7] {
            try reader.seek(toFrame: k)
            let image = try XCTUnwrap(try reader.nextPlanes(pixelFormat: "yuv444p"))
            XCTAssertEqual(ReaderClips.index(of: image), sequential[k], "sampled frame \(k)")
            XCTAssertEqual(image.time ?? -1, Double(k) / 12, accuracy: 1e-9)
        }
    }
}
