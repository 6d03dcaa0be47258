import Foundation

/// A runtime failure of a command-line tool (`t2v-render`, `t2v-scenes`) the user can act on:
/// what failed, which file, and what to do. The tools exit with status 1 (usage errors are
/// ArgumentParser's ValidationError, status 2).
public struct CommandError: LocalizedError, CustomStringConvertible {
    /// The full message.
    public let message: String
    public init(_ message: String) { self.message = message }
    public var errorDescription: String? { message }
    public var description: String { message }
}

extension CommandError {
    /// A library error's own message (`LocalizedError.errorDescription`), not its Swift case name.
    public static func text(_ error: Error) -> String {
        if let e = error as? LocalizedError, let d = e.errorDescription { return d }
        return "\(error)"
    }
}
