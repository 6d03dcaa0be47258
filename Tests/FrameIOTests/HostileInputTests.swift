import Foundation
import XCTest
@testable import FrameIO

/// Hostile sizes and damaged datasets: each is refused with an error that names the file and the
/// problem, before anything is allocated from the size the input claims. Several are regression
/// tests for bugs found by the fuzz targets or by review while writing them (see RELIABILITY.md).
final class HostileInputTests: XCTestCase {
    /// A YUV4MPEG2 file whose header claims `width`x`height`, followed by a few bytes of a frame.
    func y4m(_ dir: URL, _ width: Int, _ height: Int) throws -> String {
        let path = dir.appendingPathComponent("claims-\(width)x\(height).y4m").path
        try Data("YUV4MPEG2 W\(width) H\(height) F8:1 Ip A1:1 C420jpeg\nFRAME\nabc".utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A fixture file committed under Tests/FrameIOTests/Fixtures.
    func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name).path
    }

    /// A mutated MOV whose video stream has no codec (FuzzVideoReader, crash-5ef98f8e...): the
    /// "no decoder" error read the codec id from the stream's parameters after
    /// `avformat_close_input` had freed them (heap-use-after-free under AddressSanitizer; a wrong
    /// codec name or a crash without it). The message must name the file and the codec.
    func testStreamWithoutADecoderIsRefusedWithItsCodecName() throws {
        let path = fixture("fuzz/videoreader-uaf-unknown-codec.mov")
        XCTAssertThrowsError(try VideoReader(path: path)) { error in
            guard case .unsupported(let message)? = error as? FrameIOError else {
                return XCTFail("expected .unsupported, got \(error)")
            }
            XCTAssertTrue(message.hasPrefix(path + ": this FFmpeg has no decoder for the none video codec"), message)
        }
    }

    /// Peak resident set size of this process so far, in bytes (ru_maxrss).
    func peakRSS() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }

    func testVideoClaiming100000x100000IsRefusedWithoutAllocating() throws {
        let dir = try TestUtils.makeTempDir(self)
        let before = peakRSS()
        for (w, h) in [(100_000, 100_000), (40_000, 16), (9_000, 9_000)] {
            let path = try y4m(dir, w, h)
            XCTAssertThrowsError(try VideoReader(path: path)) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains(path), "names the file: \(text)")
                switch error as? FrameIOError {
                case .notAVideo?:
                    // FFmpeg's own av_image_check_size refuses sizes past 2^31 bytes per picture.
                    XCTAssertEqual(w, 100_000, text)
                case .unsupported?:
                    XCTAssertTrue(text.contains("claims \(w)x\(h) pixels"), text)
                    XCTAssertTrue(text.contains("maxPixels"), "says what to do: \(text)")
                default:
                    XCTFail("unexpected error \(text)")
                }
            }
        }
        // A 9000x9000 RGB frame alone is 243 MB; nothing close to that was allocated.
        XCTAssertLessThan(peakRSS() - before, 64 << 20, "peak RSS grew by \(peakRSS() - before) bytes")
    }

    /// Writes a sparse file of `size` bytes: `prefix`, zero bytes, and a final newline, so a
    /// complete "line of 100 MB" costs no disk space.
    func sparseFile(_ path: String, prefix: String, size: Int) throws {
        FileManager.default.createFile(atPath: path, contents: Data(prefix.utf8))
        let fd = open(path, O_WRONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertEqual(ftruncate(fd, off_t(size - 1)), 0)
        XCTAssertEqual(pwrite(fd, "\n", 1, off_t(size - 1)), 1)
        close(fd)
    }

    func testManifestLineOf100MBIsRefusedAfterOneMegabyte() throws {
        // The line is 100 MB: reading it would grow the peak by that much. AddressSanitizer's
        // shadow memory and quarantine add a few MB of their own (measured 37 MB), so the bound
        // is looser there (scripts/sanitize.sh sets T2V_SANITIZER).
        let rssLimit = ProcessInfo.processInfo.environment["T2V_SANITIZER"] == nil ? 32 << 20 : 80 << 20
        let dir = try TestUtils.makeTempDir(self)
        let manifest = dir.appendingPathComponent(DatasetManifest.manifestName).path
        try sparseFile(manifest, prefix: "{\"shard\": \"", size: 100_000_000)
        let before = peakRSS()
        XCTAssertThrowsError(try DatasetManifest.readRecords(in: dir)) { error in
            XCTAssertTrue("\(error)".contains("manifest.jsonl:1: line longer than 1048576 bytes"), "\(error)")
        }
        XCTAssertThrowsError(try DatasetLoader(directory: dir, seed: 0))
        XCTAssertThrowsError(try DatasetWriter(directory: dir, frames: 1, width: 2, height: 2)) { error in
            XCTAssertTrue("\(error)".contains("line longer than"), "\(error)")
        }
        XCTAssertLessThan(peakRSS() - before, rssLimit, "peak RSS grew by \(peakRSS() - before) bytes")

        // The same line as an extract input manifest, in both formats.
        let jsonl = dir.appendingPathComponent("inputs.jsonl").path
        try sparseFile(jsonl, prefix: "{\"path\": \"", size: 100_000_000)
        XCTAssertThrowsError(try ExtractInputs.expand([jsonl]) { _ in true }) { error in
            XCTAssertTrue("\(error)".contains("inputs.jsonl:1: line longer than"), "\(error)")
        }
        let csv = dir.appendingPathComponent("inputs.csv").path
        try sparseFile(csv, prefix: "path,caption\n\"", size: 100_000_000)
        XCTAssertThrowsError(try ExtractInputs.expand([csv]) { _ in true }) { error in
            XCTAssertTrue("\(error)".contains("more than the 67108864-byte limit"), "\(error)")
        }
        XCTAssertLessThan(peakRSS() - before, rssLimit, "peak RSS grew by \(peakRSS() - before) bytes")
    }

    /// A shard header claiming about 2^63 clip bytes: the size check used to overflow
    /// (`dataStart + count`) and trap. Found by review while writing FuzzDataset.
    func testShardClaimingExabytesIsRefused() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = dir.appendingPathComponent("huge.safetensors").path
        let count = Int.max - 7
        let header = #"{"clips":{"dtype":"U8","shape":[\#(count),1,1,1,3],"data_offsets":[0,\#(count)]}}"#
        XCTAssertThrowsError(try ShardFile(path: path)) // missing file first
        var prefix = UInt64(header.utf8.count).littleEndian
        var data = Data(bytes: &prefix, count: 8)
        data.append(Data(header.utf8))
        try data.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ShardFile(path: path)) { error in
            XCTAssertTrue("\(error)".contains("not a valid dataset shard"), "\(error)")
        }
        // A header length prefix of terabytes.
        var big = UInt64(1 << 40).littleEndian
        try Data(bytes: &big, count: 8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ShardFile(path: path)) { error in
            XCTAssertTrue("\(error)".contains("header length 1099511627776"), "\(error)")
        }
    }

    /// Writes a dataset of two 2x3x4 clips and returns its directory.
    func smallDataset() throws -> URL {
        let dir = try TestUtils.makeTempDir(self)
        let clip = (0..<(2 * 3 * 4 * 3)).map { UInt8($0) }
        try ShardFile.write(path: dir.appendingPathComponent("shard-00000.safetensors").path,
                            frames: 2, width: 4, height: 3, clips: [clip, clip])
        return dir
    }

    func writeManifest(_ dir: URL, _ records: [ClipRecord]) throws {
        let text = try records.map { try DatasetManifest.jsonLine($0) }.joined(separator: "\n") + "\n"
        try text.write(to: dir.appendingPathComponent(DatasetManifest.manifestName), atomically: true, encoding: .utf8)
    }

    func record(shard: String = "shard-00000.safetensors", index: Int = 0, frames: Int = 2, width: Int = 4,
                height: Int = 3) -> ClipRecord {
        ClipRecord(shard: shard, index: index, source: "a.mp4", start: 0, fps: 8, frames: frames,
                   width: width, height: height, caption: "c")
    }

    func testLoaderReadsTheValidDataset() throws {
        let dir = try smallDataset()
        try writeManifest(dir, [record(index: 0), record(index: 1)])
        let batch = try DatasetLoader(directory: dir, seed: 3).nextBatch(2)
        XCTAssertEqual(batch.clips.count, 2 * 2 * 3 * 3 * 4)
        // Pixel 0 of frame 0, channel R is byte 0 of the clip: 0 / 127.5 - 1.
        XCTAssertEqual(batch.clips[0], -1, accuracy: 0)
    }

    /// A manifest whose record claims a bigger clip than its shard holds: the loader used to read
    /// past the end of the clip's bytes (out of bounds; a crash with bounds checks, silent garbage
    /// in -Ounchecked release builds). Found by FuzzDataset (its crash input, a record claiming
    /// width 5 for a shard of width 4, is Fuzz/Corpus/dataset/regress-loader-oob.bin).
    func testRecordLargerThanItsShardIsRefused() throws {
        let dir = try smallDataset()
        try writeManifest(dir, [record(frames: 9, width: 40, height: 30)])
        let loader = try DatasetLoader(directory: dir, seed: 0)
        XCTAssertThrowsError(try loader.nextBatch(1)) { error in
            XCTAssertTrue("\(error)".contains("but the manifest says 9x30x40"), "\(error)")
        }
    }

    /// Negative or absurd sizes used to trap in `[Float](repeating:count:)`; a shard name with
    /// `..` or `/` used to be opened (and merged) from outside the dataset directory. Found by
    /// review while writing FuzzDataset.
    func testHostileRecordsAreRefusedWhenTheManifestIsRead() throws {
        let dir = try smallDataset()
        let cases: [(ClipRecord, String)] = [
            (record(frames: -2), "is not positive"),
            (record(width: 0), "is not positive"),
            (record(frames: 1 << 40, width: 1 << 20, height: 1 << 20), "larger than 2147483648 bytes"),
            (record(frames: 100_000, width: 100_000, height: 100_000), "larger than 2147483648 bytes"),
            (record(index: -1), "clip index -1 is negative"),
            (record(shard: "../shard-00000.safetensors"), "is not a file name inside the dataset directory"),
            (record(shard: "/etc/passwd"), "is not a file name inside the dataset directory"),
            (record(shard: ".."), "is not a file name inside the dataset directory"),
        ]
        for (bad, message) in cases {
            try writeManifest(dir, [record(), bad])
            XCTAssertThrowsError(try DatasetLoader(directory: dir, seed: 0), "\(bad)") { error in
                XCTAssertTrue("\(error)".contains("record 2: ") && "\(error)".contains(message), "\(error)")
                XCTAssertTrue("\(error)".contains("manifest.jsonl"), "\(error)")
            }
            XCTAssertThrowsError(try DatasetMerger.merge([dir], into: dir.appendingPathComponent("merged")), "\(bad)")
        }
    }

    /// Two writers on one directory: the second is refused while the first holds the lock, and
    /// allowed once it is gone (the lock is an flock, released by the kernel on exit or close).
    func testSecondWriterOnADirectoryIsRefused() throws {
        let dir = try TestUtils.makeTempDir(self)
        var first: DatasetWriter? = try DatasetWriter(directory: dir, frames: 1, width: 2, height: 2)
        XCTAssertThrowsError(try DatasetWriter(directory: dir, frames: 1, width: 2, height: 2)) { error in
            XCTAssertTrue("\(error)".contains("another extract run is writing to this directory"), "\(error)")
        }
        XCTAssertNotNil(first)
        first = nil
        XCTAssertNoThrow(try DatasetWriter(directory: dir, frames: 1, width: 2, height: 2))
    }
}
