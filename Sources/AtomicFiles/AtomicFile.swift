import Foundation

/// A file that could not be written atomically: the message names the target and the cause.
public struct AtomicFileError: LocalizedError, CustomStringConvertible, Equatable {
    /// The file the caller asked for (never the temporary name).
    public let path: String
    /// What failed, from the operating system's error where there is one.
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var errorDescription: String? { "cannot write \(path): \(reason)" }
    public var description: String { errorDescription! }
}

/// Every file the project writes appears whole or not at all: its bytes go to a hidden temporary
/// file beside the target (`.NAME.t2v-XXXXXXXX.tmp`, same folder, so the rename never crosses a
/// file system), which is fsync'ed, renamed onto the target, and the folder fsync'ed so the
/// rename survives a crash. A reader sees the old file or the complete new one.
///
/// Writers that produce their bytes themselves (FFmpeg's muxers, the safetensors stream writer)
/// take `temporaryPath(for:)`, write there, and call `commit(_:to:)`; the rest call `write`.
public enum AtomicFile {
    private static let marker = ".t2v-"
    private static let suffix = ".tmp"

    /// A fresh temporary path beside `path`: `.NAME.t2v-XXXXXXXX.tmp` (8 random hex digits).
    public static func temporaryPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let token = String(format: "%08x", UInt32.random(in: 0...UInt32.max))
        let name = "." + url.lastPathComponent + marker + token + suffix
        return url.deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// The target's file name when `name` (a file name, no folder) is one of `temporaryPath`'s
    /// temporary names; nil otherwise. Lets a resumed job remove what an interrupted one left.
    public static func target(ofTemporary name: String) -> String? {
        guard name.hasPrefix("."), name.hasSuffix(suffix), let range = name.range(of: marker, options: .backwards) else { return nil }
        let token = name[range.upperBound..<name.index(name.endIndex, offsetBy: -suffix.count)]
        guard token.count == 8, token.allSatisfy(\.isHexDigit) else { return nil }
        let target = name[name.index(after: name.startIndex)..<range.lowerBound]
        return target.isEmpty ? nil : String(target)
    }

    /// Flushes `temporary` to disk, renames it onto `path` and makes the rename durable. On
    /// failure `temporary` is removed and `path` keeps its old content (or stays absent).
    public static func commit(_ temporary: String, to path: String) throws {
        let fd = open(temporary, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw AtomicFileError(path: path, reason: "cannot reopen the finished temporary file \(temporary): \(reason)")
        }
        let synced = fsync(fd) == 0
        let syncError = String(cString: strerror(errno))
        close(fd)
        guard synced else {
            unlink(temporary)
            throw AtomicFileError(path: path, reason: "fsync failed: \(syncError) (disk full?)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw AtomicFileError(path: path, reason: "cannot rename the finished file into place: \(reason)")
        }
        syncFolder(of: path)
    }

    /// Calls `body` with a handle to a fresh temporary file, then commits it onto `path`. On any
    /// error the temporary file is removed and `path` is untouched; the file system's failures
    /// throw `AtomicFileError`, errors thrown by `body` itself are rethrown unchanged.
    public static func write(to path: String, _ body: (FileHandle) throws -> Void) throws {
        let tmp = temporaryPath(for: path)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            throw AtomicFileError(path: path, reason: "cannot create a file in \(folder): \(String(cString: strerror(errno)))")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            try body(handle)
            try handle.close()
        } catch {
            try? handle.close()
            unlink(tmp)
            // The file system's own failures name the target; the caller's errors pass unchanged.
            let ns = error as NSError
            guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { throw error }
            throw AtomicFileError(path: path, reason: "writing failed: \(error.localizedDescription) (disk full?)")
        }
        try commit(tmp, to: path)
    }

    /// Writes `data` atomically to `path`.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { try $0.write(contentsOf: data) }
    }

    /// fsyncs the folder holding `path`, so a rename into it is on disk (best effort: some file
    /// systems refuse to open folders for syncing, and the rename itself has already happened).
    public static func syncFolder(of path: String) {
        let dirfd = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            fsync(dirfd)
            close(dirfd)
        }
    }
}
