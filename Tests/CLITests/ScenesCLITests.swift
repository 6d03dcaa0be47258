import Foundation
import XCTest

/// Runs the built `t2v-scenes` binary (a dependency of this test target, built beside it) and
/// other tools (`ffprobe`).
enum ScenesCLI {
    /// Path to the `t2v-scenes` executable under test.
    static var binary: URL { CLI.productsDirectory.appendingPathComponent("t2v-scenes") }

    /// Runs `t2v-scenes args`; returns exit status, stdout and stderr.
    static func run(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runTool(binary, args)
    }

    /// Runs `tool args` (a path or a name looked up on PATH by /usr/bin/env).
    static func runTool(_ tool: URL, _ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = tool
        process.arguments = args
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let errBox = DataBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errBox.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: errBox.data, as: UTF8.self))
    }

    /// `ffprobe` on PATH.
    static func ffprobe(_ args: [String]) throws -> String {
        let r = try runTool(URL(fileURLWithPath: "/usr/bin/env"), ["ffprobe", "-v", "error"] + args)
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    final class DataBox: @unchecked Sendable { var data = Data() }

    /// `t2v-scenes render` of 16-frame 32x32 clips at 8 fps into `dir/corpus` (with `args`: families,
    /// clips, split, captions), then `t2v-render extract` of them into `dir/dataset` at their size;
    /// returns the dataset's path. Throws what either command printed when it fails.
    static func renderAndExtract(in dir: URL, _ args: [String], corpus: String = "corpus", dataset: String = "dataset") throws -> String {
        let corpusPath = dir.appendingPathComponent(corpus).path, data = dir.appendingPathComponent(dataset).path
        let r = try run(["render", "-o", corpusPath, "--size", "32", "--frames", "16", "--fps", "8", "--quiet"] + args)
        guard r.status == 0 else { throw CommandFailure(message: "t2v-scenes render: \(r.stderr)") }
        let extract = try CLI.run(["extract", corpusPath, "-o", data, "--frames", "16", "--fps", "8", "--size", "32x32", "--quiet"])
        guard extract.status == 0 else { throw CommandFailure(message: "t2v-render extract: \(extract.stderr)") }
        return data
    }

    struct CommandFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}

/// The `t2v-scenes` tool end to end: files, manifest, resuming, captions, sheet, errors.
final class ScenesCLITests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("scenes-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    private struct CaptionEntry: Decodable {
        var id: String
        var number: Int
        var name: String
        var training: [String]
        var heldout: [String]
    }

    private func captionTable() throws -> [String: CaptionEntry] {
        let r = try ScenesCLI.run(["captions", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let entries = try JSONDecoder().decode([CaptionEntry].self, from: Data(r.stdout.utf8))
        return Dictionary(uniqueKeysWithValues: entries.map { ($0.id, $0) })
    }

    private func manifestRows(_ out: URL) throws -> [[String]] {
        let text = try String(contentsOf: out.appendingPathComponent("manifest.csv"), encoding: .utf8)
        var lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.removeFirst(), "path,caption,family,seed,split")
        // Captions in the tables hold no quotes; a comma would be quoted.
        return lines.map { line in
            if let q = line.firstIndex(of: "\"") {
                let rest = line[line.index(after: q)...]
                let close = rest.firstIndex(of: "\"")!
                let head = line[..<q].dropLast().split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                let tail = rest[rest.index(after: close)...].dropFirst().split(separator: ",").map(String.init)
                return head + [String(rest[..<close])] + tail
            }
            return line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
    }

    func testRenderWritesVideosSidecarsAndManifest() throws {
        let out = dir.appendingPathComponent("corpus")
        let r = try ScenesCLI.run(["render", "-o", out.path, "--per-family", "2", "--size", "32", "--frames", "6",
                                   "--fps", "8", "--families", "ball,clouds", "car"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("rendered 6 clips"), r.stdout)
        XCTAssertEqual(r.stderr, "", "stderr is not a terminal: no progress output")
        let table = try captionTable()
        let rows = try manifestRows(out)
        XCTAssertEqual(rows.map { $0[0] }, ["ball-0.mp4", "ball-1.mp4", "clouds-0.mp4", "clouds-1.mp4", "car-0.mp4", "car-1.mp4"])
        for row in rows {
            XCTAssertEqual(row.count, 5, "\(row)")
            let video = out.appendingPathComponent(row[0])
            let sidecar = try String(contentsOf: video.deletingPathExtension().appendingPathExtension("txt"), encoding: .utf8)
            XCTAssertEqual(sidecar.trimmingCharacters(in: .newlines), row[1])
            XCTAssertTrue(table[row[2]]!.training.contains(row[1]), "'\(row[1])' is not a training caption of \(row[2])")
            XCTAssertEqual(row[4], "train")
            let probe = try ScenesCLI.ffprobe(["-count_frames", "-select_streams", "v:0", "-show_entries",
                                               "stream=codec_name,width,height,nb_read_frames,r_frame_rate", "-of", "csv=p=0", video.path])
            XCTAssertEqual(probe, "h264,32,32,8/1,6", row[0])
        }
        let hidden = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(hidden, [], "no temporary files are left behind")
    }

    func testRenderResumesAndMergesTheManifest() throws {
        let out = dir.appendingPathComponent("corpus")
        let args = ["render", "-o", out.path, "--size", "16", "--frames", "3", "--families", "snow"]
        XCTAssertEqual(try ScenesCLI.run(args + ["--per-family", "1"]).status, 0)
        let first = out.appendingPathComponent("snow-0.mp4")
        let stamp = try FileManager.default.attributesOfItem(atPath: first.path)[.modificationDate] as! Date
        Thread.sleep(forTimeInterval: 1.1)
        let again = try ScenesCLI.run(args + ["--per-family", "2"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("rendered 1 clips, skipped 1"), again.stdout)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: first.path)[.modificationDate] as? Date, stamp,
                       "an existing clip is not rewritten")
        let held = try ScenesCLI.run(args + ["--per-family", "1", "--split", "heldout"])
        XCTAssertEqual(held.status, 0, held.stderr)
        let rows = try manifestRows(out)
        XCTAssertEqual(rows.map { $0[0] }, ["snow-0.mp4", "snow-1.mp4", "snow-1000000000.mp4"])
        XCTAssertEqual(rows.map { $0[4] }, ["train", "train", "heldout"])
        let table = try captionTable()
        XCTAssertTrue(table["snow"]!.heldout.contains(rows[2][1]), "held-out clips carry a held-out paraphrase: \(rows[2][1])")
    }

    func testCaptionsListsAllFamiliesWithDisjointParaphrases() throws {
        let table = try captionTable()
        XCTAssertEqual(table.count, 14)
        XCTAssertEqual(Set(table.values.map(\.number)), Set(1...14))
        for entry in table.values {
            XCTAssertGreaterThanOrEqual(entry.training.count, 10, entry.id)
            XCTAssertGreaterThanOrEqual(entry.heldout.count, 4, entry.id)
            XCTAssertTrue(Set(entry.training).isDisjoint(with: entry.heldout), entry.id)
        }
        let text = try ScenesCLI.run(["captions"])
        XCTAssertEqual(text.status, 0)
        XCTAssertTrue(text.stdout.contains("1. city: cyberpunk city at night"), text.stdout)
        XCTAssertTrue(text.stdout.contains("a neon-lit metropolis after dark"), text.stdout)
    }

    func testSheetWritesAPNGWithOneRowPerFamily() throws {
        let png = dir.appendingPathComponent("families.png")
        let r = try ScenesCLI.run(["sheet", "-o", png.path, "--size", "20", "--columns", "3", "--frames", "5"])
        XCTAssertEqual(r.status, 0, r.stderr)
        // 3 tiles of 20 plus 4 gutters of 2 across; 14 rows of 20 plus 15 gutters down.
        let probe = try ScenesCLI.ffprobe(["-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", png.path])
        XCTAssertEqual(probe, "png,68,310")
        let ppm = dir.appendingPathComponent("two.ppm")
        XCTAssertEqual(try ScenesCLI.run(["sheet", "-o", ppm.path, "--size", "8", "--columns", "2", "--families", "ball", "stars"]).status, 0)
        let data = try Data(contentsOf: ppm)
        let header = "P6\n22 22\n255\n"
        XCTAssertEqual(String(decoding: data.prefix(header.utf8.count), as: UTF8.self), header)
        XCTAssertEqual(data.count, header.utf8.count + 22 * 22 * 3)
    }

    func testBadInputGivesClearErrors() throws {
        let family = try ScenesCLI.run(["render", "-o", dir.path, "--families", "dragon"])
        XCTAssertEqual(family.status, 2, family.stderr)
        XCTAssertTrue(family.stderr.contains("unknown family 'dragon'") && family.stderr.contains("valid ids"), family.stderr)
        let odd = try ScenesCLI.run(["render", "-o", dir.path, "--size", "33"])
        XCTAssertEqual(odd.status, 2, odd.stderr)
        XCTAssertTrue(odd.stderr.contains("--size must be an even number"), odd.stderr)
        let split = try ScenesCLI.run(["render", "-o", dir.path, "--split", "test"])
        XCTAssertEqual(split.status, 2, split.stderr)
        let image = try ScenesCLI.run(["sheet", "-o", dir.appendingPathComponent("x.jpg").path])
        XCTAssertEqual(image.status, 2, image.stderr)
        XCTAssertTrue(image.stderr.contains("unsupported image type '.jpg'"), image.stderr)
        // The output "folder" is an existing regular file: a runtime failure naming it.
        let file = dir.appendingPathComponent("plain-file")
        try Data("x".utf8).write(to: file)
        let blocked = try ScenesCLI.run(["render", "-o", file.path, "--size", "16", "--frames", "2", "--families", "ball", "--per-family", "1"])
        XCTAssertEqual(blocked.status, 1, blocked.stderr)
        XCTAssertTrue(blocked.stderr.contains(file.path), blocked.stderr)
    }

    func testTrackJSONNamesTheCaptionsAttributeAndTheJudgesRead() throws {
        let data = try ScenesCLI.renderAndExtract(in: dir, ["--families", "ball,car", "--per-family", "4", "--captions", "training"])
        let r = try ScenesCLI.run(["track", data, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try r.stdout.split(separator: "\n").map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(lines.count, 8)
        for line in lines {
            let family = try XCTUnwrap(line["family"] as? String), caption = try XCTUnwrap(line["caption"] as? String)
            let named = line["named"] as? String, read = line["read"] as? String
            XCTAssertEqual(try XCTUnwrap(line["detections"] as? [Any]).count, 16)
            // The named value is a word of the caption (a colour for the ball, a direction for the car), and on
            // real clips the judge reads what the caption names.
            if let named {
                XCTAssertTrue(caption.contains(named), "\(family): '\(named)' not in '\(caption)'")
                XCTAssertTrue(family == "ball" ? ["red", "green", "blue", "yellow"].contains(named) : ["left", "right"].contains(named))
                XCTAssertEqual(read, named, "\(family): \(caption)")
            }
        }
        XCTAssertTrue(lines.contains { ($0["family"] as? String) == "ball" && $0["named"] is String })
    }

    func testHelpListsSubcommands() throws {
        let r = try ScenesCLI.run(["--help"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for sub in ["render", "sheet", "captions"] { XCTAssertTrue(r.stdout.contains(sub), r.stdout) }
        let render = try ScenesCLI.run(["render", "--help"])
        for flag in ["--per-family", "--split", "--size", "--frames", "--fps", "--seed", "--families"] {
            XCTAssertTrue(render.stdout.contains(flag), "render --help lacks \(flag)")
        }
    }
}
