import Foundation
import XCTest

/// This package as another package's dependency, as a Swift developer adds it: a throwaway
/// package declares `.package(url: <a git URL of this repository>, from: "0.1.0")`, builds
/// against the FrameIO, Generator and Renderer products (SwiftPM refuses products whose targets
/// use unsafe build flags from a versioned dependency) and runs a few lines of each.
/// A full build of the libraries: runs where T2V_SLOW_TESTS=1 (CI sets it).
final class PackageDependencyTests: XCTestCase {
    private static let root = CLI.checkout

    @discardableResult
    private func run(_ args: [String], in dir: URL) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.currentDirectoryURL = dir
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testAThrowawayPackageBuildsAndRunsAgainstATaggedCheckout() throws {
        guard ProcessInfo.processInfo.environment["T2V_SLOW_TESTS"] == "1" else {
            throw XCTSkip("builds the libraries again from a git URL (minutes): runs with T2V_SLOW_TESTS=1 (CI sets it)")
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("t2v-dependency-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)

        // A git repository holding this checkout's files (committed or not) and a 0.1.0 tag.
        let repo = work.appendingPathComponent("t2v-render")
        var r = try run(["git", "clone", "-q", "--no-hardlinks", Self.root.path, repo.path], in: work)
        XCTAssertEqual(r.0, 0, r.1)
        r = try run(["sh", "-c", "cd \(Self.root.path) && git ls-files -co --exclude-standard -z | xargs -0 -I{} cp --parents {} \(repo.path)/ 2>/dev/null; cd \(repo.path) && git add -A && git -c user.name=t -c user.email=t@t commit -qm snapshot --allow-empty && git tag 0.1.0"], in: work)
        XCTAssertEqual(r.0, 0, r.1)

        let app = work.appendingPathComponent("App")
        try FileManager.default.createDirectory(at: app.appendingPathComponent("Sources/App"), withIntermediateDirectories: true)
        try """
        // swift-tools-version:6.0
        import PackageDescription
        let package = Package(
            name: "App",
            dependencies: [.package(url: "file://\(repo.path)", from: "0.1.0")],
            targets: [
                .executableTarget(name: "App", dependencies: [
                    .product(name: "FrameIO", package: "t2v-render"),
                    .product(name: "Generator", package: "t2v-render"),
                    .product(name: "Renderer", package: "t2v-render"),
                ]),
                .executableTarget(name: "ReadmeExample", dependencies: [
                    .product(name: "FrameIO", package: "t2v-render"),
                    .product(name: "Generator", package: "t2v-render"),
                    .product(name: "Renderer", package: "t2v-render"),
                ]),
            ]
        )
        """.write(to: app.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        try """
        import Foundation
        import FrameIO
        import Generator
        import Renderer

        // Generator: a seeded matrix product and a safetensors round trip.
        var rng = Philox(seed: 1)
        let a = Tensor.randn([4, 8], using: &rng), b = Tensor.randn([8, 3], using: &rng)
        let c = Tensor.matmul(a, b)
        let file = URL(fileURLWithPath: CommandLine.arguments[1]).appendingPathComponent("c.safetensors")
        try SafeTensors.write([.init(name: "c", shape: c.shape, floats: c.toArray())], to: file)
        let back = try SafeTensors(contentsOf: file).floats("c")
        precondition(back == c.toArray(), "safetensors round trip")

        // FrameIO: eight frames into an MP4 and back.
        let video = URL(fileURLWithPath: CommandLine.arguments[1]).appendingPathComponent("v.mp4").path
        var options = VideoWriter.Options()
        options.frameRate = Rational(8, 1)
        _ = try withVideoWriter(path: video, width: 32, height: 32, options: options) { writer in
            for i in 0..<8 { try writer.write(RGBFrame(width: 32, height: 32, packed: [UInt8](repeating: UInt8(30 * i), count: 32 * 32 * 3))) }
        }
        let reader = try VideoReader(path: video)
        var frames = 0
        while try reader.nextFrame() != nil { frames += 1 }

        // Renderer: a prompts file checked line by line.
        let batch = try PromptBatch(data: Data("{\\"prompt\\": \\"a sunset\\", \\"seed\\": 2}\\n".utf8), name: "p.jsonl", defaultExtension: "mp4")
        print("ok \\(c.shape) \\(frames) frames \\(batch.jobs[0].output)")
        """.write(to: app.appendingPathComponent("Sources/App/main.swift"), atomically: true, encoding: .utf8)
        // The README's library example, as printed there, must compile too.
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let blocks = readme.components(separatedBy: "```swift\n").dropFirst().map { $0.components(separatedBy: "\n```")[0] }
        let example = try XCTUnwrap(blocks.first { $0.contains("VideoPipeline.load(") && $0.contains("withVideoWriter") },
                                    "README.md has no library example")
        let renderer = try XCTUnwrap(blocks.first { $0.contains("VideoRenderer(") }, "README.md has no VideoRenderer example")
        try FileManager.default.createDirectory(at: app.appendingPathComponent("Sources/ReadmeExample"), withIntermediateDirectories: true)
        try (example + "\n\n" + renderer + "\n_ = rendered\n").write(to: app.appendingPathComponent("Sources/ReadmeExample/main.swift"),
                                                                     atomically: true, encoding: .utf8)
        r = try run(["swift", "build", "--package-path", app.path], in: app)
        XCTAssertEqual(r.0, 0, "the throwaway package does not build:\n\(r.1.suffix(4000))")
        guard r.0 == 0 else { return }
        r = try run(["swift", "run", "--skip-build", "--package-path", app.path, "App", work.path], in: app)
        XCTAssertEqual(r.0, 0, r.1)
        XCTAssertTrue(r.1.contains("ok [4, 3] 8 frames 000001.mp4"), r.1)
    }
}
