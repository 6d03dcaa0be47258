import AtomicFiles
import Foundation

/// Where a writer's bytes go, and how they reach the final path atomically.
///
/// - `-`: stdout (`pipe:1`), non-seekable, written as produced.
/// - an existing character device or FIFO (e.g. `/dev/full`, `/dev/stdout`): written directly.
/// - a regular file: a hidden temp file beside the target (`AtomicFile.temporaryPath`), committed
///   onto the target by `commit()` (fsync, rename); the target is not opened before that.
/// - a PNG sequence pattern (`dir/frames_%04d.png`): a hidden temp directory in `dir`
///   (`.t2v-png-<random>.tmp`); `commit()` moves each image into `dir` and removes it.
struct OutputTarget {
    enum Kind { case stdout, device, file, sequence }

    /// The path as the user gave it.
    let path: String
    let kind: Kind
    /// What FFmpeg opens (`pipe:1`, `file:...`) or, for a sequence, the pattern inside the temp dir.
    let ffmpegURL: String
    /// Temp file or directory to rename or empty; nil for stdout and devices.
    let tempPath: String?

    /// Resolves `path`, checking the directory exists and is writable (clear errors, before FFmpeg).
    init(path: String, sequence: Bool) throws {
        self.path = path
        if path == "-" {
            guard !sequence else {
                throw FrameIOError.unsupported("a PNG sequence cannot go to stdout ('-'); give a pattern such as frames_%04d.png")
            }
            kind = .stdout
            ffmpegURL = "pipe:1"
            tempPath = nil
            return
        }
        let fm = FileManager.default
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: dir, isDirectory: &isDir) else {
            throw FrameIOError.unwritable(path: path, reason: "directory \(dir) does not exist; create it first")
        }
        guard isDir.boolValue else {
            throw FrameIOError.unwritable(path: path, reason: "\(dir) is not a directory")
        }
        if sequence {
            let random = String(UUID().uuidString.prefix(8))
            guard Self.hasFrameNumber(name) else {
                throw FrameIOError.invalidArgument(
                    "\(path): a PNG sequence needs a frame-number pattern in the file name, e.g. frames_%04d.png")
            }
            guard access(dir, W_OK) == 0 else {
                throw FrameIOError.unwritable(path: path, reason: "no permission to write in \(dir)")
            }
            let temp = (dir as NSString).appendingPathComponent(".t2v-png-\(random).tmp")
            do {
                try fm.createDirectory(atPath: temp, withIntermediateDirectories: false)
            } catch {
                throw FrameIOError.unwritable(path: path, reason: "cannot create a temp directory in \(dir): \(error.localizedDescription)")
            }
            kind = .sequence
            tempPath = temp
            // The image2 muxer expands %d in the whole path: escape any % in the directory part.
            ffmpegURL = "file:" + temp.replacingOccurrences(of: "%", with: "%%") + "/" + name
            return
        }
        var st = stat()
        if stat(path, &st) == 0 {
            let type = st.st_mode & S_IFMT
            if type == S_IFDIR {
                throw FrameIOError.unwritable(path: path, reason: "it is a directory; give a file name")
            }
            if type == S_IFCHR || type == S_IFIFO || type == S_IFSOCK {
                kind = .device
                ffmpegURL = "file:" + path
                tempPath = nil
                return
            }
        }
        guard access(dir, W_OK) == 0 else {
            throw FrameIOError.unwritable(path: path, reason: "no permission to write in \(dir)")
        }
        let temp = AtomicFile.temporaryPath(for: path)
        kind = .file
        tempPath = temp
        ffmpegURL = "file:" + temp
    }

    /// True when `name` holds a printf frame number FFmpeg's image2 muxer expands (`%d`, `%04d`).
    static func hasFrameNumber(_ name: String) -> Bool {
        name.range(of: "%[0-9]*d", options: .regularExpression) != nil
    }

    /// Whether FFmpeg can seek in the output (MP4/MOV need fragments when it cannot).
    var seekable: Bool { kind == .file || kind == .sequence }

    /// Moves the finished output onto the target; returns the bytes it holds.
    func commit() throws -> Int64 {
        let fm = FileManager.default
        switch kind {
        case .stdout, .device:
            return 0
        case .file:
            guard let temp = tempPath else { return 0 }
            try writingAtomically { try AtomicFile.commit(temp, to: path) }
            return Self.fileSize(path)
        case .sequence:
            guard let temp = tempPath else { return 0 }
            let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
            var total: Int64 = 0
            let names = ((try? fm.contentsOfDirectory(atPath: temp)) ?? []).sorted()
            for name in names {
                let from = (temp as NSString).appendingPathComponent(name)
                let to = (dir as NSString).appendingPathComponent(name)
                total += Self.fileSize(from)
                if rename(from, to) != 0 {
                    let reason = String(cString: strerror(errno))
                    throw FrameIOError.unwritable(path: to, reason: "moving the finished image failed: \(reason)")
                }
            }
            try? fm.removeItem(atPath: temp)
            AtomicFile.syncFolder(of: path)
            return total
        }
    }

    /// Size of a file in bytes (0 when it cannot be read).
    static func fileSize(_ path: String) -> Int64 {
        var st = stat()
        return stat(path, &st) == 0 ? Int64(st.st_size) : 0
    }

    /// Removes the temp file or directory (after an error or `cancel()`).
    func discard() {
        if let temp = tempPath { try? FileManager.default.removeItem(atPath: temp) }
    }
}
