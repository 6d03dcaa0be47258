import AtomicFiles
import Foundation
import Renderer
import FrameIO

/// `manifest.csv` of a corpus folder: one row per clip, `path,caption,family,seed,split`, with
/// `path` relative to the folder. Fields are quoted per RFC 4180 when they hold a comma, quote
/// or line break.
struct Manifest {
    /// One clip's row.
    struct Row: Equatable {
        var path, caption, family: String
        var seed: UInt64
        var split: String
    }

    static let header = "path,caption,family,seed,split"

    /// Reads the rows of an existing manifest; a missing file gives no rows. Throws
    /// `CommandError` for a file that is not a manifest.
    static func read(_ url: URL) throws -> [Row] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw CommandError("\(url.path): cannot read the existing manifest (\(error.localizedDescription)). Remove it to start a new one.")
        }
        let records = CSV.parse(text).filter { !($0.count == 1 && $0[0].isEmpty) }
        guard let first = records.first, first.joined(separator: ",") == header else {
            throw CommandError("\(url.path): not a t2v-scenes manifest (expected the header '\(header)'). Move it away or choose another output folder.")
        }
        var rows: [Row] = []
        for (i, r) in records.dropFirst().enumerated() {
            guard r.count == 5, let seed = UInt64(r[3]) else {
                throw CommandError("\(url.path): line \(i + 2) is malformed (expected 5 fields with a numeric seed). Remove the file to rebuild it.")
            }
            rows.append(Row(path: r[0], caption: r[1], family: r[2], seed: seed, split: r[4]))
        }
        return rows
    }

    /// The manifest text for `rows`.
    static func format(_ rows: [Row]) -> String {
        var out = header + "\n"
        for r in rows {
            out += [r.path, r.caption, r.family, String(r.seed), r.split].map(CSV.quote).joined(separator: ",") + "\n"
        }
        return out
    }
}

/// Writes `data` to `url` atomically (`AtomicFile`: readers never see a partial file). Throws
/// `CommandError` naming the file.
func writeAtomically(_ data: Data, to url: URL) throws {
    do { try AtomicFile.write(data, to: url.path) } catch {
        throw CommandError("\(url.path): cannot write (\(error.localizedDescription)). Check that the folder exists and is writable.")
    }
}
