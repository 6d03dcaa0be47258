import Foundation
import XCTest

/// How the CLI answers a mistyped command line: the unknown option or command is named, with the
/// nearest real one, and the exit status is 2; the same short flags work everywhere.
final class UsageTests: XCTestCase {
    func testAMisspeltOptionOfTheDefaultCommandIsNamedWithASuggestion() throws {
        let r = try CLI.run(["--promt", "a sunset", "-o", "/tmp/never-written.mp4"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("Unknown option '--promt'") && r.stderr.contains("Did you mean '--prompt'?"), r.stderr)
        XCTAssertFalse(r.stderr.contains("Missing expected argument"), r.stderr)
    }

    func testAMisspeltCommandIsNamedWithASuggestion() throws {
        for (typo, meant) in [("decod", "decode"), ("rendr", "render"), ("distil", "distill"), ("extrct", "extract")] {
            let r = try CLI.run([typo, "a.mp4"])
            XCTAssertEqual(r.status, 2, typo)
            XCTAssertTrue(r.stderr.contains("Unknown command '\(typo)'. Did you mean '\(meant)'?"), r.stderr)
        }
        let r = try CLI.run(["zzzzzzzz"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("Unknown command 'zzzzzzzz'.") && !r.stderr.contains("Did you mean"), r.stderr)
    }

    func testMissingPromptOrOutputIsAUsageError() throws {
        var r = try CLI.run(["-o", "/tmp/never-written.mp4"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("Missing expected argument '--prompt <prompt>'"), r.stderr)
        r = try CLI.run(["-p", "a sunset"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("Missing expected argument '--output <output>'"), r.stderr)
    }

    func testQuietIsDashQEverywhere() throws {
        // Each command parses -q (the failure, if any, is about the missing input, not the flag).
        for command in [["encode", "--size", "8x8", "-i", "/nonexistent.rgb", "-o", "/tmp/x.mp4"],
                        ["decode", "/nonexistent.mp4", "-o", "/tmp/x.rgb"],
                        ["eval", "/nonexistent.mp4", "--reference", "/nonexistent2.mp4"],
                        ["extract", "/nonexistent", "-o", "/tmp/t2v-never"]] {
            let r = try CLI.run(command + ["-q"])
            XCTAssertFalse(r.stderr.contains("Unknown option '-q'"), "\(command[0]): \(r.stderr)")
            XCTAssertNotEqual(r.status, 0, command[0])
        }
    }

    /// bash itself completes `t2v-render --pr<TAB>` and `t2v-render dec<TAB>` with the script
    /// `completion bash` prints.
    func testBashCompletesTheDefaultCommandsOptionsAndTheSubcommands() throws {
        let r = try CLI.run(["completion", "bash"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("t2v-completion-\(UUID().uuidString).bash")
        try r.stdout.write(to: script)
        defer { try? FileManager.default.removeItem(at: script) }
        func complete(_ word: String) throws -> [String] {
            let line = "t2v-render \(word)"
            let program = "source \(script.path); COMP_WORDS=(t2v-render \(word)); COMP_CWORD=1; COMP_LINE='\(line)'; "
                + "COMP_POINT=${#COMP_LINE}; _t2v-render t2v-render \(word) t2v-render; echo \"${COMPREPLY[@]}\""
            let (status, out) = try RenderCLITests.sh(["bash", "-c", program])
            XCTAssertEqual(status, 0)
            return out.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        }
        XCTAssertEqual(Set(try complete("--pr")), ["--precision", "--prompt", "--prompts"])
        XCTAssertTrue(try complete("--").contains("--guidance"))
        XCTAssertEqual(try complete("dec"), ["decode"])
        XCTAssertEqual(try CLI.run(["completion", "powershell"]).status, 2)
    }
}
