import Foundation
import XCTest

/// Runs the built `t2v-render` binary (the executable target is a dependency of this test target,
/// so it is built first and sits beside the test bundle).
enum CLI {
    /// The directory holding the built products.
    static var productsDirectory: URL {
        #if os(macOS)
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        fatalError("couldn't find the products directory")
        #else
        return Bundle.main.bundleURL
        #endif
    }

    /// The checkout the tests were built from (this file is Tests/CLITests/Utils.swift).
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The shipped default model (`weights/t2v-default.safetensors` of this checkout), or a skip.
    static func shippedModel() throws -> String {
        let path = checkout.appendingPathComponent("weights/t2v-default.safetensors").path
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("the shipped model \(path) is not in this checkout") }
        return path
    }

    /// Path to the `t2v-render` executable under test.
    static var binary: URL { productsDirectory.appendingPathComponent("t2v-render") }

    /// Runs `t2v-render args`; returns exit status, stdout and stderr.
    @discardableResult
    static func run(_ args: [String], input: Data? = nil, environment: [String: String]? = nil) throws -> (status: Int32, stdout: Data, stderr: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = args
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe(), inp = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input == nil ? FileHandle.nullDevice : inp
        try process.run()
        if let input {
            DispatchQueue.global().async {
                inp.fileHandleForWriting.write(input)
                try? inp.fileHandleForWriting.close()
            }
        }
        var stderrData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            stderrData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return (process.terminationStatus, stdoutData, String(decoding: stderrData, as: UTF8.self))
    }
}

/// CLI help output: the tool lists its subcommands and exits 0.
final class CLIHelpTests: XCTestCase {
    func testHelpListsTool() throws {
        let result = try CLI.run(["--help"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let text = String(decoding: result.stdout, as: UTF8.self)
        XCTAssertTrue(text.contains("t2v-render"), text)
    }

    func testUnknownOptionIsUsageError() throws {
        let result = try CLI.run(["probe", "x.mp4", "--no-such-option"])
        XCTAssertEqual(result.status, 2, "usage errors exit 2: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("no-such-option"), result.stderr)
    }
}

/// A class-wide fixture of the CLI tests: a temporary folder with short clips made by the ffmpeg
/// CLI from lavfi sources (`clips/cN.mp4`, each with its caption in `clips/cN.txt`), then
/// `t2v-render` commands run once on it (extract, train, ...). The first failure is kept, and every
/// test reports it through `check()`: a skip where the text encoder is not installed, a failure
/// otherwise.
final class CLIFixture {
    let root: URL
    private(set) var setupError: String?

    /// - Parameters:
    ///   - name: prefix of the temporary folder.
    ///   - clips: the lavfi source (e.g. `testsrc2`) and the caption of each clip.
    ///   - size: the clips' side in pixels; `seconds`: their length at 8 fps.
    ///   - commands: `t2v-render` argument lists run in order (given `path(_:)` for file names).
    init(name: String, clips: [(source: String, caption: String)], size: Int, seconds: Int,
         commands: (CLIFixture) -> [[String]]) {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: root.appendingPathComponent("clips"), withIntermediateDirectories: true)
            for (i, clip) in clips.enumerated() {
                let (status, _) = try RenderCLITests.sh(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                                                         "\(clip.source)=size=\(size)x\(size):rate=8", "-t", "\(seconds)",
                                                         "-pix_fmt", "yuv420p", path("clips/c\(i).mp4")])
                guard status == 0 else { setupError = "ffmpeg could not make clips/c\(i).mp4"; return }
                try clip.caption.write(toFile: path("clips/c\(i).txt"), atomically: true, encoding: .utf8)
            }
            for args in commands(self) {
                let r = try CLI.run(args)
                guard r.status == 0 else { setupError = "\(args[0]): \(r.stderr)"; return }
            }
        } catch {
            setupError = "\(error)"
        }
    }

    /// A path inside the fixture's folder.
    func path(_ name: String) -> String { root.appendingPathComponent(name).path }

    /// Throws a skip when the setup failed for want of the text encoder; fails the test on any
    /// other setup failure.
    func check() throws {
        guard let e = setupError else { return }
        if e.contains("text encoder") || e.contains("all-MiniLM") {
            throw XCTSkip("text encoder files are not installed (run scripts/setup.sh): \(e)")
        }
        XCTFail("setup failed: \(e)")
    }

    /// Deletes the folder.
    func remove() { try? FileManager.default.removeItem(at: root) }
}
