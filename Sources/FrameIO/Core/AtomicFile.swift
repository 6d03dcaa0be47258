import Foundation

/// Writes files so that the target is either the old file or the complete new one: data goes to a
/// hidden temporary file in the same directory, is fsync'ed, then renamed over the target.
public enum AtomicFile {
    /// The temporary path used for `path`: `.NAME.tmp-PID-RANDOM` beside it (for writers that
    /// stream into it themselves and rename it onto `path` when complete).
    public static func temporaryPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let name = ".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        return url.deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Calls `body` with a handle to a temporary file, then fsyncs and renames it onto `path`.
    /// On any error the temporary file is removed and `path` is untouched. Throws
    /// `FrameIOError.unwritable` naming the file when it cannot be created or written.
    public static func write(to path: String, _ body: (FileHandle) throws -> Void) throws {
        let tmp = temporaryPath(for: path)
        guard FileManager.default.createFile(atPath: tmp, contents: nil) else {
            throw FrameIOError.unwritable(path: path, reason: "cannot create a file in \(URL(fileURLWithPath: path).deletingLastPathComponent().path): \(String(cString: strerror(errno)))")
        }
        do {
            guard let handle = FileHandle(forWritingAtPath: tmp) else {
                throw FrameIOError.unwritable(path: path, reason: "cannot open \(tmp)")
            }
            defer { try? handle.close() }
            do {
                try body(handle)
                try handle.synchronize()
            } catch let error as FrameIOError {
                throw error
            } catch {
                throw FrameIOError.unwritable(path: path, reason: error.localizedDescription)
            }
            guard rename(tmp, path) == 0 else {
                throw FrameIOError.unwritable(path: path, reason: "rename failed: \(String(cString: strerror(errno)))")
            }
        } catch {
            unlink(tmp)
            throw error
        }
    }

    /// Writes `data` atomically to `path`.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { try $0.write(contentsOf: data) }
    }
}
