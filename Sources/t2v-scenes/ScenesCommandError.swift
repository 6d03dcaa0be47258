import Foundation

/// A runtime failure of `t2v-scenes`, with a message a user can act on (what failed, which
/// file, what to do). Exits 1.
struct ScenesCommandError: LocalizedError, CustomStringConvertible {
    /// The full message.
    let message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
    var errorDescription: String? { message }
}
