import Foundation

/// A runtime failure the user can act on: what failed, which file, and what to do.
/// Exits with status 1 (usage errors are ArgumentParser's ValidationError, status 2).
struct CommandError: LocalizedError, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var errorDescription: String? { message }
    var description: String { message }
}

extension CommandError {
    /// A library error's own message (`LocalizedError.errorDescription`), not its Swift case name.
    static func text(_ error: Error) -> String {
        if let e = error as? LocalizedError, let d = e.errorDescription { return d }
        return "\(error)"
    }
}
