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
        let result = try CLI.run(["--no-such-option"])
        XCTAssertEqual(result.status, 2, "usage errors exit 2: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("no-such-option"), result.stderr)
    }
}
