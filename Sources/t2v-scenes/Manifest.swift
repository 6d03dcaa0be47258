import Foundation

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
    /// `ScenesCommandError` for a file that is not a manifest.
    static func read(_ url: URL) throws -> [Row] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ScenesCommandError("\(url.path): cannot read the existing manifest (\(error.localizedDescription)). Remove it to start a new one.")
        }
        let records = parseCSV(text)
        guard let first = records.first, first.joined(separator: ",") == header else {
            throw ScenesCommandError("\(url.path): not a t2v-scenes manifest (expected the header '\(header)'). Move it away or choose another output folder.")
        }
        var rows: [Row] = []
        for (i, r) in records.dropFirst().enumerated() {
            guard r.count == 5, let seed = UInt64(r[3]) else {
                throw ScenesCommandError("\(url.path): line \(i + 2) is malformed (expected 5 fields with a numeric seed). Remove the file to rebuild it.")
            }
            rows.append(Row(path: r[0], caption: r[1], family: r[2], seed: seed, split: r[4]))
        }
        return rows
    }

    /// The manifest text for `rows`.
    static func format(_ rows: [Row]) -> String {
        var out = header + "\n"
        for r in rows {
            out += [r.path, r.caption, r.family, String(r.seed), r.split].map(quote).joined(separator: ",") + "\n"
        }
        return out
    }

    static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Splits CSV text into records of fields (RFC 4180 quoting; blank lines skipped).
    static func parseCSV(_ text: String) -> [[String]] {
        var records: [[String]] = [], fields: [String] = [], field = ""
        var quoted = false, pendingQuote = false
        for ch in text {
            if quoted {
                if pendingQuote {
                    pendingQuote = false
                    if ch == "\"" { field.append("\""); continue }
                    quoted = false
                } else if ch == "\"" {
                    pendingQuote = true
                    continue
                } else {
                    field.append(ch)
                    continue
                }
            }
            switch ch {
            case "\"" where field.isEmpty: quoted = true
            case ",": fields.append(field); field = ""
            case "\n", "\r\n", "\r":
                fields.append(field); field = ""
                if !(fields.count == 1 && fields[0].isEmpty) { records.append(fields) }
                fields = []
            default: field.append(ch)
            }
        }
        if !field.isEmpty || !fields.isEmpty {
            fields.append(field)
            records.append(fields)
        }
        return records
    }
}

/// Writes `data` to `url` through a temporary file in the same folder and a rename, so readers
/// never see a partial file. Throws `ScenesCommandError` naming the file.
func writeAtomically(_ data: Data, to url: URL) throws {
    let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
    do {
        try data.write(to: tmp)
        try moveReplacing(tmp, url)
    } catch let error as ScenesCommandError {
        throw error
    } catch {
        try? FileManager.default.removeItem(at: tmp)
        throw ScenesCommandError("\(url.path): cannot write (\(error.localizedDescription)). Check that the folder exists and is writable.")
    }
}

/// Renames `from` onto `to`, replacing `to` (POSIX rename: atomic within a file system).
func moveReplacing(_ from: URL, _ to: URL) throws {
    if rename(from.path, to.path) != 0 {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: from)
        throw ScenesCommandError("\(to.path): cannot move the finished file into place (\(reason)).")
    }
}
