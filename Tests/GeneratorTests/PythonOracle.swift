import Foundation
import XCTest

/// Runs the package's Python scripts (the PyTorch twin's checks) for the tests.
enum PythonOracle {
    /// The package root (this file is Tests/GeneratorTests/PythonOracle.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `python3 ARGS`, with stdout and stderr together.
    static func run(_ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3"] + args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Skips the calling test, naming `check`, where PyTorch (and `modules`) cannot be imported.
    static func requireTorch(for check: String, modules: String = "torch, safetensors") throws {
        let probe = try? run(["-c", "import \(modules)"])
        if probe?.status != 0 {
            throw XCTSkip("PyTorch is not installed: skipping \(check)")
        }
    }
}
