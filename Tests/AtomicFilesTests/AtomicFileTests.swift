import AtomicFiles
import Foundation
import XCTest

final class AtomicFileTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-file-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func names() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    func testWriteReplacesTheFileWholeAndLeavesNoTemporaryFile() throws {
        let path = folder.appendingPathComponent("a.bin").path
        try AtomicFile.write(Data("old".utf8), to: path)
        try AtomicFile.write(Data("new content".utf8), to: path)
        XCTAssertEqual(FileManager.default.contents(atPath: path), Data("new content".utf8))
        XCTAssertEqual(try names(), ["a.bin"])
    }

    func testAFailingWriterKeepsTheOldFileAndItsErrorPassesUnchanged() throws {
        struct Stop: Error, Equatable {}
        let path = folder.appendingPathComponent("keep.txt").path
        try AtomicFile.write(Data("old".utf8), to: path)
        XCTAssertThrowsError(try AtomicFile.write(to: path) { handle in
            try handle.write(contentsOf: Data("partial".utf8))
            throw Stop()
        }) { XCTAssertEqual($0 as? Stop, Stop()) }
        XCTAssertEqual(FileManager.default.contents(atPath: path), Data("old".utf8))
        XCTAssertEqual(try names(), ["keep.txt"])
    }

    func testAMissingFolderNamesTheTarget() throws {
        let path = folder.appendingPathComponent("missing/x.txt").path
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: path)) { error in
            let e = error as? AtomicFileError
            XCTAssertEqual(e?.path, path)
            XCTAssertTrue("\(error)".hasPrefix("cannot write \(path): cannot create a file in"), "\(error)")
        }
    }

    func testCommitMovesAStreamedFileAndRemovesItWhenItCannot() throws {
        let path = folder.appendingPathComponent("video.mp4").path
        let temp = AtomicFile.temporaryPath(for: path)
        XCTAssertEqual(URL(fileURLWithPath: temp).deletingLastPathComponent().path, folder.path)
        XCTAssertTrue(FileManager.default.createFile(atPath: temp, contents: Data("frames".utf8)))
        XCTAssertEqual(try names(), [URL(fileURLWithPath: temp).lastPathComponent])
        try AtomicFile.commit(temp, to: path)
        XCTAssertEqual(try names(), ["video.mp4"])
        XCTAssertEqual(FileManager.default.contents(atPath: path), Data("frames".utf8))

        // A folder in the way of the rename: the error names the target; the temporary file goes.
        let blocked = folder.appendingPathComponent("dir").path
        try FileManager.default.createDirectory(atPath: blocked + "/inside", withIntermediateDirectories: true)
        let temp2 = AtomicFile.temporaryPath(for: blocked)
        XCTAssertTrue(FileManager.default.createFile(atPath: temp2, contents: Data("x".utf8)))
        XCTAssertThrowsError(try AtomicFile.commit(temp2, to: blocked)) { error in
            XCTAssertEqual((error as? AtomicFileError)?.path, blocked)
            XCTAssertTrue("\(error)".contains("cannot rename the finished file into place"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: temp2))
    }

    func testTemporaryNamesAreRecognisedAndOthersAreNot() {
        let temp = URL(fileURLWithPath: AtomicFile.temporaryPath(for: "/data/out/000002.mp4")).lastPathComponent
        XCTAssertTrue(temp.hasPrefix(".000002.mp4.t2v-") && temp.hasSuffix(".tmp"), temp)
        XCTAssertEqual(AtomicFile.target(ofTemporary: temp), "000002.mp4")
        XCTAssertEqual(AtomicFile.target(ofTemporary: ".a.t2v-b.t2v-0123abcd.tmp"), "a.t2v-b")
        XCTAssertNotEqual(AtomicFile.temporaryPath(for: "/x/y"), AtomicFile.temporaryPath(for: "/x/y"))
        for name in ["000002.mp4", ".hidden", ".x.t2v-0123abcd.tmpx", "x.t2v-0123abcd.tmp", ".x.t2v-0123abc.tmp",
                     ".x.t2v-0123abcz.tmp", "..t2v-0123abcd.tmp"] {
            XCTAssertNil(AtomicFile.target(ofTemporary: name), name)
        }
    }
}
